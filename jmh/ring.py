#!/usr/bin/env python3
"""The rings' section of the report: reads OUT/ring.json (RingBench's and c/ring's JSON lines) and
writes OUT/ring.md and OUT/ring.svg. Ratios are taken per round (the variants of a row run
back to back in each round, in an order rotated by the round) and reported as the median with a
distribution-free 95% interval; a target is met only if its whole interval is on the right side
of the limit, missed only if its whole interval is on the wrong side. Standard library only.

usage: ring.py OUT
"""
import json
import math
import os
import sys

from paired_stats import median, median_ci

OUT = sys.argv[1]
recs = []
with open(os.path.join(OUT, "ring.json")) as f:
    for line in f:
        line = line.strip()
        if line.startswith("{"):
            recs.append(json.loads(line))
setup = next((r for r in recs if r["bench"] == "ring-setup"), {})

tput = {}  # (kind, size, variant) -> {round: msgs/s}
alloc = {}  # (kind, size, variant) -> [(consumer, producer) bytes per message]
for r in recs:
    if r["bench"] == "ring-throughput":
        key = (r["kind"], int(r["size"]), r["variant"])
        tput.setdefault(key, {})[int(r["round"])] = float(r["msgs_per_s"])
        if "consumer_bytes_per_msg" in r:
            alloc.setdefault(key, []).append((r["consumer_bytes_per_msg"], r["producer_bytes_per_msg"], r["count"], r.get("liveness_checks")))
lat = {}  # variant -> {round: record}
for r in recs:
    if r["bench"] == "ring-latency":
        lat.setdefault(r["variant"], {})[int(r["round"])] = r
wake = {}  # variant -> [p50 per round]
for r in recs:
    if r["bench"] == "ring-wake":
        wake.setdefault(r["variant"], []).append(r)

ROWS = [("one-to-one", 32), ("one-to-one", 256), ("many-to-one", 32), ("many-to-one", 256)]
# RingBench's variant names: "panmap-signalling" is the default producer (Ring.producer(): a look at the
# consumer's sleeping flag per commit), the headline; "panmap" is producer(false), the secondary column
VARIANTS = ["panmap-signalling", "panmap", "agrona", "c"]
LABELS = {"panmap-signalling": "panmap (default producer)", "panmap": "panmap producer(false)", "agrona": "agrona", "c": "c"}


def ratio(a, b):
    """per-round a/b: (median, lo, hi, n) or None"""
    rs = [a[k] / b[k] for k in a if k in b and b[k] > 0]
    if not rs:
        return None
    lo, hi = median_ci(rs)
    return median(rs), lo, hi, len(rs)


def fmt_ratio(x):
    return "n/a" if not x else f"**{x[0]:.2f}** [{x[1]:.2f}, {x[2]:.2f}]"


def rounds_needed(x, limit):
    """what an interval holding the limit would take to decide: the rounds after which the interval, narrowing
    as 1/sqrt(rounds), would end short of the limit if the median stayed where it is (None: the median is on it)"""
    m, lo, hi, n = x
    d = abs(m - limit)
    w = (m - lo) if m > limit else (hi - m)
    if d < 1e-9 or w <= 0:
        return None
    return max(n + 1, math.ceil(n * (w / d) ** 2))


def inconclusive(x, limit):
    k = rounds_needed(x, limit)
    if k is None:
        return (f"inconclusive: the interval holds {limit:g} and the median sits on it; no number of rounds on this "
                f"machine's noise would tell a difference this small")
    return (f"inconclusive: the interval holds {limit:g}; deciding it would take about {k} rounds at this spread "
            f"(had {x[3]}), or a quieter machine")


# below 6 rounds even the full range of the rounds covers the median less than 95% of the time
MIN_ROUNDS = 6


def too_few(x):
    return (f"inconclusive: {x[3]} round{'s' if x[3] != 1 else ''}; a 95% interval of the median needs at least {MIN_ROUNDS}"
            if x[3] < MIN_ROUNDS else None)


def at_least(x, limit):
    if not x:
        return "not measured"
    if too_few(x):
        return too_few(x)
    if x[1] >= limit:
        return "met"
    if x[2] < limit:
        return f"missed by {(1 - x[0] / limit) * 100:.0f}%"
    return inconclusive(x, limit)


def at_most(x, limit):
    if not x:
        return "not measured"
    if too_few(x):
        return too_few(x)
    if x[2] <= limit:
        return "met"
    if x[1] > limit:
        return f"missed: {x[0]:.2f}x against {limit:g}x"
    return inconclusive(x, limit)


md = ["## IPC rings (`RingBench`, `c/ring.c`)\n",
      f"Rounds: {setup.get('rounds')}; {setup.get('count')} messages per throughput sample; {setup.get('latency')} round trips "
      f"per latency sample; buffers of {setup.get('capacity', 0) // 1024} KiB; consumer and producers pinned: {setup.get('pinned')} "
      "(the consumer's thread on the first CPU, each producer's on the second: the two producers of a many-to-one row share it). "
      "A shared 2-vCPU machine: figures move between runs; the per-round ratios are what to read. "
      "Every variant does the same work per message: the producer writes every 8-byte word of the payload, the consumer "
      "reads every word into a checked sum. The headline panmap column is the default producer (`Ring.producer()`, "
      "signalling: a full fence and a look at the consumer's sleeping flag per commit); `producer(false)` (no signalling, "
      "as Agrona's, which cannot wake a sleeping consumer) is the secondary column.\n",
      "### throughput, million messages per second (median of rounds [95% interval])\n",
      "| row | " + " | ".join(LABELS[v] for v in VARIANTS) + " |", "|---|" + "---|" * len(VARIANTS)]
for kind, size in ROWS:
    cells = []
    for v in VARIANTS:
        xs = list(tput.get((kind, size, v), {}).values())
        if xs:
            lo, hi = median_ci(xs)
            cells.append(f"{median(xs) / 1e6:.1f} [{lo / 1e6:.1f}, {hi / 1e6:.1f}]")
        else:
            cells.append("n/a")
    md.append(f"| {kind} {size} B | " + " | ".join(cells) + " |")

md += ["\n### throughput ratios, paired per round\n",
       "| row | panmap (default) / agrona | panmap (default) / c | producer(false) / agrona | producer(false) / c | agrona / c "
       "| target: panmap (default) ≥ agrona |",
       "|---|---|---|---|---|---|---|"]
targets = []
for kind, size in ROWS:
    g = lambda v: tput.get((kind, size, v), {})
    da, dc = ratio(g("panmap-signalling"), g("agrona")), ratio(g("panmap-signalling"), g("c"))
    qa, qc, ac = ratio(g("panmap"), g("agrona")), ratio(g("panmap"), g("c")), ratio(g("agrona"), g("c"))
    verdict = at_least(da, 1.0)
    targets.append((f"throughput ≥ Agrona, {kind} {size} B (default producer)", fmt_ratio(da), verdict))
    if (kind, size) == ("one-to-one", 32):
        targets.append((f"throughput ≥ 0.5 × the C twin, {kind} {size} B (default producer)", fmt_ratio(dc), at_least(dc, 0.5)))
    md.append(f"| {kind} {size} B | {fmt_ratio(da)} | {fmt_ratio(dc)} | {fmt_ratio(qa)} | {fmt_ratio(qc)} | {fmt_ratio(ac)} | {verdict} |")

md += ["\n### round trip, ping ring and pong ring, 32-byte messages (ns; median over rounds of each round's percentile)\n",
       "panmap's ping and pong producers are the default ones (signalling); every word of each message is written and read.\n",
       "| variant | p50 | p99 | p99.9 | p99.99 | max |", "|---|---|---|---|---|---|"]
for v in ["panmap", "agrona", "c"]:
    rs = list(lat.get(v, {}).values())
    if rs:
        md.append(f"| {v} | " + " | ".join(f"{median([r[k] for r in rs]):.0f}" for k in ["p50_ns", "p99_ns", "p999_ns", "p9999_ns", "max_ns"]) + " |")
pct = lambda v, k: {r: rec[k] for r, rec in lat.get(v, {}).items()}
p50 = ratio(pct("panmap", "p50_ns"), pct("c", "p50_ns"))
p999 = ratio(pct("panmap", "p999_ns"), pct("c", "p999_ns"))
md += ["", "| ratio, paired per round | p50 | p99 | p99.9 |", "|---|---|---|---|"]
for num, den in [("panmap", "c"), ("agrona", "c"), ("panmap", "agrona")]:
    md.append(f"| {num} / {den} | " + " | ".join(fmt_ratio(ratio(pct(num, k), pct(den, k))) for k in ["p50_ns", "p99_ns", "p999_ns"]) + " |")
targets.append(("round trip p50 ≤ 1.1 × C", fmt_ratio(p50), at_most(p50, 1.1)))
targets.append(("round trip p99.9 ≤ 1.5 × C", fmt_ratio(p999), at_most(p999, 1.5)))

md += ["\n### wake-up latency of a sleeping consumer, a message every 2 ms (µs; median over rounds [95% interval])\n",
       "| variant | p50 | p90 | p99 | max |", "|---|---|---|---|---|"]
for v, label in [("futex", "panmap, asleep in FUTEX_WAIT (`RingConsumer.await`)"), ("park", "panmap, polling with back-off (`IdleStrategy.backoff()`)"),
                 ("c-futex", "C, FUTEX_WAIT / FUTEX_WAKE alone (the kernel's limit here)")]:
    rs = wake.get(v, [])
    if rs:
        cells = []
        for k in ["p50_ns", "p90_ns", "p99_ns", "max_ns"]:
            xs = [r[k] / 1000 for r in rs]
            lo, hi = median_ci(xs)
            cells.append(f"{median(xs):.1f} [{lo:.1f}, {hi:.1f}]")
        md.append(f"| {label} | " + " | ".join(cells) + " |")
fx = [r["p50_ns"] / 1000 for r in wake.get("futex", [])]
if fx:
    lo, hi = median_ci(fx)
    m = median(fx)
    targets.append(("sleeping consumer woken in ≤ 20 µs median", f"**{m:.1f} µs** [{lo:.1f}, {hi:.1f}]",
                    "met" if hi <= 20 else f"missed by {m - 20:.1f} µs" if lo > 20 else "not shown: the interval reaches past 20 µs"))

md += ["\n### allocation during the throughput runs (bytes per message, most over all runs)\n",
       "Read from the threads' allocation counters (`ThreadMXBean`, what JMH's `-prof gc` reads) around each run of "
       f"{setup.get('count')} messages; reading the counter itself allocates about 1 KB, which shows as ~0.001 B per message.\n",
       "| row | panmap consumer | panmap producer | agrona consumer | agrona producer | panmap consumer's liveness checks, all runs |", "|---|---|---|---|---|---|"]
worst = 0.0
for kind, size in ROWS:
    cells = []
    for v in ["panmap", "agrona"]:
        a = alloc.get((kind, size, v), []) + (alloc.get((kind, size, v + "-signalling"), []) if v == "panmap" else [])
        c, p = (max(x[0] for x in a), max(x[1] for x in a)) if a else (None, None)
        if v == "panmap" and a:
            worst = max(worst, c, p)
        cells += ["n/a" if c is None else f"{c:.4f}", "n/a" if p is None else f"{p:.4f}"]
    pa = alloc.get((kind, size, "panmap"), []) + alloc.get((kind, size, "panmap-signalling"), [])
    cells.append("not recorded" if any(x[3] is None for x in pa) else str(sum(x[3] for x in pa)))
    md.append(f"| {kind} {size} B | " + " | ".join(cells) + " |")
checked = any(x[3] for a in alloc.values() for x in a)
targets.append(("0 bytes allocated per message", f"at most {worst:.4f} B per message",
                "met" if worst < 0.01 else "missed on the rows where the consumer checked a stalled producer's liveness (F_OFD_GETLK)"
                if checked else "missed"))

md += ["\n### targets (ratios within this run)\n", "| target | measured [95% interval] | verdict |", "|---|---|---|"]
md += [f"| {t} | {m} | {v} |" for t, m, v in targets]
md.append("\n![panmap's ring ratios with their intervals](ring.svg)\n")
with open(os.path.join(OUT, "ring.md"), "w") as f:
    f.write("\n".join(md) + "\n")

# chart: one line per ratio, the median as a dot, the interval as a bar, log scale, 1.0 marked
items = []
for kind, size in ROWS:
    items.append((f"throughput {kind} {size} B: panmap (default) / agrona",
                  ratio(tput.get((kind, size, "panmap-signalling"), {}), tput.get((kind, size, "agrona"), {})), 1.0))
for k, label, limit in [("p50_ns", "round trip p50: panmap / C", 1.1), ("p999_ns", "round trip p99.9: panmap / C", 1.5)]:
    items.append((label, ratio(pct("panmap", k), pct("c", k)), limit))
items = [(l, x, lim) for l, x, lim in items if x]
W, ROW, LEFT, PLOT = 900, 26, 330, 520
lo_v = min([x[1] for _, x, _ in items] + [0.5]) * 0.9
hi_v = max([x[2] for _, x, _ in items] + [2.0]) * 1.1
import math
X = lambda v: LEFT + PLOT * (math.log(v) - math.log(lo_v)) / (math.log(hi_v) - math.log(lo_v))
H = 60 + ROW * len(items) + 30
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       '<text x="10" y="18" font-size="14">panmap IPC rings: ratios paired per round, median and 95% interval (log scale)</text>',
       '<text x="10" y="34" fill="#555">throughput: higher is better (target ≥ 1); round trip vs C: lower is better (red line: the target)</text>']
for tick in [0.25, 0.5, 1, 1.5, 2, 4, 8, 16]:
    if lo_v <= tick <= hi_v:
        svg.append(f'<line x1="{X(tick):.1f}" x2="{X(tick):.1f}" y1="45" y2="{H - 25}" stroke="{"#000" if tick == 1 else "#ddd"}"/>')
        svg.append(f'<text x="{X(tick):.1f}" y="{H - 10}" text-anchor="middle">{tick:g}</text>')
for i, (label, x, limit) in enumerate(items):
    y = 60 + i * ROW
    svg.append(f'<text x="{LEFT - 8}" y="{y + 4}" text-anchor="end">{label}</text>')
    if limit != 1.0:
        svg.append(f'<line x1="{X(limit):.1f}" x2="{X(limit):.1f}" y1="{y - 8}" y2="{y + 8}" stroke="#d62728" stroke-width="2"/>')
    svg.append(f'<line x1="{X(x[1]):.1f}" x2="{X(x[2]):.1f}" y1="{y}" y2="{y}" stroke="#1f77b4" stroke-width="3"/>')
    svg.append(f'<circle cx="{X(x[0]):.1f}" cy="{y}" r="4" fill="#1f77b4"><title>{label}: {x[0]:.3f} [{x[1]:.3f}, {x[2]:.3f}], {x[3]} rounds</title></circle>')
svg.append("</svg>")
with open(os.path.join(OUT, "ring.svg"), "w") as f:
    f.write("\n".join(svg) + "\n")
print("\n".join(md))
