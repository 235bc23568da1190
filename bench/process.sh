#!/usr/bin/env bash
# Processing throughput: stored webhook events → committed timeline rows.
#
#   bench/process.sh [--senders new|repeat] [--engine sqlite|postgres] [--workers N]
#                    [--events N] [--contacts N]
#
# Stores EVENTS signed webhooks with the workers off (ingest only, through the host), seeds
# PLATFORM_CONTACTS registrations to match against and indexes them, then starts the host with
# WORKERS workers and times until every event is processed. Prints events/s.
#
# The flood is what Meta sends during a campaign: of every 20 POSTs, 13 are new inbound texts
# (`--senders new`: every one from a sender never seen, a new contact each; `repeat`: 1,000 people
# writing again and again), 4 are redeliveries of a text already posted (same wamid, same bytes),
# 2 are status updates (delivered, read) for outbound messages the host sent earlier, and 1 is a
# status for a message the host does not know yet (kept until the message appears). One text in
# ten asks for a quote (a B2B lead), one in five is a registration (a tag); every third new sender
# is a platform record (a match).
#
# --engine postgres starts a throwaway server with scripts/postgres under /tmp and stops it after.
set -euo pipefail
cd "$(dirname "$0")/.."
senders=new engine=sqlite workers=4 events=20000 contacts=100000
while [[ $# -gt 0 ]]; do
    case $1 in
        --senders) senders=$2; shift 2 ;;
        --engine) engine=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --events) events=$2; shift 2 ;;
        --contacts) contacts=$2; shift 2 ;;
        *) echo "bench/process.sh: unknown argument '$1' (see the header of this script)" >&2; exit 2 ;;
    esac
done
[[ $senders == new || $senders == repeat ]] || { echo "bench/process.sh: --senders is new or repeat" >&2; exit 2; }
[[ $engine == sqlite || $engine == postgres ]] || { echo "bench/process.sh: --engine is sqlite or postgres" >&2; exit 2; }
# TAWASUL_BENCH_BUILD: another build's bin/, lib/ and plugins/ (to measure an older version the same way).
build=${TAWASUL_BENCH_BUILD:-$PWD/build/dev}
bin=$build/bin/tawasul
export LD_LIBRARY_PATH=$build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
work=$(mktemp -d /tmp/tawasul-bench.XXXXXX)
chmod 755 "$work"
pid=
cleanup() {
    [[ -z $pid ]] || kill "$pid" 2>/dev/null || true
    wait 2>/dev/null || true
    cp "$work/host.log" /tmp/tawasul-process-host.log 2>/dev/null || true
    if [[ $engine == postgres ]]; then
        cp "$work/pg/server.log" /tmp/tawasul-process-pg.log 2>/dev/null || true
        scripts/postgres stop "$work/pg" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

if [[ $engine == postgres ]]; then
    url=$(scripts/postgres start "$work/pg")
    sql() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$url" -c "$1"; }
else
    url="sqlite:$work/tawasul.db"
    sql() { sqlite3 "$work/tawasul.db" "$1"; }
fi
sed -e "s#\${TAWASUL_DATABASE_URL:-sqlite:var/tawasul.db}#$url#" -e "s#var/master.key#$work/master.key#" \
    -e "s#level: information#level: warning#" -e "s#build/dev/plugins#$build/plugins#" \
    -e "s#migrations_dir: \"migrations\"#migrations_dir: \"$PWD/migrations\"#" -e "s#web_dir: \"host\"#web_dir: \"$PWD/host\"#" config/tawasul.yaml >"$work/tawasul.yaml"
grep -q "$url" "$work/tawasul.yaml" || { echo "bench/process.sh: config/tawasul.yaml no longer has the database line this script edits" >&2; exit 1; }
tw() { "$bin" --config "$work/tawasul.yaml" "$@"; }
export TAWASUL_LISTEN=127.0.0.1:18383
tw migrate >/dev/null
tw settings set whatsapp.cloud.app_secret bench-secret >/dev/null

# Platform records (phones in mixed national and international forms) and the outbound messages
# the statuses refer to, as one SQL script for either engine.
python3 - "$contacts" "$events" >"$work/seed.sql" <<'PY'
import sys
n, events = int(sys.argv[1]), int(sys.argv[2])
print("BEGIN;")
for first in range(0, n, 1000):
    rows = []
    for i in range(first, min(n, first + 1000)):
        phone = ("0%d" % (660000000 + i)) if i % 2 else ("+213 %d" % (660000000 + i))
        rows.append("('Learner %d', '%s', 'Programme', 1)" % (i, phone))
    print("INSERT INTO registrations (full_name, phone, programme, created_at) VALUES %s;" % ", ".join(rows))
print("INSERT INTO whatsapp_contacts (phone_number_id, wa_id, phone_e164, created_at, updated_at) "
      "VALUES ('106540352242922', '213550000000', '+213550000000', 1, 1);")
print("INSERT INTO whatsapp_conversations (contact_id, status, last_message_at, unread_count, created_at, updated_at) "
      "SELECT id, 'open', 1, 0, 1, 1 FROM whatsapp_contacts;")
outbound = events // 10 + 1
for first in range(0, outbound, 1000):
    rows = ["((SELECT MIN(id) FROM whatsapp_conversations), 'out', 'wamid.OUT%d', 'text', 'sent', 'sent', 'cloud_api', 1, 1)" % k
            for k in range(first, min(outbound, first + 1000))]
    print("INSERT INTO whatsapp_messages (conversation_id, direction, wa_message_id, type, body, status, provider, created_at, updated_at) VALUES %s;" % ", ".join(rows))
print("COMMIT;")
PY
if [[ $engine == postgres ]]; then psql -X -q -v ON_ERROR_STOP=1 "$url" -f "$work/seed.sql" >/dev/null; else sqlite3 "$work/tawasul.db" <"$work/seed.sql"; fi
start=$(date +%s.%N)
tw contacts reindex >/dev/null 2>&1
echo "indexed $contacts platform records in $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s"

TAWASUL_WORKERS=0 "$bin" --config "$work/tawasul.yaml" serve 2>"$work/host.log" &
pid=$!
until curl -fs -o /dev/null "http://$TAWASUL_LISTEN/readyz"; do sleep 0.01; done
start=$(date +%s.%N)
python3 bench/flood.py --events "$events" --senders "$senders" --post "$TAWASUL_LISTEN" --secret bench-secret
echo "stored $events webhooks (workers off) in $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s"
kill "$pid"; wait "$pid" || true; pid=

# CPU time the host spent (user + system, from /proc), besides the wall clock: on a machine shared
# with other work, events per CPU second say what the code costs, events/s what the machine gave.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# TAWASUL_BENCH_PERF=FILE: a CPU profile of the host while it processes (perf record -g, every
# thread; startup included), to read with `perf report -i FILE`.
profile=()
[[ -n ${TAWASUL_BENCH_PERF:-} ]] && profile=(perf record -e cpu-clock --call-graph dwarf,32768 -q -o "$TAWASUL_BENCH_PERF" --)
TAWASUL_WORKERS=$workers "${profile[@]}" "$bin" --config "$work/tawasul.yaml" serve 2>>"$work/host.log" &
pid=$!
if [[ ${#profile[@]} -gt 0 ]]; then  # the host is perf's child; perf ends with it
    until host=$(pgrep -P "$pid" -x tawasul); do sleep 0.01; done
    pid=$host
fi
start=$(date +%s.%N)
cpu_start=$(cpu "$pid")
while :; do
    left=$(sql "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status IN ('pending', 'processing')")
    [[ $left == 0 ]] && break
    sleep 0.05
done
end=$(date +%s.%N)
cpu_end=$(cpu "$pid")
load=$(cut -d' ' -f1 /proc/loadavg)
failed=$(sql "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status = 'failed'")
messages=$(sql "SELECT COUNT(*) FROM whatsapp_messages WHERE direction = 'in'")
contacts_made=$(sql "SELECT COUNT(*) FROM whatsapp_contacts")
matched=$(sql "SELECT COUNT(*) FROM whatsapp_contacts WHERE matched_type IS NOT NULL")
statuses=$(sql "SELECT COUNT(*) FROM whatsapp_message_statuses")
leads=$(sql "SELECT COUNT(*) FROM b2b_leads")
deadlocks=0
[[ $engine == postgres ]] && deadlocks=$(grep -c "deadlock detected" "$work/pg/server.log" || true)
python3 -c "s=$end-$start; c=$cpu_end-$cpu_start; print(f'$engine, $senders senders, $workers workers: processed $events events in {s:.2f} s: {$events/s:.0f} events/s; host CPU {c:.2f} s: {$events/max(c, 0.001):.0f} events per CPU second; load average $load')"
echo "  $messages inbound messages, $contacts_made contacts ($matched matched), $statuses statuses, $leads leads, $failed failed events, $deadlocks deadlocks in the server log"
