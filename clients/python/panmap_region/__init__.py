"""A Python client for panmap regions (layout version 3), standard library only.

Linux only: it opens POSIX shared memory as ``/dev/shm/NAME`` (where Linux keeps ``shm_open``
objects) and uses open-file-description locks (``F_OFD_SETLK``) through ``fcntl.fcntl``. The format
is specified in ``docs/FORMAT.md``; the section numbers (§) below are that document's.

    from panmap_region import Region
    with Region.open("/orders") as r:                 # read-only by default
        version, payload = r.record(0).read()         # a SeqRecord at data offset 0: never a mix of two writes
    with Region.open("/orders", writable=True) as r:
        with r.writer_lock(timeout=5):                # the same OFD lock Java and C take
            r.record(0).write(b"...")

What this client relies on, since CPython gives no atomics and no fences (FORMAT.md §9):

* Every shared 8-byte word (magic, sizes, lock and slot stamps, a record's published word and slot
  sequences) is read and written through a ``memoryview`` cast to native ``'Q'``: CPython's
  memoryview item access copies the 8 bytes with one ``memcpy`` of a constant size, which the C
  compiler emits as a single aligned ``mov`` on x86-64. That makes those accesses single-copy atomic
  in practice; the language does not promise it.
* Ordering is the hardware's: on x86-64 (TSO) loads are not reordered with loads and stores not
  with stores, which is all the record and lock protocols need from a reader and from a writer (a
  release store and an acquire load are plain ``mov``s there). On any other machine (AArch64, ...)
  there is no such guarantee: this client then refuses to read or write records, to create regions
  and to publish lock words (``NOT_SUPPORTED``).
* A record's payload is copied with a plain slice, which can be torn; the reader re-checks the slot
  sequence and the published word after the copy, as the C and Java readers do, and retries a torn
  copy instead of returning it.
* ``struct.pack_into('<Q', ...)`` is NOT used for shared words after publication: its standard-size
  formats write byte by byte.
* The one compare-and-set it needs (a ring consumer padding a dead producer's claim, which Java's
  one-to-one takeover may pad at the same time) and the counts beside it go through GCC's libatomic
  by ``ctypes`` (``Region.cas_word``, ``Region.add_word``: locked instructions, as Java's and C's).

Memory safety first: ``mmap`` cannot map at an address, so the client maps every region anywhere
(DIRECT references are translated, like Java's offset fallback), keeps no reservation, and
``refresh()`` maps a grown region again. Every access is bounds-checked by ``memoryview``; no
content of a region can crash a Python reader (a truncated backing can: see FORMAT.md §8).
"""

from ._layout import LAYOUT, LAYOUT_VERSION, record_footprint, record_slot_stride
from ._region import (ATTACH_TIMEOUT, ProcessInfo, Record, Region, RegionError, crc32c, error_kind, shm_path, stamp_of,
                      stamp_pid, start_time)
from ._rings import BroadcastReceiver, RingConsumer
from ._structures import HashIndex, NodeList, SkipList, hash_of

__version__ = "1.0.0"

__all__ = ["Region", "Record", "RegionError", "ProcessInfo", "NodeList", "HashIndex", "SkipList", "RingConsumer",
           "BroadcastReceiver", "LAYOUT",
           "LAYOUT_VERSION", "ATTACH_TIMEOUT", "crc32c", "error_kind", "hash_of", "record_footprint", "record_slot_stride",
           "shm_path", "stamp_of", "stamp_pid", "start_time", "__version__"]
