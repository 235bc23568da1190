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
bin=$PWD/build/dev/bin/tawasul
work=$(mktemp -d /tmp/tawasul-bench.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

secret=bench-app-secret
body=$work/body.json
# One inbound text message, shaped and escaped as Meta sends it.
printf '%s' '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"213550000001","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Amina"},"wa_id":"213661234567"}],"messages":[{"from":"213661234567","id":"wamid.BENCH0001","timestamp":"1764064860","type":"text","text":{"body":"Bonjour, je voudrais m\u0027inscrire"}}]}}]}]}' >"$body"
signature="sha256=$(openssl dgst -sha256 -hmac "$secret" -r "$body" | cut -d' ' -f1)"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Hub-Signature-256"] = "$signature"
local f = io.open("$body", "rb"); wrk.body = f:read("*a"); f:close()
LUA

sed -e "s#sqlite:var/tawasul.db#sqlite:$work/tawasul.db#" -e "s#var/master.key#$work/master.key#" \
    -e "s#level: information#level: warning#" -e "s#build/dev/plugins#$PWD/build/dev/plugins#" \
    -e "s#migrations_dir: \"migrations\"#migrations_dir: \"$PWD/migrations\"#" -e "s#web_dir: \"host\"#web_dir: \"$PWD/host\"#" \
    config/tawasul.yaml >"$work/tawasul.yaml"
export TAWASUL_LISTEN=127.0.0.1:18282
"$bin" --config "$work/tawasul.yaml" migrate >/dev/null
printf '%s' "$secret" | "$bin" --config "$work/tawasul.yaml" settings set whatsapp.cloud.app_secret --stdin >/dev/null
"$bin" --config "$work/tawasul.yaml" serve 2>"$work/host.log" &
pids+=($!)
until curl -fs -o /dev/null "http://$TAWASUL_LISTEN/readyz"; do sleep 0.01; done

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
echo "== tawasul: signed webhook POSTs, ${connections} connections, ${seconds}s"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "http://$TAWASUL_LISTEN/webhooks/whatsapp" | grep -E "^Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors"
echo "events stored: $(count)"
curl -fs "http://$TAWASUL_LISTEN/metrics" | grep -E "^tawasul_webhook_commit_batch_size_(sum|count) " | tr '\n' ' ' | awk '{ printf "mean commit batch: %.1f events\n", $2 / $4 }'
echo "== nginx: static 200 for the same POSTs, ${connections} connections, ${seconds}s"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "http://127.0.0.1:18283/webhooks/whatsapp" | grep -E "^Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors"
