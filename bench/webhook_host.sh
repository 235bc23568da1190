# Sourced by the bench scripts that post signed webhooks to a host of their own: a throwaway
# folder (removed on exit with every process started), one inbound text shaped and escaped as
# Meta sends it with its signature and a wrk script posting it, the repository's configuration
# pointed at that folder, and `bench_serve`, which migrates, stores the app secret and serves.
#
#   source bench/webhook_host.sh        # from the repository root, after `set -euo pipefail`
#   bench_config [SED ARGS ...]         # $work/tawasul.yaml, with extra sed edits
#   bench_serve LISTEN [before serving] # sets $host (the pid); waits for /readyz
bin=$PWD/build/dev/bin/tawasul
work=$(mktemp -d /tmp/tawasul-bench.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

secret=bench-app-secret
body=$work/body.json
printf '%s' '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"213550000001","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Amina"},"wa_id":"213661234567"}],"messages":[{"from":"213661234567","id":"wamid.BENCH0001","timestamp":"1764064860","type":"text","text":{"body":"Bonjour, je voudrais m\u0027inscrire"}}]}}]}]}' >"$body"
signature="sha256=$(openssl dgst -sha256 -hmac "$secret" -r "$body" | cut -d' ' -f1)"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Hub-Signature-256"] = "$signature"
local f = io.open("$body", "rb"); wrk.body = f:read("*a"); f:close()
LUA

bench_config() {
    sed -e "s#sqlite:var/tawasul.db#sqlite:$work/tawasul.db#" -e "s#var/master.key#$work/master.key#" \
        -e "s#level: information#level: warning#" -e "s#build/dev/plugins#$PWD/build/dev/plugins#" \
        -e "s#migrations_dir: \"migrations\"#migrations_dir: \"$PWD/migrations\"#" -e "s#web_dir: \"host\"#web_dir: \"$PWD/host\"#" \
        "$@" config/tawasul.yaml >"$work/tawasul.yaml"
}

# LISTEN, then an optional command run after migrating and before serving (users, settings).
bench_serve() {
    export TAWASUL_LISTEN=$1
    "$bin" --config "$work/tawasul.yaml" migrate >/dev/null
    printf '%s' "$secret" | "$bin" --config "$work/tawasul.yaml" settings set whatsapp.cloud.app_secret --stdin >/dev/null
    if (($# > 1)); then "${@:2}"; fi
    "$bin" --config "$work/tawasul.yaml" serve 2>"$work/host.log" &
    host=$!
    pids+=("$host")
    until curl -fs -o /dev/null "http://$TAWASUL_LISTEN/readyz"; do sleep 0.01; done
}
