#!/usr/bin/env python3
"""A realistic webhook flood, the same on every run (bench/process.sh, bench/ingest.sh).

Of every 20 bodies: 13 new inbound texts, 4 redeliveries of a text already in the flood (same
wamid, same bytes, as Meta retries), 2 statuses (delivered, read) of outbound messages wamid.OUT<n>
that the benchmark seeds, 1 status of a message nobody has stored yet (wamid.UNKNOWN<n>).
--senders new: every text from a sender never seen (one in three is a platform record,
registrations with phone 0660000000 + n); repeat: 1,000 senders, all platform records.

  flood.py --events N --senders new|repeat --post HOST:PORT --secret S   post them, 8 connections
  flood.py --events N --senders new|repeat --wrk FILE --secret S         a wrk Lua script that
                                                                         cycles through them
"""
import argparse
import hashlib
import hmac
import http.client
import json
import sys
import threading

BUSINESS = {"display_phone_number": "213550000001", "phone_number_id": "106540352242922"}


def envelope(value):
    value = dict({"messaging_product": "whatsapp", "metadata": BUSINESS}, **value)
    # Meta's escaping: ASCII only, "/" as "\/".
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]},
                      separators=(",", ":")).replace("/", "\\/").encode()


def text_body(t, senders):
    if senders == "new":
        phone = 660000000 + t if t % 3 == 0 else 770000000 + t
    else:
        phone = 660000000 + t % 1000
    sender = "213%d" % phone
    text = "Bonjour, un devis pour nos employés" if t % 10 == 0 else \
        "Je voudrais m'inscrire à la formation" if t % 5 == 0 else "Bonjour, question %d" % t
    return envelope({"contacts": [{"profile": {"name": "Sender %d" % phone}, "wa_id": sender}],
                     "messages": [{"from": sender, "id": "wamid.F%d" % t, "timestamp": str(1764064860 + t),
                                   "type": "text", "text": {"body": text}}]})


def status_body(wamid, word, timestamp):
    return envelope({"statuses": [{"id": wamid, "status": word, "timestamp": str(timestamp),
                                   "recipient_id": "213550000000"}]})


def flood(events, senders):
    texts = statuses = unknown = 0
    for i in range(events):
        slot = i % 20
        if slot < 13 or texts == 0:
            yield text_body(texts, senders)
            texts += 1
        elif slot < 17:
            yield text_body(texts - 1 - (i * 7919) % min(texts, 50), senders)
        elif slot == 17:
            yield status_body("wamid.OUT%d" % statuses, "delivered", 1764064900 + statuses)
        elif slot == 18:
            yield status_body("wamid.OUT%d" % statuses, "read", 1764064910 + statuses)
            statuses += 1
        else:
            yield status_body("wamid.UNKNOWN%d" % unknown, "sent", 1764064900 + unknown)
            unknown += 1


def sign(body, secret):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(bodies, address, secret):
    host, port = address.split(":")
    failures = []

    def client(k):
        c = http.client.HTTPConnection(host, int(port))
        for b in bodies[k::8]:
            c.request("POST", "/webhooks/whatsapp", b, {"X-Hub-Signature-256": sign(b, secret)})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                failures.append(r.status)
    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    if failures:
        sys.exit("flood.py: %d POSTs were not answered 200 (first: %d)" % (len(failures), failures[0]))


def lua_string(data):
    return '"' + "".join("\\%03d" % b if b < 32 or b > 126 or b in (34, 92) else chr(b) for b in data) + '"'


def wrk_script(bodies, secret, path):
    with open(path, "w") as out:
        out.write("local bodies = {\n")
        for b in bodies:
            out.write("{%s, %s},\n" % (lua_string(b), lua_string(sign(b, secret).encode())))
        out.write("}\n")
        # Each connection starts at its own place and walks the list: every body is posted,
        # redeliveries arrive near their first delivery as in the list.
        out.write("""local n = 0
local counter = 0
function setup(thread) counter = counter + 1; thread:set("first", counter) end
function init(args) n = (first - 1) * 7919 % #bodies end
function request()
  n = n % #bodies + 1
  local b = bodies[n]
  return wrk.format("POST", "/webhooks/whatsapp", {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = b[2]}, b[1])
end
""")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--senders", choices=["new", "repeat"], default="new")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--post")
    parser.add_argument("--wrk")
    args = parser.parse_args()
    bodies = list(flood(args.events, args.senders))
    if args.post:
        post(bodies, args.post, args.secret)
    if args.wrk:
        wrk_script(bodies, args.secret, args.wrk)


if __name__ == "__main__":
    main()
