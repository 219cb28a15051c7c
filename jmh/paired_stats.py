"""What paired.py, attach.py and ring.py share: the median of per-round ratios and its interval."""
import math


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
