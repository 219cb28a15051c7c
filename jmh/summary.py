#!/usr/bin/env python3
"""Merges the benchmark results under OUT (JMH JSON, the C program's and the ping-pong's JSON lines)
into OUT/summary.md and OUT/chart.svg. Standard library only.

usage: summary.py OUT JAVA_BINARY
"""
import json
import math
import os
import platform
import subprocess
import sys

from report import human
import time

OUT, JAVA = sys.argv[1], sys.argv[2]
IMPLS = ["panmap-direct", "panmap-direct-unchecked", "panmap-offset", "jdk-segment", "mapped-buffer", "agrona",
         "c-scan-1", "c-scan-4", "c-scan-vec", "c-scan-vec-4"]
BENCHES = [  # (JMH benchmark, key, title)
    ("dev.panmap.bench.ListBench.chase", "list", "list traversal (ns per hop)"),
    ("dev.panmap.bench.HashBench.hit", "hash-hit", "hash lookup, hit (ns per lookup; no stored reference is followed, so panmap's two modes run the same code and the columns compare bounded with unbounded reads)"),
    ("dev.panmap.bench.HashBench.miss", "hash-miss", "hash lookup, miss (ns per lookup; as above)"),
    ("dev.panmap.bench.SkipBench.floor", "skip-floor", "ordered lookup, skip list floorKey (ns per lookup)"),
    ("dev.panmap.bench.ScanBench.scan", "scan", "sequential scan (ns per 8-byte word)"),
]
COLORS = {"panmap-direct": "#1f77b4", "panmap-direct-unchecked": "#9ecae1", "panmap-offset": "#ff7f0e", "jdk-segment": "#2ca02c", "mapped-buffer": "#9467bd",
          "agrona": "#8c564b", "c-scan-1": "#555555", "c-scan-4": "#777777", "c-scan-vec": "#999999", "c-scan-vec-4": "#bbbbbb"}


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip().startswith("{")]


def fmt(v):
    if v is None:
        return "–"
    return f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 100 else f"{v:.1f}"


results = {}   # (key, size, impl) -> (score, error)
alloc = {}     # (key, impl, size) -> bytes per op
with open(os.path.join(OUT, "jmh.json")) as f:
    for r in json.load(f):
        key = next((k for b, k, _ in BENCHES if b == r["benchmark"]), None)
        if key is None:
            continue
        size, impl = int(r["params"]["size"]), r["params"]["impl"]
        m = r["primaryMetric"]
        try:
            err = float(m.get("scoreError"))
        except (TypeError, ValueError):
            err = None
        results[(key, size, impl)] = (m["score"], err if err is not None and math.isfinite(err) else None)
        sec = r.get("secondaryMetrics", {})
        if "gc.alloc.rate.norm" in sec and "gc.alloc.rate" in sec:
            alloc[(key, impl, size)] = (sec["gc.alloc.rate.norm"]["score"], sec["gc.alloc.rate"]["score"], m["score"])
scan_isas = set()  # the vector variants' instruction set: avx2 or sse2 (x86-64), neon (aarch64)
for r in lines(os.path.join(OUT, "c.json")):  # c/scan.c: the scan's C limits
    results[("scan", int(r["size"]), r["impl"])] = (r["ns_per_op"], None)
    if r["impl"].startswith("c-scan-vec"):
        scan_isas.add(r["isa"])
pingpong = {(r["impl"], r.get("timing", "per-sample")): r for r in lines(os.path.join(OUT, "pingpong.json"))}
sizes = sorted({s for (_, s, _) in results})


def get(key, size, impl):
    v = results.get((key, size, impl))
    return v[0] if v else None


def ratio(a, b):
    return a / b if a is not None and b else None


# x86-64 names its CPU in /proc/cpuinfo's "model name"; aarch64's kernel gives the implementer and part numbers only
cpuinfo = dict(l.split(":", 1) for l in open("/proc/cpuinfo") if ":" in l)
cpuinfo = {k.strip(): v.strip() for k, v in cpuinfo.items()}
cpu = cpuinfo.get("model name") or (f"implementer {cpuinfo['CPU implementer']}, part {cpuinfo['CPU part']}"
                                    if "CPU part" in cpuinfo else platform.processor())
try:
    jdk = subprocess.run([JAVA, "-version"], capture_output=True, text=True).stderr.splitlines()
    jdk = next((l for l in jdk if "Runtime" in l), jdk[0] if jdk else "?")
except OSError:
    jdk = "?"
try:
    gcc = subprocess.run([os.environ.get("CC", "gcc"), "--version"], capture_output=True, text=True).stdout.splitlines()[0]
except (OSError, IndexError):
    gcc = "?"
caches = []
for idx in range(5):
    base = f"/sys/devices/system/cpu/cpu0/cache/index{idx}"
    if os.path.exists(base):
        level, ctype, size = (open(f"{base}/{n}").read().strip() for n in ("level", "type", "size"))
        if ctype != "Instruction":
            caches.append(f"L{level} {size}")
machine = (f"{os.cpu_count()} {platform.machine()} CPUs ({cpu}; {', '.join(caches)}), Linux {platform.release()}, {jdk}, {gcc}, "
           f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")

paired_md = os.path.join(OUT, "paired.md")
md = [f"# panmap benchmark: pointer vs offset\n", f"Machine: {machine}.\n"]
if os.path.exists(paired_md):  # the headline question, measured paired (paired.py)
    md += [open(paired_md).read(), "![offset / pointer per size, Java beside C](paired.svg)\n",
           "How each chase compiles: " + ("[`c2-hops.md`](c2-hops.md) (C2) and " if os.path.exists(os.path.join(OUT, "c2-hops.md"))
                                          else "") + "[`c-hops.txt`](c-hops.txt) (gcc).\n"]
attach_md = os.path.join(OUT, "attach.md")
if os.path.exists(attach_md):  # attach + close against C (attach.py)
    md += [open(attach_md).read(), "![attach + close, median and p99](attach.svg)\n"]
if os.path.exists(paired_md) or os.path.exists(attach_md):
    md.append("## The structures and the peers (JMH)\n")
md += [
      f"Run: `{os.environ.get('BENCH_COMMAND', 'make bench')}` ({os.environ.get('BENCH_SETTINGS', '')}). "
      "ns/op, lower is better; one op is one hop, one lookup or one 8-byte word. "
      f"The scan's C columns come from `jmh/c/scan.c` (gcc -O2; the vector ones {', '.join(sorted(i.upper() for i in scan_isas)) or '–'}) "
      "on the same kind of mapping.\n"]
for _, key, title in BENCHES:
    impls = [i for i in IMPLS if any((key, s, i) in results for s in sizes)]
    md.append(f"\n### {title}\n")
    head = ["size"] + impls + ["offset / direct", "panmap-offset / jdk-segment"]
    # the cost of DIRECT's reference check, where the run has the unchecked variant (list, skip list)
    unchecked = "panmap-direct-unchecked" in impls
    if unchecked:
        head += ["checked / unchecked"]
    if key == "scan":
        head += ["direct / C one sum", "offset / C one sum", "direct / C vector limit"]
    md.append("| " + " | ".join(head) + " |")
    md.append("|" + "---|" * len(head))
    for s in sizes:
        if not any((key, s, i) in results for i in impls):
            continue
        row = [human(s)]
        for i in impls:
            v = results.get((key, s, i))
            row.append("–" if v is None else fmt(v[0]) + (f" ± {fmt(v[1])}" if v[1] else ""))
        d, o = get(key, s, "panmap-direct"), get(key, s, "panmap-offset")
        row += [fmt(ratio(o, d)), fmt(ratio(o, get(key, s, "jdk-segment")))]
        if unchecked:
            row += [fmt(ratio(d, get(key, s, "panmap-direct-unchecked")))]
        if key == "scan":
            row += [fmt(ratio(d, get(key, s, "c-scan-1"))), fmt(ratio(o, get(key, s, "c-scan-1"))), fmt(ratio(d, get(key, s, "c-scan-vec-4")))]
        md.append("| " + " | ".join(row) + " |")

if pingpong:
    md.append("\n### cross-process ping-pong through one cache line (round trip, ns)\n")
    md.append("Each process pins only its spinning thread (CPUs 0 and 1). **batch**: 1000 round trips per pair of clock "
              "reads, percentiles over batches (what a round trip costs); **per-sample**: each round trip timed alone, "
              "whose own clock reads (`clock` below) and the gap they leave between round trips slow it too. "
              "Means and maxima carry vCPU preemption (µs to s).\n")
    md.append("| pair | timing | round trips | p50 | p99 | p99.9 | max | mean | clock | pinned |")
    md.append("|---|---|---|---|---|---|---|---|---|---|")
    for impl in ("c-c", "java-java"):
        for timing in ("batch", "per-sample"):
            p = pingpong.get((impl, timing))
            if p:
                md.append(f"| {impl} | {timing} | {p['count']}{' (cut at the time limit)' if p.get('truncated') else ''} | {p['p50_ns']} | "
                          f"{p['p99_ns']} | {p['p999_ns']} | {p['max_ns']} | {p['mean_ns']} | {p.get('clock_ns', '–')} | {p.get('pinned', '–')} |")

if alloc:
    norms = [v[0] for v in alloc.values()]
    rates = [v[1] for v in alloc.values()]
    (wn, wr, wt), wk = max((v, k) for k, v in alloc.items())
    (fn, fr, ft), fk = min(((v, k) for k, v in alloc.items()), key=lambda x: x[0][2])
    md.append(f"\n### allocation (JMH `-prof gc`)\n")
    md.append(f"Over all {len(alloc)} runs gc.alloc.rate stays between {min(rates):.2f} and {max(rates):.2f} MB/s, whatever the "
              f"speed of the benchmark (from {ft:.3g} to {wt:.4g} ns/op): a fixed background of JMH's own threads, not "
              f"allocation per operation. gc.alloc.rate.norm is that rate times the time per op: {fn:.6f} B/op for the "
              f"fastest run ({fk[0]} {fk[1]} {human(fk[2])}), at most {wn:.3f} B/op for the slowest ({wk[0]} {wk[1]} "
              f"{human(wk[2])}). An access path allocating one 16-byte object per op would show "
              f"{16 / ft * 1e3:.0f} MB/s on the fastest run.")

# targets
md.append("\n### targets (ratios within this run)\n")
md.append("| target | measured | verdict |")
md.append("|---|---|---|")


def verdict(r, limit):
    return "–" if r is None else ("met" if r <= limit else "missed")


for s in sizes:  # the list's targets against C are judged paired, in the section above
    for impl in ("panmap-direct", "panmap-offset"):
        r = ratio(get("scan", s, impl), get("scan", s, "c-scan-1"))
        if r is not None:
            md.append(f"| scan {human(s)}: {impl} ≤ 1.2 × C's one-sum loop (the same algorithm) | {r:.2f} | {verdict(r, 1.2)} |")
if ("java-java", "batch") in pingpong and ("c-c", "batch") in pingpong and pingpong[("c-c", "batch")]["p50_ns"]:
    r = pingpong[("java-java", "batch")]["p50_ns"] / pingpong[("c-c", "batch")]["p50_ns"]
    md.append(f"| ping-pong p50 (batched): Java-Java ≤ 1.5 × C-C | {r:.2f} | {verdict(r, 1.5)} |")
slower = []
for _, key, _ in BENCHES:
    for s in sizes:
        j = results.get((key, s, "jdk-segment"))
        for impl in ("panmap-direct", "panmap-offset"):
            p = results.get((key, s, impl))
            if p and j and p[0] > j[0]:
                overlap = (p[1] or 0) + (j[1] or 0) >= p[0] - j[0]
                slower.append(f"{key} {human(s)} {impl} {p[0] / j[0]:.2f}×" + (" (within error)" if overlap else ""))
md.append("| panmap no slower than jdk-segment anywhere | "
          + ("slower in: " + "; ".join(slower) if slower else "never slower") + " | "
          + ("met" if not slower else "met within error" if all("within error" in x for x in slower) else "missed") + " |")

ring_md = os.path.join(OUT, "ring.md")
if os.path.exists(ring_md):  # the rings' section (ring.py), with its own chart ring.svg
    with open(ring_md) as f:
        md += ["", f.read().rstrip()]

with open(os.path.join(OUT, "summary.md"), "w") as f:
    f.write("\n".join(md) + "\n")

# chart: one panel per benchmark, clusters per size, a bar per variant, log scale
PANEL_W, PANEL_H, LEFT, TOP = 560, 260, 60, 40
cols = 2
rows = math.ceil(len(BENCHES) / cols)
W, H = cols * (PANEL_W + LEFT) + 20, rows * (PANEL_H + TOP + 40) + 80
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="10" y="18" font-size="14">panmap: ns/op by variant and size (log scale, lower is better; whiskers: JMH 99.9% error)</text>',
       f'<text x="10" y="34" fill="#555">{machine.replace("&", "&amp;")}</text>']
for n, (_, key, title) in enumerate(BENCHES):
    ox, oy = 10 + (n % cols) * (PANEL_W + LEFT) + LEFT, 60 + (n // cols) * (PANEL_H + TOP + 40) + TOP
    impls = [i for i in IMPLS if any((key, s, i) in results for s in sizes)]
    vals = [results[(key, s, i)][0] for s in sizes for i in impls if (key, s, i) in results]
    if not vals:
        continue
    lo, hi = 10 ** math.floor(math.log10(min(vals))), 10 ** math.ceil(math.log10(max(vals)))
    y = lambda v: oy + PANEL_H - PANEL_H * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    svg.append(f'<text x="{ox}" y="{oy - 8}" font-size="12">{title}</text>')
    svg.append(f'<rect x="{ox}" y="{oy}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#999"/>')
    d = lo
    while d <= hi * 1.0001:
        svg.append(f'<line x1="{ox}" x2="{ox + PANEL_W}" y1="{y(d):.1f}" y2="{y(d):.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{ox - 4}" y="{y(d) + 4:.1f}" text-anchor="end">{d:g}</text>')
        d *= 10
    cw = PANEL_W / len(sizes)
    bw = (cw - 20) / len(impls)
    for si, s in enumerate(sizes):
        svg.append(f'<text x="{ox + si * cw + cw / 2:.1f}" y="{oy + PANEL_H + 14}" text-anchor="middle">{human(s)}</text>')
        for ii, i in enumerate(impls):
            v = results.get((key, s, i))
            if not v:
                continue
            x = ox + si * cw + 10 + ii * bw
            svg.append(f'<rect x="{x:.1f}" y="{y(v[0]):.1f}" width="{bw - 2:.1f}" height="{oy + PANEL_H - y(v[0]):.1f}" '
                       f'fill="{COLORS[i]}"><title>{i} {human(s)}: {v[0]:.3f} ns/op</title></rect>')
            if v[1]:  # JMH's 99.9% error as a whisker (clamped to the panel)
                cx, top_v, bottom_v = x + (bw - 2) / 2, min(hi, v[0] + v[1]), max(lo, v[0] - v[1])
                svg.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(top_v):.1f}" y2="{y(bottom_v):.1f}" stroke="#000"/>')
    lw = max(135, 22 + 6.5 * max(len(i) for i in impls))  # a legend entry: box, gap, label (~6.5 px a character)
    per_row = max(1, int(PANEL_W // lw))
    for ii, i in enumerate(impls):
        lx = ox + (ii % per_row) * lw
        ly = oy + PANEL_H + 28 + (ii // per_row) * 13
        svg.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{COLORS[i]}"/><text x="{lx + 14}" y="{ly}">{i}</text>')
svg.append("</svg>")
with open(os.path.join(OUT, "chart.svg"), "w") as f:
    f.write("\n".join(svg) + "\n")
print("\n".join(md))
