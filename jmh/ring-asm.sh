#!/usr/bin/env bash
# C2's machine code of the rings' hot paths, panmap beside Agrona: runs RingAsm (a producer and a
# consumer thread on a one-to-one ring of each) with HotSpot's disassembler and writes
# OUT/c2-ring.txt: RingBench.produce for both rings (the claim, the stores of the payload and the
# commit inlined into the loop), RingConsumer.batch and Agrona's OneToOneRingBuffer.read. MODE "both"
# also produces on a many-to-one ring through the same produce (RingAsm's javadoc). The reading of
# this code, with PrintInlining before and after, is jmh/results/ring-asm.md.
#   jmh/ring-asm.sh JAVA BENCHMARKS_JAR OUT [MODE]     (x86-64 only; needs hsdis: HSDIS_DIR=dir-with-hsdis-amd64.so)
set -euo pipefail
java=$1 jar=$2 out=$3 mode=${4:-}
mkdir -p "$out"
if [ "$(uname -m)" != x86_64 ]; then
  # hsdis-aarch64.so would print A64 code, but the listings are asked for in Intel syntax and
  # results/ring-asm.md reads x86-64 instructions: nothing here reads another architecture's code
  echo "ring-asm.sh: x86-64 only (results/ring-asm.md reads x86-64 code): not run on $(uname -m)" >&2
  exit 1
fi
if [ -n "${HSDIS_DIR:-}" ]; then export LD_LIBRARY_PATH="$HSDIS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
"$java" --enable-native-access=ALL-UNNAMED -XX:+UnlockDiagnosticVMOptions -XX:PrintAssemblyOptions=intel \
  -XX:CompileCommand=quiet -XX:CompileCommand=print,dev.panmap.bench.RingBench::produce \
  -XX:CompileCommand=print,dev.panmap.ipc.RingConsumer::batch \
  -XX:CompileCommand=print,org.agrona.concurrent.ringbuffer.OneToOneRingBuffer::read \
  -cp "$jar" dev.panmap.bench.RingAsm $mode > "$out/c2-ring.txt" 2>&1
if ! grep -q "Compiled method (c2)" "$out/c2-ring.txt"; then
  echo "ring-asm.sh: no C2 disassembly (no hsdis found: set HSDIS_DIR); see $out/c2-ring.txt" >&2
  exit 1
fi
echo "ring-asm.sh: wrote $out/c2-ring.txt"
