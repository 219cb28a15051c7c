"""The Python side of the cross-language tests: the same stdin/stdout commands as
clients/c/tests/pmr_driver.c (see there), answered with this client. Run with
PYTHONPATH=clients/python python3 clients/python/tests/driver.py."""

import os
import sys
import time

from panmap_region import LAYOUT, Region, RegionError

region = None
record = None


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def readcheck(millis):
    words = record.payload_size // 8
    reads = torn = versions = backwards = 0
    first = last = None
    deadline = time.monotonic() + millis / 1000
    while time.monotonic() < deadline:
        for _ in range(64):
            v, payload = record.read()
            w = memoryview(payload).cast("Q") if words else []
            if any(w[i] != w[0] for i in range(1, words)):
                torn += 1
            if first is None:
                first = v
            elif v < last:
                backwards += 1
            if v != last:
                versions += 1
            last = v
            reads += 1
    out("CHECKED reads=%d torn=%d versions=%d first=%d last=%d backwards=%d" % (reads, torn, versions, first, last, backwards))


def command(a):
    global region, record
    c = a[0]
    if c == "open":
        writable = a[3] == "rw"
        region = Region.open_file(a[2], writable) if a[1] == "file" else Region.open(a[2], writable)
        out("OPENED base=0 direct=0 size=%d slot=%d" % (region.size, region.slot))
    elif c == "close":
        region.close()
        region = record = None
        out("CLOSED")
    elif c == "exit":
        if region:
            region.close()
        out("BYE")
        sys.exit(0)
    elif c == "layout":
        out("LAYOUT " + " ".join("%s=%d" % (k, v if v < 1 << 63 else v - (1 << 64)) for k, v in sorted(LAYOUT.items())))
    elif c == "attachloop":
        failed, first = 0, ""
        for _ in range(int(a[3])):
            try:
                (Region.open_file(a[2]) if a[1] == "file" else Region.open(a[2])).close()
            except RegionError as e:
                failed += 1
                first = first or str(e)
        out("LOOPED n=%s failed=%d %s" % (a[3], failed, first))
    elif region is None:
        out("ERROR INVALID_ARGUMENT no region open")
    elif c == "get":
        v = region.data_word(int(a[1]))
        out("VALUE %d" % (v - (1 << 64) if v >= 1 << 63 else v))
    elif c == "put":
        region.set_data_word(int(a[1]), int(a[2]))
        out("OK")
    elif c == "storeref":
        region.set_data_word(int(a[1]), region.ref(int(a[2])))
        out("OK")
    elif c == "follow":
        ref = region.data_word(int(a[1]))
        out("FOLLOWED %d ref=%x" % (region.data_word(region.follow(ref)), ref))
    elif c in ("trylock", "lock"):
        got = region.try_lock() if c == "trylock" else region.lock(None if len(a) < 2 or int(a[1]) < 0 else int(a[1]) / 1000)
        out("LOCKED pid=%d" % os.getpid() if got else "BUSY")
    elif c == "unlock":
        region.unlock()
        out("UNLOCKED")
    elif c == "info":
        i = region.info()
        out("INFO version=%d size=%d gen=%d holder=%d acquisitions=%d stale=%d laststale=%d held=%d" % (
            i["layoutVersion"], i["currentSize"], i["generation"], i["lockHolderPid"] or 0, i["lockAcquisitions"],
            i["lockStaleRecoveries"], i["lastStaleHolderPid"] or 0, 1 if i["lockHeld"] else 0))
    elif c in ("refresh", "size"):
        if c == "refresh":
            region.refresh()
        out("SIZE size=%d" % region.size)
    elif c == "record":
        record = region.record(int(a[1]))
        out("RECORD payload=%d version=%d" % (record.payload_size, record.version))
    elif record is None:
        out("ERROR INVALID_ARGUMENT no record attached")
    elif c == "read":
        v, payload = record.read()
        w = memoryview(payload[:record.payload_size // 8 * 8]).cast("Q")
        out("READ version=%d first=%d equal=%d repaired=%d" % (v, w[0], int(all(x == w[0] for x in w)), record.repaired))
    elif c == "readcheck":
        readcheck(int(a[1]))
    elif c == "write":
        _, payload = record.read()
        value = memoryview(payload[:8]).cast("Q")[0]
        words = (record.payload_size + 7) // 8
        for _ in range(int(a[1])):
            value += 1
            record.write((value.to_bytes(8, "little") * words)[:record.payload_size])
        out("WROTE version=%d value=%d" % (record.version, value))
    elif c == "writehalf":
        start = record.begin()
        half = record.payload_size // 16 * 8
        region._bytes[start:start + half] = int(a[1]).to_bytes(8, "little") * (half // 8)
        out("HALF")
    elif c == "attached":
        out("ATTACHED" + "".join(" %d:%s" % (p["pid"], "true" if p["alive"] else "false") for p in region.attached()))
    else:
        out("ERROR INVALID_ARGUMENT unknown command " + c)


def main():
    out("READY pid=%d" % os.getpid())
    for line in sys.stdin:
        a = line.split()
        if not a:
            continue
        try:
            command(a)
        except RegionError as e:
            out("ERROR %s %s" % (e.kind, e.text))
    if region:
        region.close()


if __name__ == "__main__":
    main()
