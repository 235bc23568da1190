#!/usr/bin/env bash
# Processing throughput: stored webhook events → committed timeline rows, on the embedded default.
#
#   bench/process.sh [EVENTS] [PLATFORM_CONTACTS] [WORKERS]
#
# Stores EVENTS signed inbound messages from 1,000 senders with the workers off (ingest only), seeds
# PLATFORM_CONTACTS registrations to match against and indexes them, then starts the host with
# WORKERS workers and times until every event is processed. Prints events/s.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-20000}
contacts=${2:-100000}
workers=${3:-4}
bin=$PWD/build/dev/bin/tawasul
work=$(mktemp -d /tmp/tawasul-bench.XXXXXX)
pid=
cleanup() { [[ -z $pid ]] || kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; cp "$work/host.log" /tmp/tawasul-process-host.log 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

sed -e "s#sqlite:var/tawasul.db#sqlite:$work/tawasul.db#" -e "s#var/master.key#$work/master.key#" \
    -e "s#level: information#level: warning#" -e "s#build/dev/plugins#$PWD/build/dev/plugins#" \
    -e "s#migrations_dir: \"migrations\"#migrations_dir: \"$PWD/migrations\"#" -e "s#web_dir: \"host\"#web_dir: \"$PWD/host\"#" config/tawasul.yaml >"$work/tawasul.yaml"
tw() { "$bin" --config "$work/tawasul.yaml" "$@"; }
export TAWASUL_LISTEN=127.0.0.1:18383
tw migrate >/dev/null
tw settings set whatsapp.cloud.app_secret bench-secret >/dev/null

# Platform records: phones in mixed national and international forms.
python3 - "$work/tawasul.db" "$contacts" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); n = int(sys.argv[2])
rows = (("Learner %d" % i, ("0%d" % (550000000 + i)) if i % 2 else ("+213 %d" % (550000000 + i)), "Programme", 1) for i in range(n))
db.executemany("INSERT INTO registrations (full_name, phone, programme, created_at) VALUES (?, ?, ?, ?)", rows)
db.commit()
PY
start=$(date +%s.%N)
tw contacts reindex >/dev/null 2>&1
echo "indexed $contacts platform records in $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s"

TAWASUL_WORKERS=0 "$bin" --config "$work/tawasul.yaml" serve 2>"$work/host.log" &
pid=$!
until curl -fs -o /dev/null "http://$TAWASUL_LISTEN/readyz"; do sleep 0.01; done
python3 - "$events" "$TAWASUL_LISTEN" <<'PY'
import hashlib, hmac, http.client, json, sys, threading
n = int(sys.argv[1]); host, port = sys.argv[2].split(":")
def body(i):
    sender = "213%d" % (550000000 + (i * 7919) % 1000)
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "213550000001", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Sender"}, "wa_id": sender}],
        "messages": [{"from": sender, "id": "wamid.P%d" % i, "timestamp": str(1764064860 + i), "type": "text",
                      "text": {"body": "devis pour nos employés" if i % 10 == 0 else "Bonjour, je voudrais m'inscrire"}}]}}]}]}).encode()
def client(k):
    c = http.client.HTTPConnection(host, int(port))
    for i in range(k, n, 8):
        b = body(i); sig = "sha256=" + hmac.new(b"bench-secret", b, hashlib.sha256).hexdigest()
        c.request("POST", "/webhooks/whatsapp", b, {"X-Hub-Signature-256": sig}); r = c.getresponse(); r.read()
        assert r.status == 200, r.status
threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
PY
kill "$pid"; wait "$pid" || true; pid=

TAWASUL_WORKERS=$workers "$bin" --config "$work/tawasul.yaml" serve 2>>"$work/host.log" &
pid=$!
start=$(date +%s.%N)
while :; do
    left=$(sqlite3 "$work/tawasul.db" "SELECT COUNT(*) FROM whatsapp_webhook_events WHERE status <> 'processed'")
    [[ $left == 0 ]] && break
    sleep 0.05
done
end=$(date +%s.%N)
messages=$(sqlite3 "$work/tawasul.db" "SELECT COUNT(*) FROM whatsapp_messages")
matched=$(sqlite3 "$work/tawasul.db" "SELECT COUNT(*) FROM whatsapp_contacts WHERE matched_type IS NOT NULL")
python3 -c "s=$end-$start; print(f'processed $events events ($messages messages, $matched matched contacts) with $workers workers in {s:.2f} s: {$events/s:.0f} events/s')"
