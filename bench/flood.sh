#!/usr/bin/env bash
# A mixed webhook flood with the workers on: what a campaign looks like to the host.
#
#   bench/flood.sh [--engine sqlite|postgres] [--workers N] [--seconds S] [--connections C] [--bodies N]
#
# The bodies are bench/flood.py's mix (new senders, redeliveries of the same wamid, statuses of
# earlier outbound messages, statuses before their message), N distinct ones that wrk's
# connections walk through (each connection from its own place). Two runs on fresh databases
# through the host server door: workers off (the door alone), then WORKERS workers processing what
# arrives. Each run prints wrk's requests/s, ack p50 and p99, and for the second how long the
# backlog took to drain once the load stopped.
#
# Needs wrk (Debian package) and a dev build (scripts/dev setup); --engine postgres starts a
# throwaway server with scripts/postgres under /tmp.
set -euo pipefail
cd "$(dirname "$0")/.."
engine=sqlite workers=4 seconds=8 connections=64 bodies=60000
while [[ $# -gt 0 ]]; do
    case $1 in
        --engine) engine=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --bodies) bodies=$2; shift 2 ;;
        *) echo "bench/flood.sh: unknown argument '$1' (see the header of this script)" >&2; exit 2 ;;
    esac
done
[[ $engine == sqlite || $engine == postgres ]] || { echo "bench/flood.sh: --engine is sqlite or postgres" >&2; exit 2; }
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
    cp "$work/host.log" /tmp/tawasul-flood-host.log 2>/dev/null || true
    if [[ -d $work/pg ]]; then
        cp "$work/pg/server.log" /tmp/tawasul-flood-pg.log 2>/dev/null || true
        scripts/postgres stop "$work/pg" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
secret=bench-app-secret
python3 bench/flood.py --events "$bodies" --senders new --secret "$secret" --wrk "$work/flood.lua"
export TAWASUL_LISTEN=127.0.0.1:18482

run() {  # run WORKERS: a fresh database, the flood, the drain
    local run_workers=$1 url
    if [[ $engine == postgres ]]; then
        scripts/postgres stop "$work/pg" >/dev/null 2>&1 || true
        url=$(scripts/postgres start "$work/pg")
        sql() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$url" -c "$1"; }
    else
        rm -f "$work"/tawasul.db*
        url="sqlite:$work/tawasul.db"
        sql() { sqlite3 "$work/tawasul.db" "$1"; }
    fi
    sed -e "s#\${TAWASUL_DATABASE_URL:-sqlite:var/tawasul.db}#$url#" -e "s#var/master.key#$work/master.key#" \
        -e "s#level: information#level: warning#" -e "s#build/dev/plugins#$build/plugins#" \
        -e "s#migrations_dir: \"migrations\"#migrations_dir: \"$PWD/migrations\"#" -e "s#web_dir: \"host\"#web_dir: \"$PWD/host\"#" \
        config/tawasul.yaml >"$work/tawasul.yaml"
    "$bin" --config "$work/tawasul.yaml" migrate >/dev/null
    printf '%s' "$secret" | "$bin" --config "$work/tawasul.yaml" settings set whatsapp.cloud.app_secret --stdin >/dev/null
    # The outbound messages the statuses refer to.
    python3 - "$bodies" >"$work/seed.sql" <<'PY'
import sys
outbound = int(sys.argv[1]) // 10 + 1
print("BEGIN;")
print("INSERT INTO whatsapp_contacts (phone_number_id, wa_id, phone_e164, created_at, updated_at) VALUES ('106540352242922', '213550000000', '+213550000000', 1, 1);")
print("INSERT INTO whatsapp_conversations (contact_id, status, last_message_at, unread_count, created_at, updated_at) SELECT id, 'open', 1, 0, 1, 1 FROM whatsapp_contacts;")
for first in range(0, outbound, 1000):
    rows = ["((SELECT MIN(id) FROM whatsapp_conversations), 'out', 'wamid.OUT%d', 'text', 'sent', 'sent', 'cloud_api', 1, 1)" % k
            for k in range(first, min(outbound, first + 1000))]
    print("INSERT INTO whatsapp_messages (conversation_id, direction, wa_message_id, type, body, status, provider, created_at, updated_at) VALUES %s;" % ", ".join(rows))
print("COMMIT;")
PY
    if [[ $engine == postgres ]]; then psql -X -q -v ON_ERROR_STOP=1 "$url" -f "$work/seed.sql" >/dev/null; else sqlite3 "$work/tawasul.db" <"$work/seed.sql"; fi
    TAWASUL_WORKERS=$run_workers "$bin" --config "$work/tawasul.yaml" serve 2>>"$work/host.log" &
    pid=$!
    until curl -fs -o /dev/null "http://$TAWASUL_LISTEN/readyz"; do sleep 0.01; done
    echo "== $engine, host server, ${run_workers} workers: mixed flood, ${connections} connections, ${seconds}s"
    wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/flood.lua" "http://$TAWASUL_LISTEN/webhooks/whatsapp" |
        grep -E "^Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors"
    local stopped left end
    stopped=$(date +%s.%N)
    left=$(sql "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status IN ('pending', 'processing')")
    if [[ $run_workers -gt 0 ]]; then
        while [[ $(sql "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status IN ('pending', 'processing')") != 0 ]]; do sleep 0.05; done
        end=$(date +%s.%N)
        python3 -c "print(f'backlog when the load stopped: $left events, drained in {$end - $stopped:.2f} s')"
        echo "events: $(sql "SELECT COUNT(*) FROM whatsapp_webhook_events") stored, $(sql "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status = 'failed'") failed"
    fi
    kill "$pid"; wait "$pid" || true; pid=
}
run 0
run "$workers"
