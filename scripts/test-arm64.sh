#!/usr/bin/env bash
# Runs panmap's tests on Linux aarch64 here, in the arm64 environment (a Debian trixie arm64 chroot with
# OpenJDK 25, Maven and gcc, run by QEMU user mode; see ARM64_TOOLS/README.md). Root only (a chroot and
# binfmt_misc). Slow: a JVM starts ~25x slower than natively, so this is not part of make test or CI.
#
#   scripts/test-arm64.sh [MAVEN ARGUMENTS...]
#       default: -f parent/pom.xml verify (the library's, the command line's and the demo's tests), on past
#       test failures, then fails if the reports show one
#       e.g.:    scripts/test-arm64.sh test -Dtest='SharedRegionTest,GrowthTest' -Dsurefire.failIfNoSpecifiedTests=false
#
# The working tree (without .git and target folders) is copied to ARM64_WORK (default
# /var/tmp/panmap-arm64) and built there, so the host's target/ is never mixed with the aarch64 run's.
# Environment: ARM64_TOOLS, the folder of the environment's setup.sh and run.sh (default
# ../shared/tools/arm64 beside the repository); ARM64_ROOT (default /srv/arm64), made by setup.sh
# if it has no java yet; ARM64_M2, the Maven repository used inside (default /var/tmp/panmap-arm64-m2);
# PANMAP_TIMEOUT_FACTOR (default 10), by which the tests' waits for child JVMs are lengthened;
# MAVEN_OPTS (default: C1 and the serial GC for Maven's JVM).
# Timings from here are emulation's, never performance figures.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools=${ARM64_TOOLS:-$root/../shared/tools/arm64}
arm64_root=${ARM64_ROOT:-/srv/arm64}
work=${ARM64_WORK:-/var/tmp/panmap-arm64}
m2=${ARM64_M2:-/var/tmp/panmap-arm64-m2}
export PANMAP_TIMEOUT_FACTOR=${PANMAP_TIMEOUT_FACTOR:-10}
# Maven's own JVM (javac runs in it) at C1 with the serial GC: the arm64 README measured a small Maven
# project 7x slower than native with these instead of 13x. The tests' JVMs are not affected (MAVEN_OPTS).
export MAVEN_OPTS=${MAVEN_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC}

if [ ! -x "$tools/run.sh" ] || [ ! -x "$tools/setup.sh" ]; then
  echo "test-arm64: no setup.sh and run.sh in $tools: set ARM64_TOOLS to the arm64 environment's folder" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "test-arm64: needs root (the arm64 environment is a chroot run through binfmt_misc)" >&2
  exit 1
fi
if [ ! -x "$arm64_root/usr/bin/java" ] || [ ! -x "$arm64_root/usr/bin/mvn" ]; then
  echo "test-arm64: no arm64 environment in $arm64_root yet: $tools/setup.sh (~10-15 min)"
  ARM64_ROOT=$arm64_root "$tools/setup.sh"
fi

# by default the whole reactor runs on past test failures (one emulated run of ~1 h reports every
# module); the report at the end fails the run if a test failed
strict=
[ $# -gt 0 ] || { set -- -f parent/pom.xml verify -Dmaven.test.failure.ignore=true; strict=--strict; }
rm -rf "$work" && mkdir -p "$work" "$m2"
tar -C "$root" --exclude=.git --exclude=target -cf - . | tar -C "$work" -xf -
echo "test-arm64: mvn $* in $work, inside $arm64_root (PANMAP_TIMEOUT_FACTOR=$PANMAP_TIMEOUT_FACTOR)"
start=$(date +%s)
rc=0
# the host's certificate authorities (PEM bundle and Java's keystore): where the way to Maven Central
# goes through a proxy with a certificate authority of its own, the host trusts it and the chroot would not.
# The chroot's root is made a mount point of its own (in a private mount namespace, gone at the end):
# `unshare --mount-proc`, which the pid-namespace tests use, makes / private and fails with EINVAL where
# / is not a mount point.
unshare --mount --propagation private /bin/bash -c 'mount --rbind "$0" "$0" && exec "$@"' "$arm64_root" \
  env ARM64_ROOT="$arm64_root" "$tools/run.sh" -b /etc/ssl/certs:/etc/ssl/certs:ro -b "$m2" "$work" \
  /usr/bin/env PANMAP_TIMEOUT_FACTOR="$PANMAP_TIMEOUT_FACTOR" mvn -B --no-transfer-progress -Dmaven.repo.local="$m2" "$@" || rc=$?
echo "test-arm64: exit $rc after $(( $(date +%s) - start )) s (emulated: not a performance figure); reports in $work/target/surefire-reports"
# what skipped and why, and which tests this run has that the host's last run (its target folders) has not, and back
"$("$root/scripts/find-jdk")/bin/java" "$root/scripts/SkippedTests.java" $strict "$work/target" "$work/cli/target" "$work/demo/target" \
  --against "$root/target" "$root/cli/target" "$root/demo/target" || { [ -z "$strict" ] || [ $rc != 0 ] || rc=1; }
echo "test-arm64: $([ $rc = 0 ] && echo passed || echo failed)"
exit $rc
