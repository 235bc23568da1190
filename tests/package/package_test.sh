#!/usr/bin/env bash
# The Debian packages (issue #19): builds them with CPack from this build tree, checks their contents
# (dpkg-deb -c) and control data, unpacks `tawasul` into a temporary root (dpkg-deb -x), runs that
# tawasul with the packaged configuration pointed at a temporary folder, and gets /readyz 200; then
# `systemd-analyze verify` on the unit where systemd is present.
#   package_test.sh BUILD_DIR
set -euo pipefail

BUILD=${1:?usage: package_test.sh BUILD_DIR}
WORK=$(mktemp -d /tmp/tawasul-package-XXXXXX)
HOST_PID=
cleanup() {
    if [[ -n $HOST_PID ]]; then kill "$HOST_PID" 2>/dev/null || true; wait "$HOST_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
expect_line() {  # expect_line TEXT REGEX WHAT
    grep -Eq -- "$2" <<<"$1" || fail "$3 (no line matching '$2')"
}

# CPack first runs the tree's `preinstall` (a no-op make after the build that ctest follows).
cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/out" >"$WORK/cpack.log" 2>&1 || { cat "$WORK/cpack.log" >&2; fail "cpack failed"; }
MAIN=$(ls "$WORK"/out/tawasul_*.deb 2>/dev/null | head -1)
DEV=$(ls "$WORK"/out/tawasul-dev_*.deb 2>/dev/null | head -1)
[[ -f $MAIN ]] || fail "no tawasul_*.deb in $WORK/out: $(ls "$WORK/out")"
[[ -f $DEV ]] || fail "no tawasul-dev_*.deb in $WORK/out"

# ---- tawasul: contents ------------------------------------------------------------------------
contents=$(dpkg-deb -c "$MAIN")
for path in ./usr/bin/tawasul ./etc/tawasul/tawasul.yaml ./lib/systemd/system/tawasul.service \
            ./usr/share/tawasul/migrations/ ./usr/share/tawasul/templates/ ./usr/share/tawasul/lang/ \
            ./usr/share/tawasul/public/ ./usr/share/doc/tawasul/operations.md; do
    expect_line "$contents" " $path( |$)" "tawasul lacks $path"
done
expect_line "$contents" ' \./usr/lib/(.*/)?libtawasul-sdk\.so\.1 ' "tawasul lacks libtawasul-sdk.so.1"
for plugin in webhook_receiver contact_matcher inbound_router cloud_api outbox admin_inbox; do
    expect_line "$contents" "^-.* \./usr/lib/tawasul/plugins/$plugin/$plugin\.so$" "tawasul lacks the plugin $plugin"
done
# The plugins' folders are copies: directories and files, never links into a source tree.
expect_line "$contents" '^d.* \./usr/lib/tawasul/plugins/admin_inbox/templates/$' "admin_inbox/templates is not a directory"
expect_line "$contents" '^-.* \./usr/lib/tawasul/plugins/outbox/migrations/.+' "outbox/migrations has no files"
expect_line "$contents" '^-.* \./usr/lib/tawasul/plugins/cloud_api/lang/.+' "cloud_api/lang has no files"
if grep -E '^l' <<<"$contents" | grep -q ' \./usr/lib/tawasul/'; then fail "symbolic links under /usr/lib/tawasul"; fi
if grep -q 'example_provider\|/include/\|libtawasul-sdk\.so ' <<<"$contents"; then fail "tawasul holds the example or the SDK's development files"; fi
[[ $(grep -c ' \./usr/share/tawasul/migrations/.' <<<"$contents") -ge 2 ]] || fail "the migrations folder is empty"

# ---- tawasul: control data ---------------------------------------------------------------------
[[ $(dpkg-deb -f "$MAIN" Package) == tawasul ]] || fail "Package is not tawasul"
depends=$(dpkg-deb -f "$MAIN" Depends)
for lib in libpoco libsodium libsqlite3 libc6 passwd; do
    grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib (shlibdeps): $depends"
done
mkdir "$WORK/control"
dpkg-deb -e "$MAIN" "$WORK/control"
grep -qx /etc/tawasul/tawasul.yaml "$WORK/control/conffiles" || fail "/etc/tawasul/tawasul.yaml is not a conffile"
grep -q 'useradd --system' "$WORK/control/postinst" || fail "postinst makes no tawasul user"
grep -q 'install -d -m 0700 -o tawasul -g tawasul /var/lib/tawasul' "$WORK/control/postinst" || fail "postinst makes no /var/lib/tawasul 0700"
for script in postinst prerm postrm; do
    [[ -x $WORK/control/$script ]] || fail "$script is not executable"
    sh -n "$WORK/control/$script" || fail "$script is not valid sh"
done

# ---- tawasul-dev --------------------------------------------------------------------------------
devcontents=$(dpkg-deb -c "$DEV")
for path in ./usr/include/tawasul/sdk/Plugin.hpp ./usr/lib/cmake/Tawasul/TawasulConfig.cmake ./usr/lib/cmake/Tawasul/TawasulPlugin.cmake; do
    expect_line "$devcontents" " $path$" "tawasul-dev lacks $path"
done
expect_line "$devcontents" '^l.* \./usr/lib/libtawasul-sdk\.so -> libtawasul-sdk\.so\.1' "tawasul-dev lacks the libtawasul-sdk.so link"
if grep -q 'libtawasul-sdk\.so\.1 ' <<<"$devcontents"; then fail "tawasul-dev holds the library that tawasul holds"; fi
grep -q 'tawasul (= ' <<<"$(dpkg-deb -f "$DEV" Depends)" || fail "tawasul-dev does not depend on tawasul"

# ---- unpacked: serve /readyz with the packaged configuration --------------------------------------
ROOT=$WORK/root
DATA=$WORK/var-lib-tawasul
dpkg-deb -x "$MAIN" "$ROOT"
install -d -m 0700 "$DATA"
# The packaged file, with its paths moved into the temporary root and state folder.
sed -e "s|\"/usr/|\"$ROOT/usr/|g" -e "s|/var/lib/tawasul|$DATA|g" "$ROOT/etc/tawasul/tawasul.yaml" >"$WORK/tawasul.yaml"
cmp -s "$ROOT/etc/tawasul/tawasul.yaml" "$WORK/tawasul.yaml" && fail "the packaged configuration names no /usr or /var/lib/tawasul paths"
TAWASUL=$ROOT/usr/bin/tawasul
ldd "$TAWASUL" | grep 'libtawasul-sdk' | grep -q "$ROOT" || fail "the unpacked tawasul does not use the unpacked libtawasul-sdk: $(ldd "$TAWASUL" | grep tawasul)"
export TAWASUL_LISTEN=127.0.0.1:0 TAWASUL_CONFIG=$WORK/tawasul.yaml
unset TAWASUL_MASTER_KEY TAWASUL_DATABASE_URL TAWASUL_KEY_FILE TAWASUL_PLUGIN_DIR
"$TAWASUL" migrate >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log" >&2; fail "tawasul migrate failed"; }
[[ $(stat -c %a "$DATA/tawasul.db") == 600 ]] || fail "the database is $(stat -c %a "$DATA/tawasul.db"), not 600"
[[ $(stat -c %a "$DATA/master.key") == 600 ]] || fail "the key file is not 600"
plugins=$("$TAWASUL" plugins list 2>&1) || fail "plugins list failed: $plugins"
expect_line "$plugins" "^admin_inbox .*started +$ROOT/usr/lib/tawasul/plugins/admin_inbox/admin_inbox\.so$" "the plugins do not load from the unpacked root: $plugins"
"$TAWASUL" serve >"$WORK/serve.log" 2>&1 &
HOST_PID=$!
port=
for _ in $(seq 1 300); do
    kill -0 "$HOST_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; fail "tawasul serve exited"; }
    port=$(sed -nE 's|.*serving on http://127\.0\.0\.1:([0-9]+).*|\1|p' "$WORK/serve.log" | head -1)
    [[ -n $port ]] && break
    sleep 0.1
done
[[ -n $port ]] || { cat "$WORK/serve.log" >&2; fail "tawasul serve did not start listening"; }
status=
for _ in $(seq 1 100); do
    status=$(curl -s -o "$WORK/readyz" -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)
    [[ $status == 200 ]] && break
    sleep 0.1
done
[[ $status == 200 ]] || fail "/readyz answered $status: $(cat "$WORK/readyz" 2>/dev/null)"
# The admin pages come from /usr/share/tawasul: the sign-in page renders.
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/admin/login") == 200 ]] || fail "/admin/login does not answer 200"
# The unit's readiness check, pointed at the port the kernel chose.
TAWASUL_LISTEN=127.0.0.1:$port "$TAWASUL" ready --wait 5 >/dev/null || fail "tawasul ready did not see /readyz 200"
kill "$HOST_PID"; wait "$HOST_PID" || fail "tawasul serve did not exit 0 on SIGTERM"; HOST_PID=
if TAWASUL_LISTEN=127.0.0.1:$port "$TAWASUL" ready >/dev/null 2>&1; then fail "tawasul ready succeeded with no host"; fi
echo "package_test: ok: $(basename "$MAIN") ($(stat -c %s "$MAIN") bytes), $(basename "$DEV"), /readyz 200 from the unpacked root"

# ---- the systemd unit ----------------------------------------------------------------------------
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "package_test: skip: systemd-analyze is not installed, the unit is not verified"
    exit 0
fi
# verify checks that the commands exist: point them at the unpacked binary.
sed "s|/usr/bin/tawasul|$TAWASUL|g" "$ROOT/lib/systemd/system/tawasul.service" >"$WORK/tawasul.service"
if ! out=$(systemd-analyze verify "$WORK/tawasul.service" 2>&1); then
    echo "$out" >&2
    fail "systemd-analyze verify found problems in tawasul.service"
fi
[[ -z $out ]] || { echo "$out" >&2; fail "systemd-analyze verify warned about tawasul.service"; }
echo "package_test: ok: systemd-analyze verify tawasul.service"
