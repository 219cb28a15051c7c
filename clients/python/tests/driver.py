"""The Python side of the cross-language tests: the same stdin/stdout commands as
clients/c/tests/pmr_driver.c (see there), answered with this client. Run with
PYTHONPATH=clients/python python3 clients/python/tests/driver.py."""

import os
import sys
import time
from typing import List, Optional, Tuple

from panmap_region import (LAYOUT, BroadcastReceiver, HashIndex, NodeList, Record, Region, RegionError, RingConsumer, SkipList,
                           __version__)

region: Optional[Region] = None
record: Optional[Record] = None
consumer: Optional[RingConsumer] = None
receiver: Optional[BroadcastReceiver] = None


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def readcheck(rec: Record, millis: int, min_versions: int = 0, max_millis: int = 0) -> None:
    """Reads for MILLIS, then on until MIN_VERSIONS versions were seen or MAX_MILLIS passed."""
    words = rec.payload_size // 8
    reads = torn = versions = backwards = 0
    first = last = -1
    start = time.monotonic()
    deadline, limit = start + millis / 1000, start + max(millis, max_millis) / 1000
    while time.monotonic() < deadline or (versions < min_versions and time.monotonic() < limit):
        for _ in range(64):
            v, payload = rec.read()
            w = memoryview(payload[:words * 8]).cast("Q")
            if any(w[i] != w[0] for i in range(1, words)):
                torn += 1
            if first < 0:
                first = v
            elif v < last:
                backwards += 1
            if v != last:
                versions += 1
            last = v
            reads += 1
    out("CHECKED reads=%d torn=%d versions=%d first=%d last=%d backwards=%d" % (reads, torn, versions, first, last, backwards))


def opened(a: List[str], writable: bool) -> Region:
    return Region.open_file(a[2], writable) if a[1] == "file" else Region.open(a[2], writable)


def command(a: List[str]) -> None:
    global region, record, consumer
    c = a[0]
    if c == "open":
        if consumer is not None:
            consumer.close()
            consumer = None
        region = opened(a, a[3] == "rw")
        out("OPENED base=0 direct=0 size=%d slot=%d" % (region.size, region.slot))
    elif c == "create":
        size, max_size, direct = int(a[3]), int(a[4]), a[5] == "direct"
        base = int(a[6], 16) if len(a) > 6 else 0
        make = Region.create_file if a[1] == "file" else Region.create
        region = make(a[2], size, max_size=max_size, direct=direct, base=base)
        out("CREATED base=%x size=%d" % (region.base_address, region.size))
    elif c == "close":
        if consumer is not None:
            consumer.close()
        if region is not None:
            region.close()
        region = record = None
        out("CLOSED")
    elif c == "exit":
        if region is not None:
            region.close()
        out("BYE")
        sys.exit(0)
    elif c == "layout":
        out("LAYOUT " + " ".join("%s=%d" % (k, signed(v)) for k, v in sorted(LAYOUT.items())))
    elif c == "version":
        major, minor, patch = __version__.split(".")
        out("VERSION %s %s %s %s header %s" % (__version__, major, minor, patch, __version__))
    elif c == "attachloop":
        failed, first = 0, ""
        for _ in range(int(a[3])):
            try:
                opened(a, False).close()
            except RegionError as e:
                failed += 1
                first = first or str(e)
        out("LOOPED n=%s failed=%d %s" % (a[3], failed, first))
    elif region is None:
        out("ERROR INVALID_ARGUMENT no region open")
    else:
        region_command(region, a)


def collected(messages: List[Tuple[int, bytes]]) -> str:
    values = [int.from_bytes(p[:8].ljust(8, b"\0"), "little") for _, p in messages]
    return "count=%d first=%d last=%d sum=%d" % (len(values), values[0] if values else 0, values[-1] if values else 0,
                                                 sum(values) & ((1 << 64) - 1))


def region_command(r: Region, a: List[str]) -> None:
    global record, consumer, receiver
    c = a[0]
    if c == "consume":
        if consumer is not None:
            consumer.close()
            consumer = None
        consumer = RingConsumer(r, int(a[1]), int(a[2]) / 1000 if len(a) > 2 else 0.010)
        out("CONSUMER head=%d consumed=%d" % (consumer.head, consumer.consumed))
    elif c == "ringclose":
        if consumer is not None:
            consumer.close()
        consumer = None
        out("RINGCLOSED")
    elif c == "ringread" and consumer is not None:
        messages = consumer.poll(int(a[1]))
        out("RINGREAD %s head=%d" % (collected(messages), consumer.head))
    elif c == "receive":
        receiver = BroadcastReceiver(r, int(a[1]))
        out("RECEIVER position=%d" % receiver.cursor)
    elif c == "bcastread" and receiver is not None:
        messages = receiver.poll(int(a[1]))
        out("BCAST %s lapped=%d lost=%d" % (collected(messages), receiver.lapped, receiver.lost))
    elif c == "get":
        out("VALUE %d" % signed(r.data_word(int(a[1]))))
    elif c == "put":
        r.set_data_word(int(a[1]), int(a[2]))
        out("OK")
    elif c == "storeref":
        r.set_data_word(int(a[1]), r.ref(int(a[2])))
        out("OK")
    elif c == "follow":
        ref = r.data_word(int(a[1]))
        out("FOLLOWED %d ref=%x" % (signed(r.data_word(r.follow(ref))), ref))
    elif c in ("trylock", "lock"):
        got = r.try_lock() if c == "trylock" else r.lock(None if len(a) < 2 or int(a[1]) < 0 else int(a[1]) / 1000)
        out("LOCKED pid=%d" % os.getpid() if got else "BUSY")
    elif c == "unlock":
        r.unlock()
        out("UNLOCKED")
    elif c == "info":
        i = r.info()
        holder, last = i["lockHolder"], i["lastStaleHolder"]
        out("INFO version=%d size=%d gen=%d holder=%d acquisitions=%d stale=%d laststale=%d held=%d" % (
            i["layoutVersion"], i["regionSize"], i["generation"], holder["pid"] if holder else 0, i["lockAcquisitions"],
            i["lockStaleRecoveries"], last["pid"] if last else 0, 1 if (holder and holder["alive"]) or r.writer_lock_held_elsewhere() else 0))
    elif c in ("refresh", "size"):
        if c == "refresh":
            r.refresh()
        out("SIZE size=%d" % r.size)
    elif c == "grow":
        with r.writer_lock(timeout=10):
            r.grow(int(a[1]))
        out("SIZE size=%d" % r.size)
    elif c in ("record", "format"):
        record = r.record(int(a[1])) if c == "record" else r.format_record(int(a[1]), int(a[2]))
        out("RECORD payload=%d version=%d" % (record.payload_size, record.version))
    elif c == "list":
        lst = NodeList(r, int(a[1]))
        # one walk for both figures: a Java writer may be adding nodes between two walks
        count, total = 0, 0
        for _, value in lst.nodes():
            count += 1
            total += value
        out("LIST count=%d sum=%d" % (count, total))
    elif c == "hash":
        h = HashIndex(r, int(a[1]))
        values = [(k, h.get(k)) for k in map(int, a[2:])]
        out("HASH" + "".join(" %d=%s" % (k, "-" if v is None else v) for k, v in values))
    elif c == "skip":
        s = SkipList(r, int(a[1]))
        parts = []
        for k in map(int, a[2:]):
            v, f, ce = s.get(k), s.floor(k), s.ceiling(k)
            parts.append(" %d=%s/%s/%s" % (k, "-" if v is None else v, "-" if f is None else f[0], "-" if ce is None else ce[0]))
        out("SKIP" + "".join(parts))
    elif c == "skipwalk":
        count = keysum = 0
        for k, _ in SkipList(r, int(a[1])).items(int(a[2])):
            count += 1
            keysum = (keysum + k) & ((1 << 64) - 1)
        out("SKIPWALK count=%d keysum=%d" % (count, signed(keysum)))
    elif c == "attached":
        out("ATTACHED" + "".join(" %d:%s" % (p.pid, "true" if p.alive else "false") for p in r.attached()))
    elif record is None:
        out("ERROR INVALID_ARGUMENT no record attached")
    else:
        record_command(r, record, a)


def record_command(r: Region, rec: Record, a: List[str]) -> None:
    c = a[0]
    if c == "read":
        v, payload = rec.read(None if len(a) < 2 else int(a[1]) / 1000)
        w = memoryview(payload[:rec.payload_size // 8 * 8]).cast("Q")
        out("READ version=%d first=%d equal=%d repaired=%d" % (v, w[0], int(all(x == w[0] for x in w)), rec.repaired))
    elif c == "readcheck":
        readcheck(rec, *map(int, a[1:4]))
    elif c == "write":
        _, payload = rec.read()
        value: int = memoryview(payload[:8]).cast("Q")[0]
        words = (rec.payload_size + 7) // 8
        for _ in range(int(a[1])):
            value += 1
            rec.write((value.to_bytes(8, "little") * words)[:rec.payload_size])
        out("WROTE version=%d value=%d" % (rec.version, value))
    elif c == "writehalf":
        start = rec.begin()
        half = rec.payload_size // 16 * 8
        r._view()[start:start + half] = int(a[1]).to_bytes(8, "little") * (half // 8)
        out("HALF")
    else:
        out("ERROR INVALID_ARGUMENT unknown command " + c)


def main() -> None:
    out("READY pid=%d" % os.getpid())
    for line in sys.stdin:
        a = line.split()
        if not a:
            continue
        try:
            command(a)
        except RegionError as e:
            out("ERROR %s %s" % (e.kind, e.text))
    if region is not None:
        region.close()


if __name__ == "__main__":
    main()
