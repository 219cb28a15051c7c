"""python3 -m panmap_region inspect NAME | read NAME OFFSET | write NAME OFFSET TEXT (see --help)."""

import argparse
import json
import sys
from typing import List, Optional, Tuple

from . import Region, RegionError

INSPECT_TIMEOUT = 1.0
"""Seconds inspect waits for a creator still writing the header: what ``panmap inspect`` waits (FORMAT.md §3.1)."""


def _open(args: argparse.Namespace, writable: bool = False, timeout: float = 5.0) -> Region:
    if args.file:
        return Region.open_file(args.name, writable, timeout)
    return Region.open(args.name, writable, timeout)


def inspect(args: argparse.Namespace) -> None:
    with _open(args, timeout=INSPECT_TIMEOUT) as r:
        r.refresh()
        data = r.data()
        try:  # one byte per 2 MiB, as panmap inspect does, so that the pages show in smaps
            for at in range(0, len(data), 2 << 20):
                data[at]
        finally:
            data.release()
        info = r.info()
    if args.json:
        print(json.dumps(info, separators=(",", ":")))  # one line, the schema of panmap inspect --json
        return
    rows: List[Tuple[str, str]] = [
        ("region", "%s (%s)" % (info["name"], "a region in a file" if args.file else "POSIX shared memory")),
        ("layout", "version %d; header %d bytes, so the data area starts at offset %d"
         % (info["layoutVersion"], info["dataOffset"], info["dataOffset"])),
        ("size", "%d bytes of data; %d bytes with the header; generation %d"
         % (info["size"], info["regionSize"], info["generation"])),
        ("growth", "may grow to %d bytes of data" % (info["reservedSpan"] - info["dataOffset"])
         if info["reservedSpan"] > info["regionSize"] else "cannot grow further"),
        ("addressing", "DIRECT at base %s (this client maps it anywhere and translates)" % info["baseAddress"]
         if info["addressing"] == "DIRECT" else "OFFSET"),
        ("mode", "%s, owner %s" % (info["mode"], info["owner"])),
        ("created", "%s by pid %d" % (info["createdAt"], info["creatorPid"])),
    ]
    counts = "taken %d times, %d stale recoveries%s" % (
        info["lockAcquisitions"], info["lockStaleRecoveries"],
        "" if info["lastStaleHolder"] is None else " (last: pid %d)" % info["lastStaleHolder"]["pid"])
    holder = info["lockHolder"]
    if holder is None:
        rows.append(("writer lock", "free; " + counts))
    elif holder["alive"]:
        rows.append(("writer lock", "held by pid %d; %s" % (holder["pid"], counts)))
    else:
        rows.append(("writer lock", "stale: its holder pid %d died holding it; %s" % (holder["pid"], counts)))
    alive = [p for p in info["attached"] if p["alive"]]
    rows.append(("attached", "%d alive, %d slots (read-only viewers such as inspect are not listed)" % (len(alive), info["maxAttached"])))
    for p in info["attached"]:
        rows.append(("", "  pid %d%s" % (p["pid"], "" if p["alive"] else " (dead; its slot is reclaimed at the next attach)")))
    for label, text in rows:
        print(("%-12s %s" % (label, text)).rstrip())


def read(args: argparse.Namespace) -> None:
    with _open(args) as r:
        version, payload = r.record(args.offset).read()
    if args.text:
        print("version %d: %s" % (version, payload.split(b"\0", 1)[0].decode("utf-8", "replace")))
    else:
        print("version %d: %s" % (version, payload.hex()))


def write(args: argparse.Namespace) -> None:
    with _open(args, writable=True) as r:
        rec = r.record(args.offset)
        data = args.text.encode("utf-8")
        if len(data) > rec.payload_size:
            raise RegionError("INVALID_ARGUMENT", "the text is %d bytes, the record's payload %d" % (len(data), rec.payload_size))
        with r.writer_lock(timeout=args.timeout):
            rec.write(data + bytes(rec.payload_size - len(data)))
        print("version %d" % rec.version)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m panmap_region", description="Look into panmap regions (Linux).")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, run: object, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.add_argument("name", help="region name (/x) or, with --file, a path")
        p.add_argument("--file", action="store_true", help="NAME is the path of a file region")
        p.set_defaults(run=run)
        return p

    p = command("inspect", inspect, "the header, the writer lock and the attached processes")
    p.add_argument("--json", action="store_true")
    p = command("read", read, "a SeqRecord's payload")
    p.add_argument("offset", type=int, help="its data-area offset")
    p.add_argument("--text", action="store_true", help="show it as text up to the first NUL (else hex)")
    p = command("write", write, "write a text into a SeqRecord, under the writer lock")
    p.add_argument("offset", type=int, help="its data-area offset")
    p.add_argument("text")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the lock")
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except RegionError as e:
        print("panmap_region: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
