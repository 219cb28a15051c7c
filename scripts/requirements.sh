#!/usr/bin/env bash
# What `make test` needs from the machine besides a JDK >= 22, in one place (used by make test and
# .ci/run):
#
#   scripts/requirements.sh install        as root with apt-get: installs the Debian packages that
#                                          are missing and says which (PANMAP_NO_INSTALL=1: never);
#                                          otherwise says what is missing and what will be skipped.
#                                          Records the missing groups in target/requirements-missing.
#   scripts/requirements.sh has GROUP      exit 0 if GROUP (e.g. wine) is complete
#   scripts/requirements.sh run GROUP... -- COMMAND...
#                                          runs COMMAND if every GROUP is complete, else says it skips it
#   scripts/requirements.sh report         the summary at the end of make test: what was missing, the
#                                          tests that skipped and why; exits 1 when something was
#                                          skipped for a missing requirement and CI=true
#   scripts/requirements.sh list           the table below
#
# Some groups cannot serve on every architecture (uname -m); those are left out there, neither
# installed nor counted missing, and said with their reason by install, run and report (see
# not_here below): on aarch64 the Wine harness (wine) and the aarch64 cross compiler (aarch64-cc).
#
# The JDK is not in the table: Debian 12 has none >= 22 (scripts/find-jdk finds one, or says how to
# get one). Maven comes from ./mvnw, which needs curl or wget (else it downloads with Java) and unzip
# (else it takes the .tar.gz).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
missing_file=$root/target/requirements-missing

# group | commands (all needed; a|b: either) | Debian packages | what needs it, skipped without it
table() {
  cat <<'EOF'
make|make|make|the build itself (make test cannot start without it)
cc|cc|gcc libc6-dev|the ABI conformance probe, the C client and its ASan/UBSan/TSan builds (cross-language tests), the command line's C writer test, the benchmark's C references (make -C jmh c-check)
python3|python3|python3|the shared_memory interop test and the Python client's cross-language tests
util-linux|setpriv prlimit taskset flock unshare|util-linux|the tests run as another user, under a memory-lock limit or in a pid namespace; jcstress pins its actors
strace|strace|strace|DurabilityTest, which watches a child's msync and fsync calls
mingw|x86_64-w64-mingw32-gcc|gcc-mingw-w64-x86-64-win32|the Windows ABI conformance probe and the Wine harness's build
aarch64-cc|aarch64-linux-gnu-gcc /usr/aarch64-linux-gnu/include/sys|/usr/include/aarch64-linux-gnu/sys|gcc-aarch64-linux-gnu libc6-dev-arm64-cross linux-libc-dev-arm64-cross|the Linux aarch64 ABI conformance probe (compiled only), make bindings' aarch64 sysroot and the benchmark's C references built for aarch64 (make -C jmh c-check)
wine|wine64|/usr/lib/wine/wine64|wine64|the Wine harness (the Windows backend's call sequences run under Wine)
venv|/usr/share/doc/python3-venv|python3-venv|the clients' package test: a fresh venv where pip installs the Python client, pytest and mypy (from PyPI, into target/)
pkg-config|pkg-config|pkgconf|the clients' package test: the C client's installed example, built through pkg-config
EOF
}

arch=$(uname -m)
not_here_file=$root/target/requirements-not-here

# Why GROUP cannot serve on this machine's architecture (printed), or nothing (exit 1) if it can.
not_here() {
  case $1:$arch in
    wine:x86_64) return 1 ;;
    wine:*) echo "the Wine harness runs x86_64 Windows executables (mingw-w64's) under an x86_64 Wine, and this machine is $arch" ;;
    aarch64-cc:aarch64) echo "this machine is aarch64: its own C compiler (group cc) compiles the aarch64 ABI probe and the benchmark's C references" ;;
    *) return 1 ;;
  esac
}

# A command, or one of "a|b", present? /absolute paths are checked as files.
present() {
  local alt
  IFS='|' read -ra alts <<<"$1"
  for alt in "${alts[@]}"; do
    if [[ $alt == /* ]]; then [ -x "$alt" ] && return 0; else command -v "$alt" >/dev/null 2>&1 && return 0; fi
  done
  return 1
}

# The fields of a group's line: group, commands, packages, purpose (commands may hold "a|b").
fields() {
  local line=$1
  group=${line%%|*}
  purpose=${line##*|}
  local middle=${line#*|}
  middle=${middle%|*}
  packages=${middle##*|}
  commands=${middle%|*}
}

# The commands of a group that are missing, one line each.
missing_commands() {
  local c
  for c in $commands; do present "$c" || echo "$c"; done
}

# Under sudo (a CI runner's `sudo bash scripts/requirements.sh install`), target/ and the records in it go
# back to the calling user: a root-owned target/ would stop that user's Maven build from writing there.
give_back() {
  if [ "$(id -u)" = 0 ] && [ -n "${SUDO_UID:-}" ]; then
    chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$root/target" "$missing_file" "$not_here_file" 2>/dev/null || true
  fi
}

line_of() { table | grep "^$1|" || { echo "requirements: no group $1 (scripts/requirements.sh list)" >&2; exit 2; }; }

group_missing() {
  local line
  line=$(line_of "$1") || exit 2
  fields "$line"
  [ -n "$(missing_commands)" ]
}

cmd=${1:-}
case $cmd in
  list)
    table | while IFS= read -r line; do
      fields "$line"
      if why=$(not_here "$group"); then
        printf '%-11s %-40s %s\n' "$group" "(not on $arch)" "$purpose ($why)"
      else
        printf '%-11s %-40s %s\n' "$group" "$packages" "$purpose"
      fi
    done
    ;;

  install)
    mkdir -p "$root/target"
    trap give_back EXIT
    need_groups=()
    need_packages=()
    : >"$not_here_file"
    while IFS= read -r line; do
      fields "$line"
      if why=$(not_here "$group"); then
        echo "$group" >>"$not_here_file"
        echo "requirements: NOT ON $arch $group: skipped: $purpose ($why)"
      elif group_missing "$group"; then
        need_groups+=("$group")
        need_packages+=($packages)
      fi
    done < <(table)
    if [ ${#need_groups[@]} -eq 0 ]; then
      : >"$missing_file"
      echo "requirements: all present ($(table | cut -d'|' -f1 | grep -vxFf "$not_here_file" | tr '\n' ' '))"
      exit 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ "${PANMAP_NO_INSTALL:-}" != 1 ]; then
      echo "requirements: installing the Debian packages ${need_packages[*]} (for: ${need_groups[*]})"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      if ! apt-get install -y -qq --no-install-recommends "${need_packages[@]}" </dev/null; then
        # one package this distribution or architecture lacks fails them all: group by group, so the
        # others still come and the lacking group is said MISSING below
        echo "requirements: apt-get could not install them together: trying group by group"
        while IFS= read -r line; do
          fields "$line"
          if printf '%s\n' "${need_groups[@]}" | grep -qx "$group"; then
            apt-get install -y -qq --no-install-recommends $packages </dev/null || echo "requirements: apt-get install $packages failed (for: $group)"
          fi
        done < <(table)
      fi
    fi
    : >"$missing_file"
    still=0
    while IFS= read -r line; do
      fields "$line"
      if ! not_here "$group" >/dev/null && group_missing "$group"; then
        still=1
        echo "$group" >>"$missing_file"
        echo "requirements: MISSING $group (Debian: $packages): skipped: $purpose"
      fi
    done < <(table)
    if [ $still = 1 ]; then
      if [ "$(id -u)" != 0 ]; then
        echo "requirements: not root, so nothing was installed; as root: apt-get install $(table | while IFS= read -r l; do fields "$l"; grep -qx "$group" "$missing_file" && printf '%s ' $packages; done)"
      fi
      if grep -qx make "$missing_file"; then
        echo "requirements: make is missing: make test cannot run" >&2
        exit 1
      fi
    else
      echo "requirements: all present now"
    fi
    ;;

  has)
    ! not_here "$2" >/dev/null && ! group_missing "$2"
    ;;

  run)
    shift
    groups=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do groups+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    lacking=()
    for g in "${groups[@]}"; do
      if why=$(not_here "$g"); then
        echo "requirements: SKIPPED $* (not on $arch: $g: $why)"
        exit 0
      fi
      group_missing "$g" && lacking+=("$g")
    done
    if [ ${#lacking[@]} -gt 0 ]; then
      echo "requirements: SKIPPED $* (missing: ${lacking[*]})"
      exit 0
    fi
    exec "$@"
    ;;

  report)
    echo "== requirements: what this run could not do"
    skipped=0
    if [ -s "$missing_file" ]; then
      while IFS= read -r g; do
        fields "$(line_of "$g")"
        echo "MISSING $g (Debian: $packages): skipped: $purpose"
        skipped=1
      done <"$missing_file"
    else
      echo "nothing missing: every requirement was present"
    fi
    # the groups this architecture cannot use: said, not a failure
    if [ -s "$not_here_file" ]; then
      while IFS= read -r g; do
        fields "$(line_of "$g")"
        echo "NOT ON $arch $g: skipped: $purpose ($(not_here "$g"))"
      done <"$not_here_file"
    fi
    # the tests that skipped, with their reasons, from the surefire and failsafe reports of this run
    jdk=$("$root/scripts/find-jdk")
    "$jdk/bin/java" "$root/scripts/SkippedTests.java" "$root/target" "$root/cli/target" "$root/demo/target" || true
    if [ $skipped = 1 ] && [ "${CI:-}" = true ]; then
      echo "requirements: CI=true and requirements were missing: failing (install them: scripts/requirements.sh install, as root)" >&2
      exit 1
    fi
    ;;

  *)
    sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
