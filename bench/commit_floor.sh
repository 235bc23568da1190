#!/usr/bin/env bash
# The SQLite floor under webhook ingest: commit_floor (bench/commit_floor.cpp) on a freshly
# migrated database, for the batch sizes that a 64-connection flood produces (about 32) and more.
#
#   bench/commit_floor.sh [COMMITS]
set -euo pipefail
cd "$(dirname "$0")/.."
commits=${1:-2000}
bin=$PWD/build/dev/bin
work=$(mktemp -d /tmp/tawasul-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
sed -e "s#sqlite:var/tawasul.db#sqlite:$work/tawasul.db#" -e "s#var/master.key#$work/master.key#" \
    -e "s#build/dev/plugins#$PWD/build/dev/plugins#" -e "s#migrations_dir: \"migrations\"#migrations_dir: \"$PWD/migrations\"#" \
    -e "s#web_dir: \"host\"#web_dir: \"$PWD/host\"#" config/tawasul.yaml >"$work/tawasul.yaml"
for mode in "" events-only; do
    for per in 32 64; do
        rm -f "$work"/tawasul.db*
        "$bin/tawasul" --config "$work/tawasul.yaml" migrate >/dev/null
        "$bin/commit_floor" "$work/tawasul.db" "$per" "$commits" $mode
    done
done
