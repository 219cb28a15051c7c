#!/usr/bin/env python3
"""Checks what `make smoke` wrote: every benchmark program ran and its output is well-formed.

usage: smoke.py DIR   (DIR: paired.json, attach.json, c.json, pingpong.json, ring.json, jmh.json)

Per file: every line a JSON object (jmh.json: JMH's JSON array), every number in it finite, every
variant the full benchmark reports present, every checksum the programs compute true. Prints what it
found, never a figure: a smoke run is too short to measure anything, and under an emulator its
timings are the emulator's. Exits 1 naming the file and the record on the first thing wrong.
Standard library only.
"""
import json
import math
import os
import sys

DIR = sys.argv[1] if len(sys.argv) > 1 else "../target/bench-smoke"

# file -> (the key a record is named by, {bench: the variants each must have})
EXPECTED = {
    "paired.json": ("variant", {"chase": {"java-direct-unchecked", "java-direct", "java-offset", "java-bounded-segment",
                                          "c-pointer", "c-offset", "c-offset-add", "c-pointer-cmov"}}),
    "attach.json": ("variant", {"attach": {"java-ro", "java-rw", "java-own-ro", "java-own-rw", "java-confined-ro",
                                           "java-confined-rw", "c-ro", "c-rw"}, "attach-step": set()}),
    "c.json": ("impl", {"scan": {"c-scan-1", "c-scan-4", "c-scan-vec", "c-scan-vec-4"}}),
    "pingpong.json": ("impl", {"pingpong": {"c-c", "java-java"}}),
    "ring.json": ("variant", {"ring-throughput": {"panmap", "panmap-signalling", "agrona", "c"},
                              "ring-latency": {"panmap", "agrona", "c"},
                              "ring-wake": {"c-futex", "futex", "park"}}),
}
JMH = {"ListBench.chase", "HashBench.hit", "SkipBench.floor", "ScanBench.scan"}
ISAS = {"x86_64": {"avx2", "sse2"}, "aarch64": {"neon"}}


def fail(where, why):
    print(f"smoke: {where}: {why}", file=sys.stderr)
    sys.exit(1)


def no_constant(name):
    raise ValueError(f"{name} is not a number")


def numbers(value, where):
    """every number in value finite (JSON has no NaN; Python's parser would let one through)"""
    if isinstance(value, dict):
        for k, v in value.items():
            numbers(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            numbers(v, f"{where}[{i}]")
    elif isinstance(value, float) and not math.isfinite(value):
        fail(where, "not a finite number")


def load(name):
    path = os.path.join(DIR, name)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        fail(name, "missing or empty: the program wrote nothing")
    return open(path).read()


for name, (key, benches) in EXPECTED.items():
    seen = {b: set() for b in benches}
    records = 0
    for n, line in enumerate(load(name).splitlines(), 1):
        if not line.strip():
            continue
        where = f"{name} line {n}"
        try:
            r = json.loads(line, parse_constant=no_constant)
        except ValueError as e:
            fail(where, f"not JSON ({e}): {line[:120]}")
        if not isinstance(r, dict) or "bench" not in r:
            fail(where, f"not a benchmark record: {line[:120]}")
        numbers(r, where)
        if r.get("checksum_ok") is False:
            fail(where, "checksum_ok is false: the consumer read other bytes than the producer wrote")
        if r.get("truncated") is True:
            fail(where, "truncated: the phase ran into its time cap")
        if name == "c.json" and r.get("impl", "").startswith("c-scan-vec"):
            machine = os.uname().machine
            if r.get("isa") not in ISAS.get(machine, set()):
                fail(where, f"isa {r.get('isa')!r} on {machine}: expected one of {sorted(ISAS.get(machine, []))}")
        if r["bench"] in seen:
            seen[r["bench"]].add(r.get(key))
        records += 1
    for bench, want in benches.items():
        if not seen[bench]:
            fail(name, f"no {bench} record")
        if want - seen[bench]:
            fail(name, f"{bench}: no record of {', '.join(sorted(want - seen[bench]))}")
    extra = ""
    if name == "c.json":
        extra = f"; vector ISA: {', '.join(sorted({r['isa'] for r in map(json.loads, load(name).splitlines()) if r['impl'].startswith('c-scan-vec')}))}"
    print(f"smoke: {name}: {records} records, well-formed, every variant present "
          f"({'; '.join(f'{b}: {len(v)}' for b, v in sorted(seen.items()))}){extra}")

try:
    runs = json.loads(load("jmh.json"), parse_constant=no_constant)
except ValueError as e:
    fail("jmh.json", f"not JSON ({e})")
found = set()
for i, run in enumerate(runs):
    where = f"jmh.json[{i}] {run.get('benchmark', '?')}"
    numbers(run, where)
    score = run.get("primaryMetric", {}).get("score")
    if not isinstance(score, (int, float)) or score <= 0:
        fail(where, "no positive score")
    found.add(".".join(run["benchmark"].split(".")[-2:]))
if JMH - found:
    fail("jmh.json", f"no result of {', '.join(sorted(JMH - found))}")
print(f"smoke: jmh.json: {len(runs)} runs ({', '.join(sorted(found))}), well-formed")
print(f"smoke: every program ran and its output is well-formed ({os.uname().machine}); no figure here is a measurement")
