#!/usr/bin/env python3
"""The attach report: reads OUT/attach.json (the JSON lines of Attach.java, with c/attach.c's cycles
in them), writes OUT/attach.md and OUT/attach.svg. Standard library only.

Per variant: the median and p99 of every cycle (open + close, or C's shm_open + mmap + munmap +
close). Java against C: the ratio of their medians per round (the variants of a round ran back to
back), summarised as in paired.py: the median of the per-round ratios with a distribution-free 95%
interval. The attach path taken apart: each step's median and p99, timed alone.

usage: attach.py OUT
"""
import json
import os
import sys

from paired_stats import median, median_ci

OUT = sys.argv[1]
cycles, rounds, steps, long_blocks, resources = {}, {}, [], [], {}
with open(os.path.join(OUT, "attach.json")) as f:
    for line in f:
        if not line.strip().startswith("{"):
            continue
        r = json.loads(line)
        if r.get("bench") == "attach":
            cycles.setdefault(r["variant"], []).extend(r["cycles_ns"])
            rounds.setdefault(r["variant"], {})[r["round"]] = median(r["cycles_ns"])
        elif r.get("bench") == "attach-step":
            steps.append(r)
        elif r.get("bench") == "attach-long":
            long_blocks.append(r)
        elif r.get("bench") == "attach-resources":
            resources[r["when"]] = r
VARIANTS = [("java-ro", "panmap, read-only (OPEN_READ_ONLY, defaults: an arena shared by a batch of regions)"),
            ("java-rw", "panmap, read-write (OPEN_ONLY, defaults: registers in the attach table)"),
            ("java-own-ro", "panmap, read-only, `ownArena(true)` (a handshake per close)"),
            ("java-own-rw", "panmap, read-write, `ownArena(true)`"),
            ("java-confined-ro", "panmap, read-only, `confinedToThread(true)`"),
            ("java-confined-rw", "panmap, read-write, `confinedToThread(true)`"),
            ("c-ro", "C: shm_open(O_RDONLY) + mmap + munmap + close"),
            ("c-rw", "C: shm_open(O_RDWR) + mmap(PROT_READ\\|PROT_WRITE) + munmap + close")]
# the targets of issue 27: the default within 2x of C, confined within 1.3x; ownArena has none (shown for comparison)
TARGETS = [("java-ro", "c-ro", 2.0), ("java-rw", "c-rw", 2.0), ("java-confined-ro", "c-ro", 1.3), ("java-confined-rw", "c-rw", 1.3),
           ("java-own-ro", "c-ro", None), ("java-own-rw", "c-rw", None), ("java-ro", "java-own-ro", None), ("java-rw", "java-own-rw", None)]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def paired(a, b):
    x, y = rounds.get(a), rounds.get(b)
    if not x or not y:
        return None
    ratios = [x[r] / y[r] for r in x if r in y]
    lo, hi = median_ci(ratios)
    return median(ratios), lo, hi, len(ratios)


md = ["## Attach cost\n",
      "`SharedRegion.open` + `close` of an existing 1 MiB region, in a loop as a new user would write it, against C's "
      "`shm_open` + `mmap` + `munmap` + `close` of the same object (`c/attach.c`, driven over a pipe so that its cycles "
      "run interleaved with Java's, round by round). µs per cycle over all cycles:\n",
      "| variant | cycles | median µs | p99 µs |", "|---|---|---|---|"]
for v, what in VARIANTS:
    if v in cycles:
        md.append(f"| {what} (`{v}`) | {len(cycles[v])} | {median(cycles[v]) / 1e3:.1f} | {pct(cycles[v], 0.99) / 1e3:.1f} |")
md += ["", "**Targets** (ratio of the per-round medians, paired; met only if the whole 95% interval is under the limit, "
       "missed only if all of it is over, else inconclusive):", "",
       "| ratio | median [95% CI] | limit | result |", "|---|---|---|---|"]
for a, b, limit in TARGETS:
    p = paired(a, b)
    if p:
        m, lo, hi, n = p
        if limit is None:
            result = "(comparison)"
        else:
            result = "met" if hi <= limit else "missed" if lo > limit else f"inconclusive: the interval holds {limit}"
        md.append(f"| `{a}` / `{b}` | {m:.2f} [{lo:.2f}, {hi:.2f}] ({n} rounds) | {limit or '-'} | {result} |")
if long_blocks:
    md += ["", "**Long runs**, one variant's cycles in a row (medians per block, µs):", "",
           "| variant | cycles | medians per block | last / first |", "|---|---|---|---|"]
    for v in dict.fromkeys(b.get("variant", "java-rw") for b in long_blocks):
        blocks = [b for b in long_blocks if b.get("variant", "java-rw") == v]
        md.append(f"| `{v}` | {sum(b['cycles'] for b in blocks):,} | " + ", ".join(f"{b['median_ns'] / 1e3:.1f}" for b in blocks)
                  + f" | {blocks[-1]['median_ns'] / blocks[0]['median_ns']:.2f} |")
    if "before" in resources and "after" in resources:
        b, a = resources["before"], resources["after"]
        md += ["", "What the process holds before and after the `java-rw` run (with every region closed and the batch ended):", "",
               "| held by the process | before | after |", "|---|---|---|"]
        for k, what in [("fds", "descriptors"), ("maps", "/proc/self/maps lines"), ("bookRanges", "panmap's reserved ranges"),
                        ("bookBytes", "panmap's reserved bytes"), ("threads", "Java threads")]:
            md.append(f"| {what} | {b[k]:,} | {a[k]:,} |")
if steps:
    md += ["", "The attach path taken apart, each step alone through panmap's own wrappers (µs):", "",
           "| step | median | p99 |", "|---|---|---|"]
    for s in steps:
        md.append(f"| {s['step']} | {s['median_ns'] / 1e3:.2f} | {s['p99_ns'] / 1e3:.2f} |")
with open(os.path.join(OUT, "attach.md"), "w") as f:
    f.write("\n".join(md) + "\n")

# chart: median and p99 per variant, µs, log scale
import math
present = [(v, w) for v, w in VARIANTS if v in cycles]
W, H, left, top, bottom = 760, 320, 70, 40, 70
vals = [x for v, _ in present for x in (median(cycles[v]), pct(cycles[v], 0.99))]
lo, hi = 10 ** math.floor(math.log10(min(vals) / 1e3)), 10 ** math.ceil(math.log10(max(vals) / 1e3))
y = lambda us: top + (H - top - bottom) * (math.log10(hi) - math.log10(us)) / (math.log10(hi) - math.log10(lo))
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       '<rect width="100%" height="100%" fill="white"/>',
       '<text x="10" y="20" font-size="14">Attach + close of a 1 MiB region, µs per cycle (log scale): median (bar) and p99 (tick)</text>']
d = lo
while d <= hi * 1.0001:
    svg.append(f'<line x1="{left}" x2="{W - 20}" y1="{y(d):.1f}" y2="{y(d):.1f}" stroke="#ddd"/>')
    svg.append(f'<text x="{left - 6}" y="{y(d) + 4:.1f}" text-anchor="end">{d:g}</text>')
    d *= 10
bw = (W - left - 20) / max(1, len(present))
for i, (v, _) in enumerate(present):
    x = left + i * bw + 10
    m, p99 = median(cycles[v]) / 1e3, pct(cycles[v], 0.99) / 1e3
    color = "#555555" if v.startswith("c-") else "#2ca02c" if "confined" in v else "#ff7f0e" if "own" in v else "#1f77b4"
    svg.append(f'<rect x="{x:.1f}" y="{y(m):.1f}" width="{bw - 20:.1f}" height="{H - bottom - y(m):.1f}" fill="{color}"><title>{v}: {m:.1f} µs</title></rect>')
    svg.append(f'<line x1="{x:.1f}" x2="{x + bw - 20:.1f}" y1="{y(p99):.1f}" y2="{y(p99):.1f}" stroke="#000" stroke-width="2"/>')
    svg.append(f'<text x="{x + (bw - 20) / 2:.1f}" y="{H - bottom + 16}" text-anchor="middle">{v}</text>')
    svg.append(f'<text x="{x + (bw - 20) / 2:.1f}" y="{H - bottom + 30}" text-anchor="middle">{m:.1f} / {p99:.0f}</text>')
svg.append("</svg>")
with open(os.path.join(OUT, "attach.svg"), "w") as f:
    f.write("\n".join(svg) + "\n")
print(f"attach.py: wrote {OUT}/attach.md and {OUT}/attach.svg")
