#!/usr/bin/env bash
# Webhook ingest: signed POSTs to /webhooks/whatsapp at 64 connections, every 200 durable
# (SQLite, synchronous=FULL), through the host's one HTTP server on server.listen, beside nginx
# answering a static 200 on the same machine in the same run: the ceiling for HTTP here.
#
#   TAWASUL_WORKERS=0 bench/ingest.sh [SECONDS] [CONNECTIONS]     # workers off: ingest alone
#
# Needs wrk and nginx-light (Debian packages) and a dev build (scripts/dev setup).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
source bench/webhook_host.sh
bench_config
bench_serve 127.0.0.1:18282

cat >"$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work;
    server { listen 127.0.0.1:18283; location / { return 200 "ok\n"; } }
}
NGINX
nginx -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)
until curl -fs -o /dev/null http://127.0.0.1:18283/; do sleep 0.01; done

count() { sqlite3 "$work/tawasul.db" "SELECT COUNT(*) FROM whatsapp_webhook_events"; }
# The host's user + system CPU in clock ticks (1/100 s): its cost per event does not depend on
# how much of the machine the others (wrk, builds) take, which the rate does.
cpu() { awk '{ print $14 + $15 }' "/proc/$host/stat"; }
cpu_before=$(cpu)
echo "== tawasul: signed webhook POSTs, ${connections} connections, ${seconds}s"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "http://$TAWASUL_LISTEN/webhooks/whatsapp" | grep -E "^Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors"
stored=$(count)
echo "events stored: $stored; host CPU per event: $(( ($(cpu) - cpu_before) * 10000 / stored )) us"
curl -fs "http://$TAWASUL_LISTEN/metrics" | grep -E "^tawasul_webhook_commit_batch_size_(sum|count) " | tr '\n' ' ' | awk '{ printf "mean commit batch: %.1f events\n", $2 / $4 }'
echo "== nginx: static 200 for the same POSTs, ${connections} connections, ${seconds}s"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "http://127.0.0.1:18283/webhooks/whatsapp" | grep -E "^Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors"
