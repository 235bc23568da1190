#!/usr/bin/env bash
# Inbox list server time at scale, on the embedded default (SQLite).
#
#   bench/inbox.sh [CONVERSATIONS] [MESSAGES_PER_CONVERSATION] [REQUESTS]
#
# Seeds CONVERSATIONS contacts and conversations (default 100,000) with MESSAGES_PER_CONVERSATION
# messages each (default 10: 1,000,000 messages) in bulk SQL, signs in as an admin, then requests
# the inbox page REQUESTS times (default 200) for each view below with curl, one request at a time,
# and reports the median and p99 of the server time (the duration the host's access log gives each
# request) and the median of curl's total. Not a test: it asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
conversations=${1:-100000}
per=${2:-10}
requests=${3:-200}
bin=$PWD/build/dev/bin/tawasul
[[ -x $bin ]] || { echo "bench/inbox.sh: build first (scripts/dev setup)" >&2; exit 2; }
work=$(mktemp -d /tmp/tawasul-bench.XXXXXX)
pid=
cleanup() { [[ -z $pid ]] || kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; cp "$work/host.log" /tmp/tawasul-inbox-host.log 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

sed -e "s#sqlite:var/tawasul.db#sqlite:$work/tawasul.db#" -e "s#var/master.key#$work/master.key#" \
    -e "s#build/dev/plugins#$PWD/build/dev/plugins#" \
    -e "s#migrations_dir: \"migrations\"#migrations_dir: \"$PWD/migrations\"#" config/tawasul.yaml >"$work/tawasul.yaml"
tw() { "$bin" --config "$work/tawasul.yaml" "$@"; }
# A free port, so that a host left over from elsewhere cannot answer in ours' stead.
TAWASUL_LISTEN=127.0.0.1:$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export TAWASUL_LISTEN
tw migrate >/dev/null
echo "bench-password-1234" | tw user add --email bench@example.test --name "Bench Admin" --role admin --password-stdin >/dev/null

start=$(date +%s.%N)
# Conversations over the last 30 days, most recent first in id order reversed; a fifth assigned to
# the bench admin, intents on a third, statuses 70% open / 10% pending / 20% resolved, unread
# messages in the 300 most recent (as in a worked inbox: what is unread is what just arrived).
sqlite3 "$work/tawasul.db" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $conversations)
INSERT INTO whatsapp_contacts (id, phone_number_id, wa_id, phone_e164, profile_name, created_at, updated_at)
SELECT i, '100000000000001', '21355' || printf('%07d', i), '+21355' || printf('%07d', i), 'Contact ' || i, 1761000000000, 1761000000000 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $conversations)
INSERT INTO whatsapp_conversations (id, contact_id, status, assigned_user_id, intent, last_inbound_at, last_message_at, unread_count, created_at, updated_at)
SELECT i, i,
       CASE WHEN i % 10 < 7 THEN 'open' WHEN i % 10 = 7 THEN 'pending' ELSE 'resolved' END,
       CASE WHEN i % 5 = 0 THEN (SELECT id FROM users WHERE email = 'bench@example.test') END,
       CASE i % 6 WHEN 0 THEN 'b2b' WHEN 1 THEN 'registration' END,
       1761000000000 + i * 25000, 1761000000000 + i * 25000 + (i % 7) * 1000,
       CASE WHEN i > $conversations - 300 THEN i % 4 ELSE 0 END, 1761000000000, 1761000000000 FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $conversations * $per - 1)
INSERT INTO whatsapp_messages (conversation_id, direction, wa_message_id, type, body, status, created_at, updated_at)
SELECT i / $per + 1, CASE WHEN i % 2 = 0 THEN 'in' ELSE 'out' END, 'wamid.B' || i, 'text',
       'Message ' || i || ' : bonjour, je voudrais des informations sur la formation',
       CASE WHEN i % 2 = 0 THEN 'received' ELSE 'delivered' END,
       1761000000000 + (i / $per + 1) * 25000 - ($per - i % $per) * 100, 1761000000000 FROM n;
COMMIT;
ANALYZE;
SQL
echo "seeded $conversations conversations and $((conversations * per)) messages in $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s"

# The binary itself, not the tw function: $! must be the host's pid for the clean-up to stop it.
"$bin" --config "$work/tawasul.yaml" serve 2>"$work/host.log" &
pid=$!
until curl -fs -o /dev/null "http://$TAWASUL_LISTEN/readyz"; do sleep 0.05; done

# Sign in as a browser does: the form's token must match its cookie.
jar=$work/cookies
form=$(curl -fs -c "$jar" -b "$jar" "http://$TAWASUL_LISTEN/admin/login")
token=$(sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' <<<"$form" | head -n 1)
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" --data-urlencode "_csrf=$token" \
    --data-urlencode "email=bench@example.test" --data-urlencode "password=bench-password-1234" "http://$TAWASUL_LISTEN/admin/login")
[[ $code == 303 ]] || { echo "bench/inbox.sh: sign-in answered $code" >&2; exit 1; }

base=http://$TAWASUL_LISTEN/admin/messaging/whatsapp/inbox
# The second page starts after a cursor taken from the first.
next=$(curl -fs -b "$jar" "$base" | sed -n 's/.*rel="next" href="\([^"]*\)".*/\1/p' | head -n 1 | sed 's/&amp;/\&/g')
views=(
    "all, first page|$base"
    "all, second page (keyset)|http://$TAWASUL_LISTEN$next"
    "open|$base?status=open"
    "mine|$base?owner=mine"
    "open + unassigned|$base?status=open&owner=unassigned"
    "intent b2b|$base?intent=b2b"
    "search by phone (0550 01 23 45)|$base?q=0550+01+23+45"
    "search by partial phone (01 23 45)|$base?q=01+23+45"
    "search by name (Contact 99999)|$base?q=Contact+99999"
)
printf '%-36s %10s %10s %10s %8s\n' view server_p50 server_p99 client_p50 bytes
for view in "${views[@]}"; do
    label=${view%%|*}
    url=${view#*|}
    curl -fs -o /dev/null -b "$jar" "$url"  # warm
    sleep 0.2
    before=$(wc -l <"$work/host.log")
    for ((i = 0; i < requests; i++)); do
        curl -s -o /dev/null -b "$jar" -w '%{time_total} %{size_download} %{http_code}\n' "$url"
    done >"$work/client.txt"
    sleep 0.2
    # Server time is what the host's access log says it spent on each request (handler and
    # rendering, from the parsed request to the last byte handed to the socket).
    tail -n +"$((before + 1))" "$work/host.log" | grep 'http.access' | grep ' owner=admin_inbox' >"$work/server.txt" || true
    LABEL=$label python3 - "$work/client.txt" "$work/server.txt" <<'PY'
import os, re, sys
label = os.environ["LABEL"]
client = [line.split() for line in open(sys.argv[1]) if line.strip()]
bad = [r for r in client if r[2] != "200"]
if bad:
    sys.exit("%s: %d of %d requests answered %s" % (label, len(bad), len(client), sorted(set(r[2] for r in bad))))
server = sorted(float(m.group(1)) for m in (re.search(r" ([0-9.]+)ms rid=", l) for l in open(sys.argv[2])) if m)
if len(server) != len(client):
    sys.exit("%s: %d requests, %d access log lines" % (label, len(client), len(server)))
total = sorted(float(r[0]) * 1000 for r in client)
pick = lambda xs, q: xs[min(len(xs) - 1, int(len(xs) * q))]
print("%-36s %10.2f %10.2f %10.2f %8s" % (label, pick(server, 0.5), pick(server, 0.99), pick(total, 0.5), client[-1][1]))
PY
done
