"""What summary.py, paired.py and ring.py share: how a size is written, medians and their intervals."""
import math


def human(size):
    """1024 -> '1 KiB', 262144 -> '256 KiB'; other sizes as bytes."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return str(size)


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return (xs[n // 2] + xs[(n - 1) // 2]) / 2


def median_ci(xs):
    """A distribution-free ~95% interval of the median: ranks n/2 -+ 1.96 sqrt(n)/2."""
    xs = sorted(xs)
    n = len(xs)
    h = 1.96 * math.sqrt(n) / 2
    lo, hi = max(0, math.floor(n / 2 - h) - 1), min(n - 1, math.ceil(n / 2 + h) - 1)
    return xs[lo], xs[hi]
