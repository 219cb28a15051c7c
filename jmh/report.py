"""What summary.py and paired.py share: how a size is written."""


def human(size):
    """1024 -> '1 KiB', 262144 -> '256 KiB'; other sizes as bytes."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return str(size)
