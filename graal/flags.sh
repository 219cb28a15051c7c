#!/usr/bin/env bash
# Prints the JVM options that make HotSpot run the Graal compiler as its top-tier JIT in place of C2,
# from Maven Central's jars (graal/pom.xml: org.graalvm.compiler:compiler and its dependencies,
# resolved into the local Maven repository on first use), on one line:
#   -XX:+UnlockExperimentalVMOptions -XX:+EnableJVMCI -XX:+UseJVMCICompiler --upgrade-module-path=JARS
# With --check it also starts a JVM with them and prints the line Graal itself prints
# (-Djdk.graal.ShowConfiguration=info), failing if that line is not there.
#   graal/flags.sh [--check]        (JAVA_HOME: a JDK 25; MAVEN_ARGS is passed to Maven, e.g. -Dmaven.repo.local=...)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
java_home=${JAVA_HOME:-$("$here/../scripts/find-jdk")}
modulepath=$here/target/graal.modulepath
if [ ! -s "$modulepath" ] || [ "$here/pom.xml" -nt "$modulepath" ]; then
  JAVA_HOME=$java_home "$here/../mvnw" -B -q --no-transfer-progress -f "$here/pom.xml" package >&2
fi
flags="-XX:+UnlockExperimentalVMOptions -XX:+EnableJVMCI -XX:+UseJVMCICompiler --upgrade-module-path=$(cat "$modulepath")"
if [ "${1:-}" = --check ]; then
  # EagerJVMCI: Graal starts with the VM (it is otherwise created at the first top-tier compilation)
  out=$("$java_home/bin/java" $flags -XX:+EagerJVMCI -Djdk.graal.ShowConfiguration=info -version 2>&1) || { echo "$out" >&2; exit 1; }
  line=$(grep -m1 '^Using .*Graal.* compiler' <<<"$out") || { echo "graal/flags.sh: no Graal compiler line from $java_home/bin/java:" >&2; echo "$out" >&2; exit 1; }
  echo "graal/flags.sh: $java_home: $line" >&2
fi
echo "$flags"
