#!/usr/bin/env bash
# Live streams cost a socket and a buffer, not a thread: 1,000 open inbox streams (the admin
# pages' Server-Sent Events) held against a host with server.threads: 8, then signed webhook
# POSTs with wrk. Prints the host's resident memory before and with the streams, and the webhook
# ack latency (wrk's p50/p99) without and with them, on the same host process.
#
#   TAWASUL_WORKERS=0 bench/streams.sh [STREAMS] [SECONDS] [CONNECTIONS]
#
# Needs wrk and python3 (the stream holder below) and a dev build (scripts/dev setup).
set -euo pipefail
cd "$(dirname "$0")/.."
streams=${1:-1000}
seconds=${2:-10}
connections=${3:-64}
source bench/webhook_host.sh
bench_config -e "s#^  threads: 16 .*#  threads: 8\n  max_connections_per_address: 4096#" -e "s#password_cost: moderate#password_cost: interactive#"
grep -q "threads: 8" "$work/tawasul.yaml" || { echo "bench/streams.sh: config/tawasul.yaml no longer has the server.threads line this script edits" >&2; exit 1; }
add_admin() {
    printf 'bench password 1\n' | "$bin" --config "$work/tawasul.yaml" user add --email bench@example.test --name Bench --role admin --password-stdin >/dev/null
}
bench_serve 127.0.0.1:18285 add_admin
url=http://$TAWASUL_LISTEN

# Sign in as a browser does: the login form's double-submit token, then the session cookie.
curl -fs -c "$work/jar" -o /dev/null "$url/admin/login"
csrf=$(awk '$6 == "tawasul_login_csrf" { print $7 }' "$work/jar")
curl -fs -b "$work/jar" -c "$work/jar" -o /dev/null --data-urlencode "_csrf=$csrf" --data-urlencode "email=bench@example.test" \
    --data-urlencode "password=bench password 1" --data-urlencode "next=/admin" "$url/admin/login"
session=$(awk '$6 == "tawasul_session" { print $7 }' "$work/jar")
[ -n "$session" ] || { echo "bench/streams.sh: could not sign in" >&2; exit 1; }

rss() { awk '/^VmRSS/ { print $2 " kB" }' "/proc/$host/status"; }
ack() {
    wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "$url/webhooks/whatsapp" | grep -E "^Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors"
}
echo "== host resident memory, idle: $(rss)"
echo "== signed webhook POSTs without streams, ${connections} connections, ${seconds}s"
ack

# Holds STREAMS event streams open and reads whatever comes; prints "open N" once every one has its head.
cat >"$work/hold.py" <<'PY'
import selectors, socket, sys
host, port, cookie, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
request = ("GET /admin/messaging/whatsapp/live HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n"
           "Cookie: tawasul_session=%s\r\n\r\n" % cookie).encode()
sel = selectors.DefaultSelector()
opened = 0
for _ in range(count):
    s = socket.create_connection((host, port))
    s.sendall(request)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, [b""])
while True:
    for key, _ in sel.select():
        data = key.fileobj.recv(65536)
        if not data:
            print("a stream closed", flush=True); sys.exit(1)
        if key.data[0] is not None:
            key.data[0] += data
            if b"\r\n\r\n" in key.data[0]:
                if not key.data[0].startswith(b"HTTP/1.1 200"):
                    print("refused: " + key.data[0][:80].decode(errors="replace"), flush=True); sys.exit(1)
                key.data[0] = None
                opened += 1
                if opened == count:
                    print("open %d" % opened, flush=True)
PY
: >"$work/hold.log"  # before the wait below reads it (the background redirect may come later)
python3 "$work/hold.py" 127.0.0.1 18285 "$session" "$streams" >"$work/hold.log" 2>&1 &
pids+=($!)
until grep -q "^open\|closed\|refused\|Error" "$work/hold.log"; do sleep 0.1; done
grep -q "^open" "$work/hold.log" || { cat "$work/hold.log" >&2; exit 1; }
echo "== $streams live streams open; host resident memory: $(rss), threads: $(ls /proc/$host/task | wc -l)"
echo "== signed webhook POSTs with $streams streams open, ${connections} connections, ${seconds}s"
ack
echo "== host resident memory after: $(rss)"
