#!/usr/bin/env bash
# Builds the Windows backend's harness (src/test/native/windows/harness.c) with mingw-w64 and runs it
# under Wine: the backend's call sequences, with its flags, against Wine's kernel32/advapi32, for want
# of a Windows machine. The harness prints one line a check and ends with "harness: N passed, M failed".
#
#   bash scripts/windows-harness.sh          (from any folder; reads no input)
#
# Needs the Debian packages wine64 and gcc-mingw-w64-x86-64-win32; PANMAP_SKIP_WINE=1 skips the run
# (exit 0), for machines without them. The Wine prefix belongs to this checkout, target/wine, made on
# first use (a few seconds, ~700 MB); the build goes to target/windows/harness.exe. Wine runs headless
# (no DISPLAY) and quiet (WINEDEBUG=-all); runs on the same prefix take turns (target/wine.lock), and
# the prefix's wineserver is stopped at the end whatever happened. Exit code 0 only when the build
# worked and no check failed.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) || exit 1
cd "$root" || exit 1

if [ "${PANMAP_SKIP_WINE:-}" = 1 ]; then
  echo "windows-harness: skipped (PANMAP_SKIP_WINE=1)"
  exit 0
fi

# the first of the commands given that exists
first() {
  local c
  for c in "$@"; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
  done
  return 1
}
cc=$(first x86_64-w64-mingw32-gcc)
wine=$(first wine64 /usr/lib/wine/wine64)
wineserver=$(first wineserver /usr/lib/wine/wineserver64 /usr/lib/wine/wineserver)
missing=
[ -n "$cc" ] || missing="$missing x86_64-w64-mingw32-gcc"
[ -n "$wine" ] || missing="$missing wine64"
[ -n "$wineserver" ] || missing="$missing wineserver"
if [ -n "$missing" ]; then
  echo "windows-harness: not found:$missing; install the Debian packages wine64 gcc-mingw-w64-x86-64-win32 (or set PANMAP_SKIP_WINE=1 to skip)" >&2
  exit 1
fi

mkdir -p target/windows
# one run at a time on this prefix: the wineserver -k at the end would cut another run short
exec 9>target/wine.lock
if command -v flock >/dev/null 2>&1 && ! flock -w 300 9; then
  echo "windows-harness: another run has held target/wine.lock for 5 minutes" >&2
  exit 1
fi

start=$SECONDS
if ! "$cc" -O1 -Wall -Wextra -Werror -municode -o target/windows/harness.exe \
     src/test/native/windows/harness.c -ladvapi32; then
  echo "windows-harness: the build of src/test/native/windows/harness.c failed" >&2
  exit 1
fi

export WINEPREFIX="$root/target/wine" WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
unset DISPLAY WAYLAND_DISPLAY
stop_wine() { "$wineserver" -k >/dev/null 2>&1 || true; }
trap stop_wine EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -f "$WINEPREFIX/system.reg" ]; then
  echo "windows-harness: creating the Wine prefix target/wine (first run only, a few seconds)"
  # the wineserver writes the registry (system.reg, the sign of a finished prefix) when it stops
  timeout -k 5 180 "$wine" wineboot --init </dev/null >target/windows/wineboot.log 2>&1
  init=$?
  stop_wine
  if [ "$init" -ne 0 ] || [ ! -f "$WINEPREFIX/system.reg" ]; then
    cat target/windows/wineboot.log >&2
    echo "windows-harness: could not create the Wine prefix target/wine (wineboot's output above)" >&2
    rm -rf "$WINEPREFIX"
    exit 1
  fi
fi

# the harness's own watchdog ends it in 50 s; this timeout is for Wine itself hanging
timeout -k 5 100 "$wine" target/windows/harness.exe </dev/null | tee target/windows/harness.log
rc=${PIPESTATUS[0]}
summary=$(tail -n 1 target/windows/harness.log)
if [ "$rc" -ne 0 ] || ! [[ "$summary" =~ ^harness:\ [0-9]+\ passed,\ 0\ failed ]]; then
  echo "windows-harness: FAILED (exit code $rc, $((SECONDS - start)) s)" >&2
  [ "$rc" -ne 0 ] || rc=1
  exit "$rc"
fi
echo "windows-harness: passed in $((SECONDS - start)) s"
