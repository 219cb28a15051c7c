#!/usr/bin/env python3
"""The paired pointer-vs-offset report: reads OUT/paired.json (the JSON lines of Paired.java and of
c/chase.c) and OUT/paired-graal.json (Paired.java with Graal as the JIT), writes OUT/paired.md and
OUT/paired.svg. Standard library only.

Every sample of a round ran back to back with the others of that round, on the same list in the same
pages, so a ratio is taken per round and then summarised: its median and a distribution-free 95%
confidence interval of that median (order statistics of the binomial). A ratio whose interval holds
1.0 is reported as "no difference", whatever its median says.

usage: paired.py OUT
"""
import json
import math
import os
import sys

from paired_stats import median, median_ci
from report import human

OUT = sys.argv[1]
JAVA_RATIOS = [  # asked per JIT: C2's rows are named as they always were, Graal's get "@graal" (Paired's "jit" field)
    ("java-offset", "java-direct", "OFFSET (as panmap reads it) vs DIRECT (as it ships, checked)"),
    ("java-offset", "java-direct-unchecked", "OFFSET vs a bare pointer load"),
    ("java-direct", "java-direct-unchecked", "what DIRECT's reference check costs"),
    ("java-bounded-segment", "java-direct", "the JDK's bounded segment (ref - base) vs DIRECT"),
    ("java-bounded-segment", "java-offset", "the bounded segment vs panmap's offset path"),
]
RATIOS = [(n, d, "Java, C2: " + w) for n, d, w in JAVA_RATIOS] + [(n + "@graal", d + "@graal", "Java, Graal: " + w) for n, d, w in JAVA_RATIOS] + [
    ("c-offset", "c-pointer", "C: offset (base+index addressing) vs pointer"),
    ("c-offset-add", "c-pointer", "C: offset with the add kept apart (add; mov, as C2 emits it) vs pointer"),
    ("c-pointer-cmov", "c-pointer", "C: the old reference's cmov wrap vs a predicted branch"),
    # the largest size on 2 MiB pages (a hugetlbfs file), paired with 4 KiB pages round by round: above 1.0, huge pages are faster
    ("java-direct", "java-direct-huge", "Java DIRECT: 4 KiB pages vs 2 MiB pages"),
    ("java-offset", "java-offset-huge", "Java OFFSET: 4 KiB pages vs 2 MiB pages"),
    ("java-bounded-segment", "java-bounded-segment-huge", "Java bounded segment (the JDK's way): 4 KiB vs 2 MiB pages"),
    ("c-pointer", "c-pointer-huge", "C pointer: 4 KiB pages vs 2 MiB pages"),
    ("c-offset", "c-offset-huge", "C offset: 4 KiB pages vs 2 MiB pages"),
    ("java-offset-huge", "java-direct-huge", "Java on 2 MiB pages: OFFSET vs DIRECT"),
]
TARGETS = [  # (numerator, denominator, size, limit, text); size None: the largest; limit < 0: at least -limit
    ("java-offset", "java-direct", 16384, 1.10, "C2: OFFSET within 1.10x of DIRECT at 16 KiB"),
    ("java-offset", "java-direct", 262144, 1.03, "C2: OFFSET within 1.03x of DIRECT at 256 KiB"),
    ("java-offset@graal", "java-direct@graal", 16384, 1.10, "Graal: OFFSET within 1.10x of DIRECT at 16 KiB"),
    ("java-offset@graal", "java-direct@graal", 262144, 1.03, "Graal: OFFSET within 1.03x of DIRECT at 256 KiB"),
    ("java-direct", "java-direct-huge", None, -1.3, "Java DIRECT: 2 MiB pages at least 1.3x faster than 4 KiB pages at the largest size"),
    ("java-offset", "java-offset-huge", None, -1.3, "Java OFFSET: 2 MiB pages at least 1.3x faster than 4 KiB pages at the largest size"),
    ("java-bounded-segment", "java-bounded-segment-huge", None, -1.3, "Java bounded segment: 2 MiB pages at least 1.3x faster at the largest size"),
    ("c-pointer", "c-pointer-huge", None, -1.3, "C pointer: 2 MiB pages at least 1.3x faster than 4 KiB pages at the largest size"),
]




rows, jit_rows = [], []
# paired.json: the C2 run (with C's lines); paired-graal.json: the same chase with Graal as the JIT (make bench's JIT dimension)
for name in ("paired.json", "paired-graal.json"):
    if not os.path.exists(os.path.join(OUT, name)):
        continue
    with open(os.path.join(OUT, name)) as f:
        for line in f:
            if line.strip().startswith("{"):
                r = json.loads(line)
                if r.get("bench") == "chase":
                    rows.append(r)
                elif r.get("bench") == "chase-jit":
                    jit_rows.append(r)
samples = {}  # (size, variant) -> {round: ns}; a Graal run's Java variants are named VARIANT@graal
for r in rows:
    v = r["variant"] + ("@graal" if r.get("jit") == "graal" else "")
    samples.setdefault((int(r["size"]), v), {})[int(r["round"])] = float(r["ns_per_hop"])
sizes = sorted({s for s, _ in samples})
JAVA_VARIANTS = ["java-direct-unchecked", "java-direct", "java-offset", "java-bounded-segment"]
BASE_VARIANTS = JAVA_VARIANTS + ["c-pointer", "c-offset", "c-offset-add", "c-pointer-cmov"]
variants = [v for v in BASE_VARIANTS + [b + "-huge" for b in BASE_VARIANTS] + [j + "@graal" for j in JAVA_VARIANTS]
            if any((s, v) in samples for s in sizes)]


def paired(num, den, size):
    a, b = samples.get((size, num)), samples.get((size, den))
    if not a or not b:
        return None
    ratios = [a[r] / b[r] for r in a if r in b]
    if not ratios:
        return None
    lo, hi = median_ci(ratios)
    return median(ratios), lo, hi, len(ratios)


def spread(num, den, size):
    """p10 and p90 of the per-round ratios: how wide the rounds scatter (the interval is the median's)."""
    a, b = samples.get((size, num)), samples.get((size, den))
    if not a or not b:
        return None
    ratios = sorted(a[r] / b[r] for r in a if r in b)
    return ratios[len(ratios) // 10], ratios[(len(ratios) * 9) // 10]


def verdict(m, lo, hi):
    if lo <= 1.0 <= hi:
        return "no difference"
    return f"{(m - 1) * 100:+.0f}%" if abs(m - 1) >= 0.01 else f"{(m - 1) * 100:+.1f}%"


md = ["## Pointer vs offset, paired\n",
      "Every variant chases the same panmap `NodeList` (64-byte nodes in one random order) through the same "
      "physical pages; the Java variants run interleaved in one JVM, round by round in rotating order, and "
      "then `c/chase.c` maps the very same shm object and does the same in C. ns per hop: median of the "
      "rounds; ratios: median of the per-round ratios with a distribution-free 95% confidence interval. "
      "An interval that holds 1.0 reads \"no difference\".\n",
      "| size | " + " | ".join(variants) + " |", "|---|" + "---|" * len(variants)]
for s in sizes:
    cells = []
    for v in variants:
        d = samples.get((s, v))
        cells.append(f"{median(d.values()):.2f}" if d else "–")
    md.append(f"| {human(s)} | " + " | ".join(cells) + " |")
md += ["", "| question | " + " | ".join(human(s) for s in sizes) + " |", "|---|" + "---|" * len(sizes)]
for num, den, what in RATIOS:
    cells = []
    for s in sizes:
        p = paired(num, den, s)
        cells.append("–" if p is None else f"{p[0]:.3f} [{p[1]:.3f}, {p[2]:.3f}] {verdict(*p[:3])}")
    if any(c != "–" for c in cells):
        md.append(f"| {what} (`{num}` / `{den}`) | " + " | ".join(cells) + " |")
md += ["", "Java beside C, and Graal beside C2 (separate processes, so a ratio of medians, not paired):", "",
       "| size | Java DIRECT / C pointer | Java DIRECT unchecked / C pointer | Java OFFSET / C offset | Java OFFSET / C offset-add (the same add; mov) "
       "| Graal DIRECT / C pointer | Graal OFFSET / C pointer | Graal DIRECT / C2 DIRECT | Graal OFFSET / C2 OFFSET |",
       "|---|---|---|---|---|---|---|---|---|"]
for s in sizes:
    def rm(a, b):
        x, y = samples.get((s, a)), samples.get((s, b))
        return f"{median(x.values()) / median(y.values()):.2f}" if x and y else "–"
    md.append(f"| {human(s)} | {rm('java-direct', 'c-pointer')} | {rm('java-direct-unchecked', 'c-pointer')} | {rm('java-offset', 'c-offset')} "
              f"| {rm('java-offset', 'c-offset-add')} | {rm('java-direct@graal', 'c-pointer')} | {rm('java-offset@graal', 'c-pointer')} "
              f"| {rm('java-direct@graal', 'java-direct')} | {rm('java-offset@graal', 'java-offset')} |")
if any((s, "java-offset@graal") in samples for s in sizes):
    md += ["", "**Per JIT**: OFFSET / DIRECT per round, median [95% interval of the median] and the rounds' spread (p10-p90); "
           "then what the JIT did (JFR's compilation and deoptimisation events, in the benchmark's JVM): how long the warm-up "
           "took to see `Paired.chase`, into which the JIT inlines `NodeList.advance` and the hop loops, "
           "compiled at level 4 (then 1.5 s more), and what was compiled or deoptimised while the rounds ran. A wide p10-p90 with "
           "compilations during the rounds is the JIT's threads taking CPU from the chase; on a loaded machine preemption widens both.", "",
           "| size | JIT | OFFSET / DIRECT | p10-p90 | warm-up | top tier reached | compilations during the rounds (all / hop loops) | deoptimisations (all / hop loops) |",
           "|---|---|---|---|---|---|---|---|"]
    for s in sizes:
        for jit, suffix in (("c2", ""), ("graal", "@graal")):
            p = paired("java-offset" + suffix, "java-direct" + suffix, s)
            if p is None:
                continue
            sp = spread("java-offset" + suffix, "java-direct" + suffix, s)
            j = next((r for r in jit_rows if r["jit"] == jit and int(r["size"]) == s), None)
            jcells = (f"{j['warmup_ms'] / 1000:.1f} s | {'yes' if j['top_tier'] else 'NO (timed out)'} | {j['compiles_in_rounds']} / {j['hot_compiles_in_rounds']} "
                      f"| {j['deopts_in_rounds']} / {j['hot_deopts_in_rounds']}") if j else "– | – | – | –"
            md.append(f"| {human(s)} | {'C2' if jit == 'c2' else 'Graal'} | {p[0]:.3f} [{p[1]:.3f}, {p[2]:.3f}] {verdict(*p[:3])} "
                      f"| {sp[0]:.2f}-{sp[1]:.2f} | {jcells} |")
md += ["", "**Targets** (judged on the interval: met only if the whole interval is within the limit):", "",
       "| target | ratio [95% CI] | result |", "|---|---|---|"]
for num, den, size, limit, text in TARGETS:
    p = paired(num, den, sizes[-1] if size is None and sizes else size)
    if p is None:
        md.append(f"| {text} | – | not measured" + (" (the huge-page rows need root: jmh/hugepages.sh)" if limit < 0 else "") + " |")
        continue
    m, lo, hi, n = p
    if limit < 0:  # at least -limit: met only if the whole interval is at or above it
        result = "met" if lo >= -limit else "missed" if hi < -limit else "not decided (the interval straddles the limit)"
    else:
        result = "met" if hi <= limit else "missed" if lo > limit else "not decided (the interval straddles the limit)"
    md.append(f"| {text} | {m:.3f} [{lo:.3f}, {hi:.3f}] ({n} rounds) | {result} |")
with open(os.path.join(OUT, "paired.md"), "w") as f:
    f.write("\n".join(md) + "\n")

# chart: OFFSET / DIRECT per size, Java beside C, with the intervals
pairs = [("java-offset", "java-direct", "Java OFFSET / DIRECT (C2)", "#ff7f0e"),
         ("java-offset@graal", "java-direct@graal", "Java OFFSET / DIRECT (Graal)", "#d62728"),
         ("c-offset", "c-pointer", "C offset / pointer", "#555555"),
         ("java-bounded-segment", "java-direct", "Java bounded segment / DIRECT", "#2ca02c"),
         ("java-direct-huge", "java-direct", "Java DIRECT 2M / 4K pages", "#9467bd"),
         ("c-pointer-huge", "c-pointer", "C pointer 2M / 4K pages", "#8c564b")]
W, H, left, top, bottom = 760, 380, 70, 40, 80
values = [paired(n, d, s) for s in sizes for n, d, _, _ in pairs]
ymax = max([1.2] + [p[2] for p in values if p]) * 1.05
ymin = min([0.9] + [p[1] for p in values if p]) * 0.95
plot_h = H - top - bottom
group = (W - left - 20) / max(1, len(sizes))
bar = group / (len(pairs) + 1)


def y(v):
    return top + plot_h * (ymax - v) / (ymax - ymin)


svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<text x="10" y="20" font-size="14">Ratios per round, median and 95% interval (below 1.0: the first is faster; 2M / 4K pages at the largest size)</text>',
       f'<line x1="{left}" x2="{W - 20}" y1="{y(1.0):.1f}" y2="{y(1.0):.1f}" stroke="#000" stroke-dasharray="4,3"/>']
for t in range(int(ymin * 20) + 1, int(ymax * 20) + 1):
    v = t / 20
    svg.append(f'<text x="{left - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.2f}</text>')
    svg.append(f'<line x1="{left}" x2="{W - 20}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>')
for i, s in enumerate(sizes):
    x0 = left + i * group
    svg.append(f'<text x="{x0 + group / 2:.1f}" y="{H - bottom + 18}" text-anchor="middle">{human(s)}</text>')
    for j, (n, d, label, color) in enumerate(pairs):
        p = paired(n, d, s)
        if not p:
            continue
        x = x0 + (j + 0.5) * bar
        m, lo, hi, _ = p
        base = y(max(ymin, min(1.0, m)))
        svg.append(f'<rect x="{x:.1f}" y="{min(y(m), y(1.0)):.1f}" width="{bar * 0.8:.1f}" height="{abs(y(m) - y(1.0)):.1f}" fill="{color}"/>')
        cx = x + bar * 0.4
        svg.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(hi):.1f}" y2="{y(lo):.1f}" stroke="#000"/>')
        svg.append(f'<line x1="{cx - 4:.1f}" x2="{cx + 4:.1f}" y1="{y(hi):.1f}" y2="{y(hi):.1f}" stroke="#000"/>')
        svg.append(f'<line x1="{cx - 4:.1f}" x2="{cx + 4:.1f}" y1="{y(lo):.1f}" y2="{y(lo):.1f}" stroke="#000"/>')
for j, (_, _, label, color) in enumerate(pairs):
    lx, ly = left + (j % 3) * 230, H - 38 + (j // 3) * 16
    svg.append(f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" fill="{color}"/>')
    svg.append(f'<text x="{lx + 18}" y="{ly}">{label}</text>')
svg.append("</svg>")
with open(os.path.join(OUT, "paired.svg"), "w") as f:
    f.write("\n".join(svg) + "\n")
print(f"paired.py: wrote {OUT}/paired.md and {OUT}/paired.svg ({len(rows)} samples, {len(sizes)} sizes)")
