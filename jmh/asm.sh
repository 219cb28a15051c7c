#!/usr/bin/env bash
# The JIT's machine code for the paired chase, with HotSpot's disassembler:
#   C2 (default): runs Paired on a 16 KiB list and prints Paired::chase as C2 compiled it (every
#   variant's chase is inlined into it: panmap's NodeList.advance in its DIRECT, unchecked and offset
#   forms, and the bounded-segment loop) into OUT/c2-full.txt; results/c2-hops.md explains one hop of each.
#   graal: the same with Graal as the JIT (../graal/flags.sh), which left NodeList.advance and
#   Paired::chase at C1 and compiled the hop loops on their own: NodeList::chase (DIRECT checked and
#   OFFSET share it), NodeList::chaseUnchecked and Paired::chaseBounded, into OUT/graal-full.txt;
#   results/graal-hops.md explains them. HotSpot prints JVMCI-installed code as it prints C2's.
#   jmh/asm.sh JAVA BENCHMARKS_JAR OUT [c2|graal]   (x86-64 only; needs hsdis: HSDIS_DIR=dir-with-hsdis-amd64.so, or one in the JDK)
set -euo pipefail
java=$1 jar=$2 out=$3 jit=${4:-c2}
mkdir -p "$out"
if [ "$(uname -m)" != x86_64 ]; then
  # hsdis-aarch64.so would print A64 code, but the listings are asked for in Intel syntax and
  # results/c2-hops.md and results/graal-hops.md read x86-64 instructions: nothing here reads
  # another architecture's code
  echo "asm.sh: x86-64 only (results/c2-hops.md and results/graal-hops.md read x86-64 code): not run on $(uname -m)" >&2
  exit 1
fi
if [ -n "${HSDIS_DIR:-}" ]; then export LD_LIBRARY_PATH="$HSDIS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
if [ "$jit" = graal ]; then
  flags=$("$(dirname "$0")/../graal/flags.sh")
  print=(-XX:CompileCommand=print,dev.panmap.bench.Paired::chase -XX:CompileCommand=print,dev.panmap.structures.NodeList::chase -XX:CompileCommand=print,dev.panmap.structures.NodeList::chaseUnchecked
         -XX:CompileCommand=print,dev.panmap.bench.Paired::chaseBounded)
  compiled="Compiled method (JVMCI)"
else
  flags=
  print=(-XX:CompileCommand=print,dev.panmap.bench.Paired::chase)
  compiled="Compiled method (c2)"
fi
# shellcheck disable=SC2086 # flags is a list of options
"$java" --enable-native-access=ALL-UNNAMED $flags -XX:+UnlockDiagnosticVMOptions -XX:PrintAssemblyOptions=intel \
  -XX:CompileCommand=quiet "${print[@]}" -cp "$jar" dev.panmap.bench.Paired 16384 3 > "$out/$jit-full.txt" 2>&1
if ! grep -q "$compiled" "$out/$jit-full.txt" || ! grep -qE '^\s+0x[0-9a-f]+:\s+mov' "$out/$jit-full.txt"; then
  echo "asm.sh: no disassembly of $jit's code (no hsdis found: set HSDIS_DIR); see $out/$jit-full.txt" >&2
  exit 1
fi
echo "asm.sh: wrote $out/$jit-full.txt (results/$jit-hops.md explains the hop loops in it)"
