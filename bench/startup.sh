#!/usr/bin/env bash
# Startup to ready, and idle memory, of `tawasul serve` on the embedded default.
#
#   bench/startup.sh [CONFIG]
#
# Starts the host (migrated beforehand), polls /readyz every millisecond until it answers 200, and
# prints the time from exec to ready and the process's resident memory once idle (VmRSS, /proc).
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-config/tawasul.yaml}
bin=build/dev/bin/tawasul
listen=${TAWASUL_LISTEN:-127.0.0.1:18181}
export TAWASUL_LISTEN=$listen
"$bin" --config "$config" migrate >/dev/null
start=$(date +%s%N)
"$bin" --config "$config" serve 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
until curl -fs -o /dev/null "http://$listen/readyz"; do
    kill -0 $pid 2>/dev/null || { echo "the host exited before it was ready" >&2; exit 1; }
    sleep 0.001
done
ready=$(date +%s%N)
sleep 1
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "ready_ms=$(( (ready - start) / 1000000 )) idle_rss_kb=$rss"
