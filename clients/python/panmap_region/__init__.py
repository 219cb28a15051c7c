"""A Python client for panmap regions (layout version 3), standard library only.

Linux only: it opens POSIX shared memory as ``/dev/shm/NAME`` (where Linux keeps ``shm_open``
objects) and uses open-file-description locks (``F_OFD_SETLK``) through ``fcntl.fcntl``. The format
is specified in ``docs/FORMAT.md``; the section numbers (§) below are that document's.

    from panmap_region import Region
    with Region.open("/orders") as r:                 # read-only by default
        rec = r.record(0)                             # a SeqRecord at data offset 0
        version, payload = rec.read()                 # bytes, never a mix of two writes

What this client relies on, since CPython gives no atomics and no fences (FORMAT.md §9):

* Every shared 8-byte word (magic, sizes, lock and slot stamps, a record's published word and slot
  sequences) is read and written through a ``memoryview`` cast to native ``'Q'``: CPython's
  memoryview item access copies the 8 bytes with one ``memcpy`` of a constant size, which the C
  compiler emits as a single aligned ``mov`` on x86-64. That makes those accesses single-copy atomic
  in practice; the language does not promise it.
* Ordering is the hardware's: on x86-64 (TSO) loads are not reordered with loads and stores not
  with stores, which is all the record and lock protocols need from a reader and from a writer (a
  release store and an acquire load are plain ``mov``s there). CPython's interpreter loop, between
  two bytecodes, calls functions the C compiler cannot see through, so it does not reorder these
  accesses either. On any other machine (AArch64, ...) there is no such guarantee: this client then
  refuses to read or write records and to publish lock words (``NOT_SUPPORTED``).
* A record's payload is copied with a plain slice (``bytes(view[a:b])``), which can be torn; the
  reader re-checks the slot sequence and the published word after the copy, as the C and Java
  readers do, and retries a torn copy instead of returning it.
* ``struct.pack_into('<Q', ...)`` is NOT used for shared words: its standard-size formats write
  byte by byte.

Growth: ``mmap`` cannot map at an address, so the client keeps no reservation; ``refresh()`` maps
the region again at its current size (a new ``mmap``; views taken before stay on the old mapping
until released). DIRECT regions are mapped anywhere and stored addresses are translated
(the Java side's "offset fallback").
"""

import errno as _errno
import fcntl as _fcntl
import mmap as _mmap
import os as _os
import platform as _platform
import struct as _struct
import time as _time

__all__ = ["Region", "Record", "RegionError", "LAYOUT", "crc32c"]

# ---- the layout (FORMAT.md §2-§5); checked against the Java constants by the test suite ------------
MAGIC = 0x0000_5041_4D4E_4150  # "PANMAP\0\0" read as a little-endian long
LAYOUT_VERSION = 3
MAGIC_OFFSET = 0
VERSION_OFFSET = 8
HEADER_SIZE_OFFSET = 12
REGION_SIZE_OFFSET = 16
DATA_SIZE_OFFSET = 24
ADDRESSING_OFFSET = 32
PERMISSIONS_OFFSET = 36
BASE_ADDRESS_OFFSET = 40
RESERVED_SPAN_OFFSET = 48
CREATOR_PID_OFFSET = 64
ATTACH_CAPACITY_OFFSET = 68
CREATOR_START_OFFSET = 72
CREATED_MILLIS_OFFSET = 80
CHECKSUM_OFFSET = 88
FLAGS_OFFSET = 92
CHECKSUMMED_FROM = 8
CURRENT_SIZE_OFFSET = 96
GENERATION_OFFSET = 104
LOCK_HOLDER_OFFSET = 128
LOCK_HOLDER_START_OFFSET = 136
LOCK_ACQUISITIONS_OFFSET = 144
LOCK_STALE_RECOVERIES_OFFSET = 152
LOCK_LAST_STALE_OFFSET = 160
LOCK_LAST_STALE_START_OFFSET = 168
ATTACH_TABLE_OFFSET = 256
ATTACH_SLOT_SIZE = 32
SLOT_STAMP_OFFSET = 0
SLOT_START_OFFSET = 8
SLOT_ATTACHED_MILLIS_OFFSET = 16
SLOT_LOCK_BYTE = 1 << 62
WRITER_LOCK_BYTE = (1 << 63) - 2
ADDRESSING_OFFSET_MODE = 0
ADDRESSING_DIRECT_MODE = 1
MIN_HEADER_SIZE = 256
DEFAULT_ATTACH_CAPACITY = 64
MAX_ATTACH_CAPACITY = 1 << 16

RECORD_MAGIC = 0x0000_4345_5251_4553  # "SEQREC"
RECORD_VERSION = 1
RECORD_MAGIC_AND_VERSION = RECORD_MAGIC | (RECORD_VERSION << 48)
RECORD_MAGIC_OFFSET = 0
RECORD_PAYLOAD_SIZE_OFFSET = 8
RECORD_SLOT_STRIDE_OFFSET = 12
RECORD_PUBLISHED_OFFSET = 16
RECORD_REPAIRED_OFFSET = 24
RECORD_SLOTS_OFFSET = 64
RECORD_SLOT_SEQUENCE_OFFSET = 0
RECORD_SLOT_PAYLOAD_OFFSET = 8
RECORD_MAX_PAYLOAD = 1 << 24

ATTACH_TIMEOUT = 5.0

# The immutable part of the header, little-endian, [8, 96): FORMAT.md §2
_IMMUTABLE = _struct.Struct("<IIQQIIQQQiIQQII")


def record_slot_stride(payload_size):
    """The distance between a record's two slots: sequence + payload, rounded up to 64 bytes."""
    return (RECORD_SLOT_PAYLOAD_OFFSET + payload_size + 63) & ~63


def record_footprint(payload_size):
    return RECORD_SLOTS_OFFSET + 2 * record_slot_stride(payload_size)


# The constants above by their Java names, for the test that compares them with the Java layout classes.
LAYOUT = {("RegionLayout." + k): v for k, v in globals().items() if k.isupper() and not k.startswith(("RECORD_", "_", "ATTACH_TIMEOUT"))}
LAYOUT.update({("RecordLayout." + k[len("RECORD_"):]): v for k, v in globals().items() if k.startswith("RECORD_")})
LAYOUT["RecordLayout.slotStride(1)"] = record_slot_stride(1)
LAYOUT["RecordLayout.slotStride(56)"] = record_slot_stride(56)
LAYOUT["RecordLayout.slotStride(57)"] = record_slot_stride(57)
LAYOUT["RecordLayout.footprint(100)"] = record_footprint(100)

# ---- OFD locks (FORMAT.md §3.3): struct flock of Linux x86_64 / aarch64 ---------------------------
F_OFD_GETLK = getattr(_fcntl, "F_OFD_GETLK", 36)
F_OFD_SETLK = getattr(_fcntl, "F_OFD_SETLK", 37)
F_OFD_SETLKW = getattr(_fcntl, "F_OFD_SETLKW", 38)
F_RDLCK, F_WRLCK, F_UNLCK = 0, 1, 2
# short l_type, short l_whence, (pad 4), off_t l_start, off_t l_len, pid_t l_pid, (pad 4): 32 bytes
_FLOCK = _struct.Struct("=hh4xqqi4x")

_ORDERED = _platform.machine().lower() in ("x86_64", "amd64")


class RegionError(Exception):
    """A failure, with the Java side's ErrorKind name in ``kind`` and the errno (or 0) in ``native``."""

    def __init__(self, kind, message, native=0):
        super().__init__(kind + ": " + message)
        self.kind = kind
        self.native = native
        self.text = message


def _kind(e):
    return {
        _errno.ENOENT: "NOT_FOUND", _errno.EEXIST: "ALREADY_EXISTS", _errno.EACCES: "PERMISSION_DENIED",
        _errno.EPERM: "PERMISSION_DENIED", _errno.EROFS: "PERMISSION_DENIED", _errno.ENOSPC: "NO_SPACE",
        _errno.ENOMEM: "NO_MEMORY", _errno.EMFILE: "LIMIT_REACHED", _errno.ENFILE: "LIMIT_REACHED",
        _errno.EINVAL: "INVALID_ARGUMENT", _errno.ENAMETOOLONG: "INVALID_ARGUMENT", _errno.EAGAIN: "WOULD_BLOCK",
        _errno.ENOSYS: "NOT_SUPPORTED", _errno.EOPNOTSUPP: "NOT_SUPPORTED", _errno.ENODEV: "NOT_SUPPORTED", _errno.EIO: "IO_ERROR",
    }.get(e, "OTHER")


def _os_error(e, what):
    return RegionError(_kind(e.errno), "%s: %s" % (what, e.strerror), e.errno)


def _require_ordering(what):
    if not _ORDERED:
        raise RegionError("NOT_SUPPORTED", "%s needs x86-64 ordering (TSO): CPython has no fences, and this is %s"
                          % (what, _platform.machine()))


def _ofd(fd, cmd, kind, byte):
    """One OFD lock call on one byte; returns the struct as the kernel left it."""
    return _fcntl.fcntl(fd, cmd, _FLOCK.pack(kind, _os.SEEK_SET, byte, 1, 0))


def _ofd_try(fd, byte):
    try:
        _ofd(fd, F_OFD_SETLK, F_WRLCK, byte)
        return True
    except OSError as e:
        if e.errno in (_errno.EAGAIN, _errno.EACCES):
            return False
        raise _os_error(e, "fcntl(F_OFD_SETLK, byte %d)" % byte)


def _ofd_held_elsewhere(fd, byte):
    try:
        got = _ofd(fd, F_OFD_GETLK, F_WRLCK, byte)
    except OSError as e:
        raise _os_error(e, "fcntl(F_OFD_GETLK, byte %d)" % byte)
    return _FLOCK.unpack(got)[0] != F_UNLCK


# ---- CRC32C -------------------------------------------------------------------------------------
def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC = _crc_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# ---- processes -----------------------------------------------------------------------------------
def _start_time(pid):
    """Field 22 of /proc/PID/stat (clock ticks since boot), or 0."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read().decode("ascii", "replace")
        return int(stat[stat.rindex(")") + 2:].split()[22 - 3])
    except (OSError, ValueError, IndexError):
        return 0


def stamp_of(pid, start):
    return ((start << 32) | (pid & 0xFFFFFFFF)) & 0xFFFFFFFFFFFFFFFF


def stamp_pid(stamp):
    pid = stamp & 0xFFFFFFFF
    return pid - (1 << 32) if pid >= 1 << 31 else pid


def shm_path(name):
    """Linux keeps shm_open("/x") at /dev/shm/x."""
    bare = name[1:] if name.startswith("/") else name
    if not bare or "/" in bare or bare in (".", "..") or "\0" in bare or len(bare.encode()) > 250:
        raise RegionError("INVALID_ARGUMENT", "invalid region name %r: one optional leading '/', then 1 to 250 bytes without '/'" % name)
    return "/dev/shm/" + bare


class Region:
    """An attached panmap region. Use ``Region.open(name)`` or ``Region.open_file(path)``; close it (or
    use ``with``) to leave the attach table and unmap."""

    def __init__(self, fd, name, writable):
        self._fd = fd
        self.name = name
        self.writable = writable
        self._mm = None
        self._words = None  # memoryview cast to 'Q' over the whole mapping
        self._bytes = None  # memoryview of bytes over the whole mapping
        self.slot = -1
        self._holding = False
        self.pid = _os.getpid()
        self.start_time = _start_time(self.pid)

    # ---- opening --------------------------------------------------------------------------------
    @classmethod
    def open(cls, name, writable=False):
        """Attaches to the POSIX shared-memory region NAME ("x" and "/x" are the same), read-only unless
        WRITABLE (which also joins the attach table and allows the writer lock)."""
        path = shm_path(name)
        return cls._open(path, "/" + path[len("/dev/shm/"):], writable)

    @classmethod
    def open_file(cls, path, writable=False):
        return cls._open(path, path, writable)

    @classmethod
    def _open(cls, path, name, writable):
        try:
            fd = _os.open(path, (_os.O_RDWR if writable else _os.O_RDONLY) | _os.O_CLOEXEC | _os.O_NONBLOCK)
        except OSError as e:
            raise _os_error(e, "opening " + name)
        region = cls(fd, name, writable)
        try:
            region._attach()
        except BaseException:
            region.close()
            raise
        return region

    def _attach(self):
        import stat as _stat
        if not _stat.S_ISREG(_os.fstat(self._fd).st_mode):
            raise RegionError("INVALID_ARGUMENT", self.name + " is not a regular file or shared-memory object")
        v = self._validate()
        (self.header_size, self.region_size_at_creation, self.reserved_span, self.attach_capacity,
         self.addressing, self.base_address, current) = v
        self._map(current)
        # a reference to data offset 0 is the base + header (DIRECT) or the header size (OFFSET): FORMAT.md §4
        self._stored_data_base = self.header_size + (self.base_address if self.addressing == ADDRESSING_DIRECT_MODE else 0)
        if self.writable:
            self._join_table()

    def _map(self, size):
        self._release_views()
        prot = _mmap.PROT_READ | (_mmap.PROT_WRITE if self.writable else 0)
        self._mm = _mmap.mmap(self._fd, size, _mmap.MAP_SHARED, prot)
        self._bytes = memoryview(self._mm)
        self._words = self._bytes.cast("Q")
        self.mapped = size

    def _release_views(self):
        if self._words is not None:
            self._words.release()
            self._bytes.release()
            self._words = self._bytes = None
        if self._mm is not None:
            self._mm.close()
            self._mm = None

    def _validate(self):
        """FORMAT.md §7: what an attacher must refuse. Waits (bounded) for a creator still writing."""
        deadline = _time.monotonic() + ATTACH_TIMEOUT
        pause = 0.0001
        page = _mmap.PAGESIZE
        while True:
            size = _os.fstat(self._fd).st_size
            if size < MIN_HEADER_SIZE:
                if size != 0:
                    raise RegionError("CORRUPT_REGION", "%s is %d bytes, smaller than a panmap header (%d): truncated, or not a "
                                      "panmap region" % (self.name, size, MIN_HEADER_SIZE))
                waiting = self.name + " is empty (0 bytes): not a panmap region, or its creator has not sized it yet"
            else:
                peek = _mmap.mmap(self._fd, min(size, page), _mmap.MAP_SHARED, _mmap.PROT_READ)
                try:
                    view = memoryview(peek)
                    words = view.cast("Q")
                    try:
                        magic = words[MAGIC_OFFSET // 8]
                        if magic == MAGIC:
                            return self._check(bytes(view[:CURRENT_SIZE_OFFSET]), words[CURRENT_SIZE_OFFSET // 8], size)
                        creator = _struct.unpack_from("<i", view, CREATOR_PID_OFFSET)[0]
                    finally:
                        words.release()
                        view.release()
                finally:
                    peek.close()
                if magic != 0:
                    raise RegionError("INCOMPATIBLE_REGION", "%s is not a panmap region (its first 8 bytes are 0x%x, a panmap "
                                      "header starts with 0x%x)" % (self.name, magic, MAGIC))
                if creator > 0 and not _pid_exists(creator):
                    raise RegionError("CORRUPT_REGION", "%s was never finished: its creator (pid %d) died during creation; "
                                      "remove it and create it again" % (self.name, creator))
                waiting = "%s has no panmap header yet (creator pid %d)" % (self.name, creator)
            if _time.monotonic() >= deadline:
                raise RegionError("INCOMPATIBLE_REGION", "%s (waited %d ms)" % (waiting, ATTACH_TIMEOUT * 1000))
            _time.sleep(pause)
            pause = min(pause * 2, 0.01)

    def _check(self, head, current, object_size):
        (version, header_size, region_size, data_size, addressing, _perm, base, span, _spare, _creator, capacity,
         _cstart, _cmillis, checksum, _flags) = _IMMUTABLE.unpack_from(head, VERSION_OFFSET)
        if version != LAYOUT_VERSION:
            raise RegionError("INCOMPATIBLE_REGION", "%s has header layout version %d; this client reads version %d"
                              % (self.name, version, LAYOUT_VERSION))
        actual = crc32c(head[CHECKSUMMED_FROM:CHECKSUM_OFFSET])
        if checksum != actual:
            raise RegionError("CORRUPT_REGION", "%s has a damaged header: checksum 0x%x stored, 0x%x computed"
                              % (self.name, checksum, actual))
        page = _mmap.PAGESIZE
        limit = (1 << 63) - 1
        bad = None
        if not 1 <= capacity <= MAX_ATTACH_CAPACITY or header_size != (ATTACH_TABLE_OFFSET + capacity * ATTACH_SLOT_SIZE + page - 1) // page * page:
            bad = "header size %d does not match its attach table of %d slots" % (header_size, capacity)
        elif data_size <= 0 or data_size > limit or data_size % page or region_size != header_size + data_size:
            bad = "region size %d is not header %d + data %d" % (region_size, header_size, data_size)
        elif span < region_size or span > limit or span % page:
            bad = "reserved span %d is smaller than the region (%d) or not whole pages" % (span, region_size)
        elif current < region_size or current > span or current % page:
            bad = "current size %d is not whole pages between the size at creation (%d) and the span (%d)" % (current, region_size, span)
        elif addressing not in (ADDRESSING_OFFSET_MODE, ADDRESSING_DIRECT_MODE):
            bad = "unknown addressing mode %d" % addressing
        elif addressing == ADDRESSING_DIRECT_MODE and (base == 0 or base > limit - span or base % page):
            bad = "DIRECT region with an unusable base address 0x%x for %d bytes" % (base, region_size)
        if bad:
            raise RegionError("CORRUPT_REGION", "%s has an inconsistent header: %s" % (self.name, bad))
        if object_size < current:  # stat again: the size read before may predate a grow that published since
            object_size = _os.fstat(self._fd).st_size
        if object_size < current:
            raise RegionError("CORRUPT_REGION", "%s is truncated: %d bytes, its header says %d" % (self.name, object_size, current))
        return header_size, region_size, span, capacity, addressing, base, current

    # ---- shared words ---------------------------------------------------------------------------
    def word(self, offset):
        """The aligned 8-byte word at region OFFSET (a single load on x86-64; see the module docs)."""
        return self._words[offset >> 3]

    def set_word(self, offset, value):
        """Stores the aligned 8-byte word at region OFFSET (a single store on x86-64)."""
        self._words[offset >> 3] = value & 0xFFFFFFFFFFFFFFFF

    def _u32(self, offset):
        return _struct.unpack_from("<I", self._bytes, offset)[0]

    # ---- attach table (FORMAT.md §3.4) ----------------------------------------------------------
    def _join_table(self):
        _require_ordering("joining the attach table")
        for i in range(self.attach_capacity):
            if _ofd_try(self._fd, SLOT_LOCK_BYTE + i):  # no live process holds slot i: it is ours
                slot = ATTACH_TABLE_OFFSET + i * ATTACH_SLOT_SIZE
                self.set_word(slot + SLOT_START_OFFSET, self.start_time)
                self.set_word(slot + SLOT_ATTACHED_MILLIS_OFFSET, int(_time.time() * 1000))
                self.set_word(slot + SLOT_STAMP_OFFSET, stamp_of(self.pid, self.start_time))  # last: a plain store is a release on x86-64
                self.slot = i
                return
        raise RegionError("LIMIT_REACHED", "the attach table of %s is full: all %d slots belong to live processes"
                          % (self.name, self.attach_capacity))

    def _leave_table(self):
        if self.slot < 0:
            return
        slot = ATTACH_TABLE_OFFSET + self.slot * ATTACH_SLOT_SIZE
        # No compare-and-set in CPython: while this process holds the slot's lock nobody else may write
        # the stamp (a claimer or a reclaimer takes the lock first), so a check and a store are enough.
        if self.word(slot + SLOT_STAMP_OFFSET) == stamp_of(self.pid, self.start_time):
            self.set_word(slot + SLOT_STAMP_OFFSET, 0)
        _ofd(self._fd, F_OFD_SETLK, F_UNLCK, SLOT_LOCK_BYTE + self.slot)
        self.slot = -1

    def attached(self):
        """The non-empty slots: dicts of slot, pid, start_time, attached_millis, alive (its lock byte is held)."""
        out = []
        for i in range(self.attach_capacity):
            slot = ATTACH_TABLE_OFFSET + i * ATTACH_SLOT_SIZE
            stamp = self.word(slot + SLOT_STAMP_OFFSET)
            if stamp:
                alive = i == self.slot or _ofd_held_elsewhere(self._fd, SLOT_LOCK_BYTE + i)
                out.append({"slot": i, "pid": stamp_pid(stamp), "start_time": self.word(slot + SLOT_START_OFFSET),
                            "attached_millis": self.word(slot + SLOT_ATTACHED_MILLIS_OFFSET), "alive": alive})
        return out

    # ---- sizes, growth, references ----------------------------------------------------------------
    @property
    def size(self):
        """Data bytes mapped now."""
        return self.mapped - self.header_size

    def data(self):
        """A memoryview of the data area (release it before close() or refresh())."""
        return self._bytes[self.header_size:self.mapped]

    def refresh(self):
        """Maps what another process grew (FORMAT.md §3.1): a new mmap at the current size."""
        current = self.word(CURRENT_SIZE_OFFSET)
        object_size = _os.fstat(self._fd).st_size
        if object_size < max(current, self.mapped):
            raise RegionError("CORRUPT_REGION", "%s is truncated: its backing is %d bytes, the region %d"
                              % (self.name, object_size, max(current, self.mapped)))
        if current > self.mapped:
            if current > self.reserved_span or current % _mmap.PAGESIZE:
                raise RegionError("CORRUPT_REGION", "%s has an inconsistent header: current size %d is not whole pages within "
                                  "its reserved span %d" % (self.name, current, self.reserved_span))
            self._map(current)
        return self.size

    def ref(self, offset):
        """The reference to store for data-area OFFSET (FORMAT.md §4)."""
        return self._stored_data_base + offset

    def follow(self, ref, length=8):
        """The data-area offset a stored reference points at, checked against the mapped data area."""
        if ref == 0:
            raise RegionError("INVALID_ARGUMENT", "the null reference of " + self.name)
        offset = ref - self._stored_data_base
        if offset < 0 or offset + length > self.size:
            raise RegionError("CORRUPT_REGION", "reference 0x%x (%d bytes) is outside the %d-byte data area of %s"
                              % (ref, length, self.size, self.name))
        return offset

    def data_word(self, offset):
        return self.word(self.header_size + offset)

    def set_data_word(self, offset, value):
        self.set_word(self.header_size + offset, value)

    # ---- header ----------------------------------------------------------------------------------------
    def info(self):
        """The header's fields as a dict (FORMAT.md §2), with the lock's state."""
        b = bytes(self._bytes[:CURRENT_SIZE_OFFSET])
        (version, header_size, region_size, data_size, addressing, permissions, base, span, _spare, creator, capacity,
         creator_start, created_millis, checksum, flags) = _IMMUTABLE.unpack_from(b, VERSION_OFFSET)
        holder = self.word(LOCK_HOLDER_OFFSET)
        last = self.word(LOCK_LAST_STALE_OFFSET)
        return {
            "name": self.name, "layoutVersion": version, "headerSize": header_size, "regionSizeAtCreation": region_size,
            "dataSizeAtCreation": data_size, "addressing": "DIRECT" if addressing == ADDRESSING_DIRECT_MODE else "OFFSET",
            "baseAddress": base, "reservedSpan": span, "permissions": "%o" % permissions, "creatorPid": creator,
            "creatorStart": creator_start, "createdMillis": created_millis, "checksum": checksum, "flags": flags,
            "maxAttached": capacity, "currentSize": self.word(CURRENT_SIZE_OFFSET), "generation": self.word(GENERATION_OFFSET),
            "mappedSize": self.mapped,
            "lockHolderPid": stamp_pid(holder) if holder else None,
            "lockHeld": self._holding or _ofd_held_elsewhere(self._fd, WRITER_LOCK_BYTE),
            "lockAcquisitions": self.word(LOCK_ACQUISITIONS_OFFSET),
            "lockStaleRecoveries": self.word(LOCK_STALE_RECOVERIES_OFFSET),
            "lastStaleHolderPid": stamp_pid(last) if last else None,
            "attached": self.attached(),
        }

    # ---- writer lock (FORMAT.md §3.3) ------------------------------------------------------------
    def try_lock(self):
        """Takes the writer lock if it is free now. {@return False if another process or handle holds it}"""
        if not self.writable:
            raise RegionError("INVALID_ARGUMENT", self.name + " was opened read-only: only a writable region has a writer lock")
        if self._holding:
            raise RegionError("INVALID_ARGUMENT", "the writer lock of %s is already held by this handle (it is not reentrant)" % self.name)
        _require_ordering("the writer lock's holder words")
        if not _ofd_try(self._fd, WRITER_LOCK_BYTE):
            return False
        self._holding = True
        previous = self.word(LOCK_HOLDER_OFFSET)
        if previous:  # its holder died holding the lock: a holder clears the word before it unlocks
            self.set_word(LOCK_LAST_STALE_START_OFFSET, self.word(LOCK_HOLDER_START_OFFSET))
            self.set_word(LOCK_LAST_STALE_OFFSET, previous)
            # a plain increment is exact here: only the lock holder changes this counter
            self.set_word(LOCK_STALE_RECOVERIES_OFFSET, self.word(LOCK_STALE_RECOVERIES_OFFSET) + 1)
        self.set_word(LOCK_HOLDER_START_OFFSET, self.start_time)
        self.set_word(LOCK_HOLDER_OFFSET, stamp_of(self.pid, self.start_time))
        self.set_word(LOCK_ACQUISITIONS_OFFSET, self.word(LOCK_ACQUISITIONS_OFFSET) + 1)
        return True

    def lock(self, timeout=None):
        """Takes the writer lock, waiting up to TIMEOUT seconds (None: forever). {@return False if the time ran out}"""
        deadline = None if timeout is None else _time.monotonic() + timeout
        pause = 0.00001
        while not self.try_lock():
            if deadline is not None and _time.monotonic() >= deadline:
                return False
            _time.sleep(pause)
            pause = min(pause * 2, 0.001)
        return True

    def unlock(self):
        if not self._holding:
            raise RegionError("INVALID_ARGUMENT", "the writer lock of %s is not held by this handle" % self.name)
        self.set_word(LOCK_HOLDER_OFFSET, 0)  # the word first, then the lock
        self._holding = False
        _ofd(self._fd, F_OFD_SETLK, F_UNLCK, WRITER_LOCK_BYTE)

    @property
    def holding_lock(self):
        return self._holding

    # ---- records -----------------------------------------------------------------------------------
    def record(self, offset):
        """The SeqRecord at data-area OFFSET (FORMAT.md §5)."""
        return Record(self, offset)

    # ---- closing -----------------------------------------------------------------------------------
    def close(self):
        """Clears the holder word if this handle holds the lock (the lock goes with the descriptor), leaves
        the attach table, unmaps and closes. Idempotent."""
        if self._fd < 0:
            return
        try:
            if self._words is not None:
                if self._holding:
                    self.set_word(LOCK_HOLDER_OFFSET, 0)
                    self._holding = False
                self._leave_table()
            self._release_views()
        finally:
            _os.close(self._fd)
            self._fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def _pid_exists(pid):
    try:
        _os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class Record:
    """A SeqRecord (FORMAT.md §5): read without locks, written under the region's writer lock."""

    def __init__(self, region, offset):
        self.region = region
        if offset % 8:
            raise RegionError("INVALID_ARGUMENT", "a SeqRecord needs an 8-byte aligned offset: offset=%d" % offset)
        if offset < 0 or offset + RECORD_SLOTS_OFFSET > region.size:
            raise RegionError("INVALID_ARGUMENT", "a SeqRecord at offset %d does not fit the %d-byte data area of %s"
                              % (offset, region.size, region.name))
        self.at = region.header_size + offset  # region offset: the mapping may change on refresh()
        magic = region.word(self.at + RECORD_MAGIC_OFFSET)
        if magic & 0xFFFF_FFFF_FFFF != RECORD_MAGIC:
            raise RegionError("INCOMPATIBLE_REGION", "no SeqRecord at offset %d of %s" % (offset, region.name))
        if magic != RECORD_MAGIC_AND_VERSION:
            raise RegionError("INCOMPATIBLE_REGION", "the SeqRecord at offset %d of %s has layout version %d; this client reads "
                              "version %d" % (offset, region.name, magic >> 48, RECORD_VERSION))
        self.payload_size = region._u32(self.at + RECORD_PAYLOAD_SIZE_OFFSET)
        stride = region._u32(self.at + RECORD_SLOT_STRIDE_OFFSET)
        if not 1 <= self.payload_size <= RECORD_MAX_PAYLOAD or stride != record_slot_stride(self.payload_size):
            raise RegionError("CORRUPT_REGION", "the SeqRecord at offset %d of %s has inconsistent sizes" % (offset, region.name))
        if offset + record_footprint(self.payload_size) > region.size:
            raise RegionError("INVALID_ARGUMENT", "the SeqRecord at offset %d of %s does not fit its data area" % (offset, region.name))
        self.offset = offset
        self.stride = stride
        self._writing = -1

    @property
    def version(self):
        return self.region.word(self.at + RECORD_PUBLISHED_OFFSET) >> 1

    @property
    def repaired(self):
        return self.region.word(self.at + RECORD_REPAIRED_OFFSET)

    def read(self):
        """{@return (version, payload bytes)}: a consistent copy, never a mix of two writes. Takes no lock;
        retries while a writer laps it (the copy is validated by the slot sequence, as in C and Java)."""
        _require_ordering("reading a SeqRecord")
        r = self.region
        words = r._words
        view = r._bytes
        at = self.at
        size = self.payload_size
        published_index = (at + RECORD_PUBLISHED_OFFSET) >> 3
        while True:
            published = words[published_index]
            slot = at + RECORD_SLOTS_OFFSET + (published & 1) * self.stride
            before = words[(slot + RECORD_SLOT_SEQUENCE_OFFSET) >> 3]
            if not before & 1:
                start = slot + RECORD_SLOT_PAYLOAD_OFFSET
                copy = bytes(view[start:start + size])
                # loads stay in order on x86-64: these two come after the copy's
                if words[(slot + RECORD_SLOT_SEQUENCE_OFFSET) >> 3] == before and words[published_index] == published:
                    return published >> 1, copy
            _time.sleep(0)

    def write(self, payload):
        """Writes PAYLOAD (payload_size bytes) and publishes it; needs the writer lock held by this region handle."""
        if len(payload) != self.payload_size:
            raise RegionError("INVALID_ARGUMENT", "payload of %d bytes, the record's is %d" % (len(payload), self.payload_size))
        start = self.begin()
        self.region._bytes[start:start + self.payload_size] = payload
        self.publish()

    def begin(self):
        """Marks the unpublished slot as being written; {@return its payload's region offset}."""
        r = self.region
        if not r.holding_lock:
            raise RegionError("INVALID_ARGUMENT", "writing a SeqRecord of %s needs its writer lock, held by this handle" % r.name)
        _require_ordering("writing a SeqRecord")
        published = r.word(self.at + RECORD_PUBLISHED_OFFSET)
        target = (published & 1) ^ 1
        slot = self.at + RECORD_SLOTS_OFFSET + target * self.stride
        sequence = r.word(slot + RECORD_SLOT_SEQUENCE_OFFSET)
        if sequence & 1:  # a writer died here mid-write; it was never published
            r.set_word(self.at + RECORD_REPAIRED_OFFSET, r.word(self.at + RECORD_REPAIRED_OFFSET) + 1)
            sequence += 1
        r.set_word(slot + RECORD_SLOT_SEQUENCE_OFFSET, sequence + 1)  # odd; stores stay in order on x86-64
        self._writing = target
        return slot + RECORD_SLOT_PAYLOAD_OFFSET

    def publish(self):
        r = self.region
        if self._writing < 0 or not r.holding_lock:
            raise RegionError("INVALID_ARGUMENT", "no write of this SeqRecord is in progress under the writer lock")
        slot = self.at + RECORD_SLOTS_OFFSET + self._writing * self.stride
        published = r.word(self.at + RECORD_PUBLISHED_OFFSET)
        r.set_word(slot + RECORD_SLOT_SEQUENCE_OFFSET, r.word(slot + RECORD_SLOT_SEQUENCE_OFFSET) + 1)  # even
        r.set_word(self.at + RECORD_PUBLISHED_OFFSET, (((published >> 1) + 1) << 1) | self._writing)
        self._writing = -1
