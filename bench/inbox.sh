#!/usr/bin/env bash
# Inbox list server time at scale, on the embedded default (SQLite).
#
#   bench/inbox.sh [CONVERSATIONS] [MESSAGES_PER_CONVERSATION] [REQUESTS]
#
# Seeds CONVERSATIONS contacts and conversations (default 100,000) with MESSAGES_PER_CONVERSATION
# messages each (default 10: 1,000,000 messages) in bulk SQL, signs in as an admin, then requests
# the inbox page REQUESTS times (default 200) for each view below with curl and reports the median
# and p99 of the server time: curl's time_starttransfer - time_pretransfer (request sent → first
# byte of the answer), so the connection set-up is not counted. Not a test: it asserts nothing.
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
    -e "s#level: information#level: warning#" -e "s#build/dev/plugins#$PWD/build/dev/plugins#" \
    -e "s#migrations_dir: \"migrations\"#migrations_dir: \"$PWD/migrations\"#" config/tawasul.yaml >"$work/tawasul.yaml"
tw() { "$bin" --config "$work/tawasul.yaml" "$@"; }
export TAWASUL_LISTEN=127.0.0.1:18384 TAWASUL_WORKERS=0
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

tw serve 2>"$work/host.log" &
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
printf '%-34s %10s %10s %8s\n' view median_ms p99_ms bytes
for view in "${views[@]}"; do
    label=${view%%|*}
    url=${view#*|}
    curl -fs -o /dev/null -b "$jar" "$url"  # warm
    for ((i = 0; i < requests; i++)); do
        curl -fs -o /dev/null -b "$jar" -w '%{time_pretransfer} %{time_starttransfer} %{size_download}\n' "$url"
    done | python3 -c "
import sys
rows = [line.split() for line in sys.stdin if line.strip()]
times = sorted((float(b) - float(a)) * 1000 for a, b, _ in rows)
median = times[len(times) // 2]
p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
print('%-34s %10.2f %10.2f %8s' % ('$label', median, p99, rows[-1][2]))
"
done
