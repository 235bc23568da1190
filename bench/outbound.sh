#!/usr/bin/env bash
# Outbound pacing: COUNT queued template sends drained through cloud_api to the fake Graph API at
# RATE messages/s configured, on the embedded default (SQLite), or with --hosts N on N hosts
# sharing a throwaway PostgreSQL server (scripts/postgres), which pace the one number together.
#
#   bench/outbound.sh [--hosts N] [RATE] [COUNT] [WORKERS]
#
# Queues COUNT sends through the dispatcher with the workers off (outbound_probe's /test/send-bulk:
# one dispatcher.send() per message, each its own durable transaction), then starts the host with
# WORKERS workers and waits until the fake received COUNT sends. Prints the fake's arrival
# statistics: the measured rate ((COUNT - 1) / (last arrival - first arrival)) and the most sends
# seen in any one-second window, and checks that every message ended `sent` exactly once. Also
# prints the slots the pacers let go for late senders (tawasul_cloud_api_late_send_slots_total), how
# late after their slots the senders were (tawasul_cloud_api_send_lateness_seconds), and
# the CPU time the hosts and the database server spent over the drain (from /proc), which says what
# a send costs on a machine too busy for the wall clock to say it.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=1
if [[ ${1:-} == --hosts ]]; then
    [[ ${2:-} =~ ^[1-9][0-9]?$ ]] || { echo "bench/outbound.sh: --hosts needs a number from 1 to 99" >&2; exit 2; }
    hosts=$2
    shift 2
fi
rate=${1:-80}
count=${2:-10000}
workers=${3:-4}
build=$PWD/build/dev
bin=$build/bin/tawasul
work=$(mktemp -d /tmp/tawasul-bench.XXXXXX)
pid=
pids=()
fake=
pg=
cleanup() {
    [[ -z $pid ]] || kill "$pid" 2>/dev/null || true
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [[ -z $fake ]] || kill "$fake" 2>/dev/null || true
    wait 2>/dev/null || true
    [[ -z $pg ]] || scripts/postgres stop "$pg" >/dev/null 2>&1 || true
    cp "$work/host.log" /tmp/tawasul-outbound-host.log 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Free loopback ports, so that other benchmarks running on the machine do not answer ours.
free_port() { python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
fake_port=$(free_port)
"$build/bin/fake_graph_api" "$fake_port" >"$work/fake.log" &
fake=$!
until grep -q listening "$work/fake.log" 2>/dev/null; do sleep 0.01; done

# The shipped config, with the plugin folder that also holds the outbound_probe test plugin.
sed -e "s#sqlite:var/tawasul.db#sqlite:$work/tawasul.db#" -e "s#var/master.key#$work/master.key#" \
    -e "s#level: information#level: warning#" -e "s#build/dev/plugins#$build/test-plugins#" \
    -e "s#migrations_dir: \"migrations\"#migrations_dir: \"$PWD/migrations\"#" \
    -e "s#graph_url: \"https://graph.facebook.com\"#graph_url: \"http://127.0.0.1:$fake_port\"#" \
    -e "s#messages_per_second: 80#messages_per_second: $rate#" \
    -e "s#    - admin_inbox: {}#    - admin_inbox: {}\n    - outbound_probe: {}#" config/tawasul.yaml >"$work/tawasul.yaml"
grep -q "127.0.0.1:$fake_port" "$work/tawasul.yaml" && grep -q outbound_probe "$work/tawasul.yaml"
if (( hosts > 1 )); then
    pg=/tmp/tawasul-bench-pg.$$
    url=$(scripts/postgres start "$pg" | tail -1)
    sed -i "s#sqlite:$work/tawasul.db#$url#" "$work/tawasul.yaml"
    grep -q "$url" "$work/tawasul.yaml"
fi
tw() { "$bin" --config "$work/tawasul.yaml" "$@"; }
export TAWASUL_LISTEN=127.0.0.1:$(free_port)
tw migrate >/dev/null
tw settings set whatsapp.cloud.access_token bench-token >/dev/null
tw settings set whatsapp.cloud.phone_number_id 100000000000001 >/dev/null

TAWASUL_WORKERS=0 "$bin" --config "$work/tawasul.yaml" serve 2>>"$work/host.log" &
pid=$!
until curl -fs -o /dev/null "http://$TAWASUL_LISTEN/readyz"; do sleep 0.01; done
start=$(date +%s.%N)
curl -fs -X POST "http://$TAWASUL_LISTEN/test/send-bulk" \
    -d "{\"count\":$count,\"phone_base\":213550000000,\"template\":{\"name\":\"bench\",\"language\":\"fr\"}}" >"$work/bulk.json"
echo "queued $(cat "$work/bulk.json") in $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s"
kill "$pid"; wait "$pid" || true; pid=

# CPU ticks (user + system) of the given processes, and of the database server's processes.
ticks() { local n=0 p; for p in "$@"; do [[ -r /proc/$p/stat ]] && n=$((n + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $n; }
pg_ticks() { [[ -n $pg ]] || { echo 0; return; }; local pm; pm=$(head -1 "$pg/data/postmaster.pid"); ticks "$pm" $(ps --ppid "$pm" -o pid=); }
pg_before=$(pg_ticks)
ports=()
for ((h = 0; h < hosts; h++)); do
    ports+=($(free_port))
    TAWASUL_LISTEN=127.0.0.1:${ports[h]} TAWASUL_WORKERS=$workers "$bin" --config "$work/tawasul.yaml" serve 2>>"$work/host.log" &
    pids+=($!)
done
start=$(date +%s.%N)
until [[ $(curl -fs "http://127.0.0.1:$fake_port/_stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['count'])") -ge $count ]]; do
    sleep 0.5
done
drained=$(python3 -c "print(round($(date +%s.%N) - $start, 2))")
host_ticks=$(ticks "${pids[@]}")
db_ticks=$(( $(pg_ticks) - pg_before ))
# Slots the pacers let go for new ones because their senders came too late, over the hosts.
metrics=$(for port in "${ports[@]}"; do curl -fs "http://127.0.0.1:$port/metrics"; done)
late=$(awk '/^tawasul_cloud_api_late_send_slots_total/ {n += $2} END {print n + 0}' <<<"$metrics")
# How long after their slots the senders were ready (woken, and answered on PostgreSQL): the share
# within each bound, over the hosts.
lateness=$(awk -F'[{}" ]+' '/^tawasul_cloud_api_send_lateness_seconds_bucket/ {n[$3] += $4} /^tawasul_cloud_api_send_lateness_seconds_count/ {all += $2}
    END {for (b in n) if (b != "+Inf") printf "%s %.2f\n", b, all ? 100 * n[b] / all : 0}' <<<"$metrics" | sort -g |
    awk '{printf "%s%g ms %s%%", (NR > 1 ? ", " : ""), $1 * 1000, $2}')
stats=$(curl -fs "http://127.0.0.1:$fake_port/_stats")
# Every message sent once: as many distinct wamids stored as messages, all 'sent'.
sleep 1
if (( hosts > 1 )); then
    check="($(psql -At -F ', ' "$url" -c "SELECT COUNT(*), SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), COUNT(DISTINCT wa_message_id) FROM whatsapp_messages"))"
else
check=$(python3 - "$work/tawasul.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT COUNT(*), SUM(status = 'sent'), COUNT(DISTINCT wa_message_id) FROM whatsapp_messages").fetchone())
PY
)
fi
python3 - "$stats" "$rate" "$count" "$workers" "$drained" "$check" "$hosts" "$late" "$host_ticks" "$db_ticks" "$(getconf CLK_TCK)" "$lateness" <<'PY'
import json, sys
s = json.loads(sys.argv[1]); rate = float(sys.argv[2])
host_cpu, db_cpu = int(sys.argv[9]) / int(sys.argv[11]), int(sys.argv[10]) / int(sys.argv[11])
print("%s host(s), configured %s/s, %s sends, %s workers each: measured %.3f/s (%.2f%% of configured), most in one second %d, "
      "span %.2f s (longest pause %.1f ms, %.0f ms lost in pauses over 5 ms), drained in %s s; messages (total, sent, distinct wamids) = %s; late slots let go %s; "
      "ready after their slots within %s; CPU over the drain: hosts %.1f s, database server %.1f s (%.2f ms a send)"
      % (sys.argv[7], sys.argv[2], s["count"], sys.argv[4], s["rate"], 100 * s["rate"] / rate, s["max_in_one_second"], s["span_seconds"],
         s["longest_gap_ms"], s["paused_ms"], sys.argv[5], sys.argv[6], sys.argv[8], sys.argv[12], host_cpu, db_cpu, 1000 * (host_cpu + db_cpu) / s["count"]))
PY
