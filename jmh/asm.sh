#!/usr/bin/env bash
# C2's machine code for the paired chase: runs Paired on a 16 KiB list with HotSpot's disassembler,
# prints Paired::chase as C2 compiled it (every variant's chase is inlined into it: panmap's
# NodeList.advance in its DIRECT, unchecked and offset forms, and the bounded-segment loop) into
# OUT/c2-full.txt. results/c2-hops.md shows and explains one hop of each form, taken from such a listing.
#   jmh/asm.sh JAVA BENCHMARKS_JAR OUT      (needs hsdis: HSDIS_DIR=dir-with-hsdis-amd64.so, or one in the JDK)
set -euo pipefail
java=$1 jar=$2 out=$3
mkdir -p "$out"
if [ -n "${HSDIS_DIR:-}" ]; then export LD_LIBRARY_PATH="$HSDIS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
"$java" --enable-native-access=ALL-UNNAMED -XX:+UnlockDiagnosticVMOptions -XX:PrintAssemblyOptions=intel \
  -XX:CompileCommand=quiet -XX:CompileCommand=print,dev.panmap.bench.Paired::chase \
  -cp "$jar" dev.panmap.bench.Paired 16384 3 > "$out/c2-full.txt" 2>&1
if ! grep -q "Compiled method (c2)" "$out/c2-full.txt" || ! grep -qE '^\s+0x[0-9a-f]+:\s+mov' "$out/c2-full.txt"; then
  echo "asm.sh: no disassembly (no hsdis found: set HSDIS_DIR); see $out/c2-full.txt" >&2
  exit 1
fi
echo "asm.sh: wrote $out/c2-full.txt (results/c2-hops.md explains the hop loops in it)"
