"""Regions, their writer lock, attach table and records (docs/FORMAT.md §2-§5, §7)."""

import errno as _errno
import fcntl as _fcntl
import mmap as _mmap
import os as _os
import platform as _platform
import pwd as _pwd
import stat as _stat
import struct as _struct
import time as _time
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Tuple, Type

from ._layout import *  # noqa: F401,F403  (the layout's names are this module's vocabulary)
from ._layout import (ADDRESSING_DIRECT_MODE, ADDRESSING_OFFSET_MODE, ATTACH_SLOT_SIZE, ATTACH_TABLE_OFFSET,
                      CHECKSUM_OFFSET, CHECKSUMMED_FROM, CREATED_MILLIS_OFFSET, CREATOR_PID_OFFSET, CREATOR_START_OFFSET,
                      CURRENT_SIZE_OFFSET, DEFAULT_ATTACH_CAPACITY, DEFAULT_DIRECT_BASE, GENERATION_OFFSET,
                      LAYOUT_VERSION, LOCK_ACQUISITIONS_OFFSET, LOCK_HOLDER_OFFSET, LOCK_HOLDER_START_OFFSET,
                      LOCK_LAST_STALE_OFFSET, LOCK_LAST_STALE_START_OFFSET, LOCK_STALE_RECOVERIES_OFFSET, MAGIC,
                      MAGIC_OFFSET, MAX_ATTACH_CAPACITY, MAX_RESERVED_SPAN, MIN_DIRECT_BASE, MIN_HEADER_SIZE,
                      RECORD_MAGIC, RECORD_MAGIC_AND_VERSION, RECORD_MAGIC_OFFSET, RECORD_MAX_PAYLOAD,
                      RECORD_PAYLOAD_SIZE_OFFSET, RECORD_PUBLISHED_OFFSET, RECORD_REPAIRED_OFFSET,
                      RECORD_SLOT_PAYLOAD_OFFSET, RECORD_SLOT_SEQUENCE_OFFSET, RECORD_SLOT_STRIDE_OFFSET,
                      RECORD_SLOTS_OFFSET, RECORD_VERSION, SLOT_ATTACHED_MILLIS_OFFSET, SLOT_LOCK_BYTE,
                      SLOT_START_OFFSET, SLOT_STAMP_OFFSET, USER_SPACE_END, VERSION_OFFSET, WRITER_LOCK_BYTE,
                      record_footprint, record_slot_stride)

ATTACH_TIMEOUT = 5.0
"""Seconds an attacher waits for a creator still writing the header (FORMAT.md §3.1), as Java and C."""

# The immutable part of the header, little-endian, [8, 96): FORMAT.md §2
_IMMUTABLE = _struct.Struct("<IIQQIIQQQiIQQII")

# ---- OFD locks (FORMAT.md §3.3): struct flock of Linux x86_64 / aarch64 ---------------------------
F_OFD_GETLK: int = getattr(_fcntl, "F_OFD_GETLK", 36)
F_OFD_SETLK: int = getattr(_fcntl, "F_OFD_SETLK", 37)
F_RDLCK, F_WRLCK, F_UNLCK = 0, 1, 2
# short l_type, short l_whence, (pad 4), off_t l_start, off_t l_len, pid_t l_pid, (pad 4): 32 bytes
_FLOCK = _struct.Struct("=hh4xqqi4x")

_ORDERED = _platform.machine().lower() in ("x86_64", "amd64")
_READ_SPINS = 1024  # record read retries before a look at the writer lock


class RegionError(Exception):
    """A failure, with the Java side's ErrorKind name in ``kind`` and the errno (or 0) in ``native``."""

    def __init__(self, kind: str, message: str, native: int = 0) -> None:
        super().__init__(kind + ": " + message)
        self.kind = kind
        self.native = native
        self.text = message


# The portable kind of an errno: FORMAT.md §7.1, the Java side's Errno table.
_KINDS = {
    _errno.ENOENT: "NOT_FOUND", _errno.ESRCH: "NOT_FOUND", _errno.ENXIO: "NOT_FOUND", _errno.ENOTDIR: "NOT_FOUND",
    _errno.EEXIST: "ALREADY_EXISTS",
    _errno.EACCES: "PERMISSION_DENIED", _errno.EPERM: "PERMISSION_DENIED", _errno.EROFS: "PERMISSION_DENIED",
    _errno.ENOSPC: "NO_SPACE", _errno.EDQUOT: "NO_SPACE", _errno.EFBIG: "NO_SPACE",
    _errno.ENOMEM: "NO_MEMORY",
    _errno.EMFILE: "LIMIT_REACHED", _errno.ENFILE: "LIMIT_REACHED", _errno.ENOLCK: "LIMIT_REACHED",
    _errno.EINVAL: "INVALID_ARGUMENT", _errno.ENAMETOOLONG: "INVALID_ARGUMENT", _errno.EBADF: "INVALID_ARGUMENT",
    _errno.EFAULT: "INVALID_ARGUMENT", _errno.EISDIR: "INVALID_ARGUMENT", _errno.ESPIPE: "INVALID_ARGUMENT",
    _errno.ELOOP: "INVALID_ARGUMENT", _errno.EOVERFLOW: "INVALID_ARGUMENT",
    _errno.EAGAIN: "WOULD_BLOCK", _errno.EBUSY: "WOULD_BLOCK", _errno.ETXTBSY: "WOULD_BLOCK", _errno.EDEADLK: "WOULD_BLOCK",
    _errno.ENOSYS: "NOT_SUPPORTED", _errno.EOPNOTSUPP: "NOT_SUPPORTED", _errno.ENODEV: "NOT_SUPPORTED",
    _errno.EIO: "IO_ERROR",
}


def error_kind(errno: int) -> str:
    """The Java ErrorKind name of an errno value (FORMAT.md §7.1); OTHER for one not in the table."""
    return _KINDS.get(errno, "OTHER")


def _os_error(e: OSError, what: str) -> RegionError:
    code = e.errno or 0
    extra = ": it is a symbolic link, which a region is never opened through" if code == _errno.ELOOP else ""
    return RegionError(error_kind(code), "%s: %s%s" % (what, e.strerror, extra), code)


def _load_atomics() -> Optional[Tuple[Any, Any, Any]]:
    """GCC's libatomic through ctypes (both in every Debian-like system, not a Python dependency): an
    8-byte compare-and-set and fetch-and-add on shared memory, the same locked instructions Java's
    VarHandles and C's __atomic builtins use. None where the library is missing."""
    try:
        import ctypes
        import ctypes.util
        lib = ctypes.CDLL(ctypes.util.find_library("atomic") or "libatomic.so.1")
        cas = getattr(lib, "__atomic_compare_exchange_8")
        cas.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64), ctypes.c_uint64, ctypes.c_int, ctypes.c_int]
        cas.restype = ctypes.c_bool
        add = getattr(lib, "__atomic_fetch_add_8")
        add.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int]
        add.restype = ctypes.c_uint64
        return ctypes, cas, add
    except (OSError, AttributeError):
        return None


_ATOMICS = _load_atomics()
_SEQ_CST = 5  # __ATOMIC_SEQ_CST


def _require_ordering(what: str) -> None:
    if not _ORDERED:
        raise RegionError("NOT_SUPPORTED", "%s needs x86-64 ordering (TSO): CPython has no fences, and this is %s"
                          % (what, _platform.machine()))


def _ofd(fd: int, cmd: int, kind: int, byte: int) -> bytes:
    """One OFD lock call on one byte; returns the struct as the kernel left it."""
    got: bytes = _fcntl.fcntl(fd, cmd, _FLOCK.pack(kind, _os.SEEK_SET, byte, 1, 0))
    return got


def _ofd_try(fd: int, byte: int) -> bool:
    try:
        _ofd(fd, F_OFD_SETLK, F_WRLCK, byte)
        return True
    except OSError as e:
        if e.errno in (_errno.EAGAIN, _errno.EACCES):
            return False
        raise _os_error(e, "fcntl(F_OFD_SETLK, byte %d)" % byte)


def _locks_held(fd: int, first: int, count: int) -> List[Dict[str, Any]]:
    """Who holds locks on bytes [first, first+count) through other descriptions, as Java's lockHoldings():
    F_OFD_GETLK per byte, then the holders' pids from /proc/PID/fdinfo (an OFD lock reports pid -1)."""
    conflicts = []
    for byte in range(first, first + count):
        kind, _whence, _start, _length, pid = _FLOCK.unpack(_ofd(fd, F_OFD_GETLK, F_WRLCK, byte))
        if kind != F_UNLCK:
            conflicts.append((byte, kind == F_WRLCK, pid))
    if not conflicts:
        return []
    st = _os.fstat(fd)
    obj = "%02x:%02x:%d" % (_os.major(st.st_dev), _os.minor(st.st_dev), st.st_ino)
    owners: Dict[int, List[Tuple[int, bool]]] = {}
    for proc in _os.listdir("/proc"):
        if not proc.isdigit():
            continue
        try:
            fds = _os.listdir("/proc/%s/fd" % proc)
        except OSError:
            continue
        for n in fds:
            if int(proc) == _os.getpid() and int(n) == fd:
                continue
            try:
                other = _os.stat("/proc/%s/fd/%s" % (proc, n))
                if (other.st_dev, other.st_ino) != (st.st_dev, st.st_ino):
                    continue
                with open("/proc/%s/fdinfo/%s" % (proc, n)) as f:
                    for line in f:
                        if not line.startswith("lock:") or "->" in line:
                            continue
                        w = line[5:].split()  # 1: OFDLCK ADVISORY READ -1 fe:00:9978112 START END
                        if len(w) < 8 or w[5] != obj:
                            continue
                        end = (1 << 63) - 1 if w[7] == "EOF" else int(w[7])
                        for byte in range(max(int(w[6]), first), min(end, first + count - 1) + 1):
                            if (int(proc), w[3] == "WRITE") not in owners.setdefault(byte, []):
                                owners[byte].append((int(proc), w[3] == "WRITE"))
            except (OSError, ValueError):
                continue
    out = []
    for byte, exclusive, pid in conflicts:
        holders = sorted(owners.get(byte, [])) if pid <= 0 else [(pid, exclusive)]
        for holder, write in holders or [(-1, exclusive)]:
            out.append({"lock": "writer" if byte == WRITER_LOCK_BYTE else "slot %d" % (byte - SLOT_LOCK_BYTE),
                        "type": "write" if write else "read", "pid": holder if holder > 0 else None})
    return out


def _ofd_held_elsewhere(fd: int, byte: int) -> bool:
    try:
        got = _ofd(fd, F_OFD_GETLK, F_WRLCK, byte)
    except OSError as e:
        raise _os_error(e, "fcntl(F_OFD_GETLK, byte %d)" % byte)
    kind: int = _FLOCK.unpack(got)[0]
    return kind != F_UNLCK


# ---- CRC32C -------------------------------------------------------------------------------------
def _crc_table() -> List[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC = _crc_table()


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli) as the header checksum uses it (FORMAT.md §2)."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# ---- processes -----------------------------------------------------------------------------------
def start_time(pid: int) -> int:
    """Field 22 of /proc/PID/stat (clock ticks since boot), or 0."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read().decode("ascii", "replace")
        return int(stat[stat.rindex(")") + 2:].split()[22 - 3])
    except (OSError, ValueError, IndexError):
        return 0


def stamp_of(pid: int, start: int) -> int:
    """The 8-byte word that names a process (FORMAT.md §3.2)."""
    return ((start << 32) | (pid & 0xFFFFFFFF)) & 0xFFFFFFFFFFFFFFFF


def stamp_pid(stamp: int) -> int:
    pid = stamp & 0xFFFFFFFF
    return pid - (1 << 32) if pid >= 1 << 31 else pid


def shm_path(name: str) -> str:
    """Linux keeps shm_open("/x") at /dev/shm/x."""
    bare = name[1:] if name.startswith("/") else name
    if not bare or "/" in bare or bare in (".", "..") or "\0" in bare or len(bare.encode()) > 250:
        raise RegionError("INVALID_ARGUMENT", "invalid region name %r: one optional leading '/', then 1 to 250 bytes without '/'" % name)
    return "/dev/shm/" + bare


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


class ProcessInfo(NamedTuple):
    """A process a region records: a lock holder, the creator, an attached process (Java's ProcessInfo)."""
    pid: int
    start_time: int
    alive: bool

    def json(self) -> Dict[str, Any]:
        return {"pid": self.pid, "startTime": self.start_time, "alive": self.alive}


def _process_info(stamp: int, recorded_start: int, alive: bool) -> ProcessInfo:
    tag = stamp >> 32
    start = recorded_start if recorded_start != 0 and recorded_start & 0xFFFFFFFF == tag else tag
    return ProcessInfo(stamp_pid(stamp), start, alive)


def _pid_alive(stamp: int) -> bool:
    """By pid and start time, as Java's ProcessStamp.alive (used only for the creator, a tool's fact)."""
    pid = stamp_pid(stamp)
    if pid <= 0:
        return False
    now = start_time(pid)
    if now == 0:
        try:
            _os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    return now & 0xFFFFFFFF == stamp >> 32


class _Validated(NamedTuple):
    header_size: int
    region_size: int
    span: int
    capacity: int
    addressing: int
    base: int
    current: int


class Region:
    """An attached panmap region. Use ``Region.open(name)``, ``Region.open_file(path)`` or ``Region.create(...)``;
    close it (or use ``with``) to leave the attach table and unmap.

    The handle is not for concurrent threads (FORMAT.md §3.3)."""

    def __init__(self, fd: int, name: str, writable: bool, path: str, backing: str) -> None:
        self._fd = fd
        self.name = name
        self.path = path
        self.backing = backing  # "SHARED_MEMORY" or "FILE", as Java's SharedRegion.Backing
        self.writable = writable
        self._mm: Optional[_mmap.mmap] = None
        self._words: Optional[memoryview] = None  # cast to 'Q' over the whole mapping
        self._bytes: Optional[memoryview] = None
        self._ints: Optional[memoryview] = None   # cast to 'I'
        self.slot = -1
        self._holding = False
        self.pid = _os.getpid()
        self.start_time = start_time(self.pid)
        self.mapped = 0
        self.header_size = 0
        self.region_size_at_creation = 0
        self.reserved_span = 0
        self.attach_capacity = 0
        self.addressing = ADDRESSING_OFFSET_MODE
        self.base_address = 0
        self._stored_data_base = 0

    # ---- opening --------------------------------------------------------------------------------
    @classmethod
    def open(cls, name: str, writable: bool = False, timeout: float = ATTACH_TIMEOUT) -> "Region":
        """Attaches to the POSIX shared-memory region NAME ("x" and "/x" are the same), read-only unless
        WRITABLE (which also joins the attach table and allows the writer lock). Waits up to TIMEOUT
        seconds for a creator still writing the header."""
        path = shm_path(name)
        return cls._open(path, "/" + path[len("/dev/shm/"):], writable, "SHARED_MEMORY", timeout)

    @classmethod
    def open_file(cls, path: str, writable: bool = False, timeout: float = ATTACH_TIMEOUT) -> "Region":
        """Attaches to the region in the file at PATH (never through a symbolic link)."""
        return cls._open(path, path, writable, "FILE", timeout)

    @classmethod
    def _open(cls, path: str, name: str, writable: bool, backing: str, timeout: float) -> "Region":
        # O_NONBLOCK: a FIFO must not hang the open; O_NOFOLLOW: a symbolic link is refused (FORMAT.md §7)
        flags = (_os.O_RDWR if writable else _os.O_RDONLY) | _os.O_CLOEXEC | _os.O_NONBLOCK | _os.O_NOFOLLOW
        try:
            fd = _os.open(path, flags)
        except OSError as e:
            raise _os_error(e, "opening " + name)
        region = cls(fd, name, writable, path, backing)
        try:
            region._attach(timeout)
        except BaseException:
            region.close()
            raise
        return region

    @classmethod
    def create(cls, name: str, size: int, max_size: int = 0, direct: bool = False, base: int = 0,
               max_attached: int = DEFAULT_ATTACH_CAPACITY, mode: int = 0o600) -> "Region":
        """Creates the shared-memory region NAME exclusively (ALREADY_EXISTS if the name is taken) with SIZE
        data bytes (rounded up to pages), room to grow to MAX_SIZE, and returns it attached read-write.

        DIRECT regions record BASE (default: Java's default base); this process maps them anywhere and
        translates references, but Java and C processes map them there (FORMAT.md §8)."""
        path = shm_path(name)
        return cls._create(path, "/" + path[len("/dev/shm/"):], "SHARED_MEMORY", size, max_size, direct, base, max_attached, mode)

    @classmethod
    def create_file(cls, path: str, size: int, max_size: int = 0, direct: bool = False, base: int = 0,
                    max_attached: int = DEFAULT_ATTACH_CAPACITY, mode: int = 0o600) -> "Region":
        """Creates a region in a new file at PATH; see create()."""
        return cls._create(path, path, "FILE", size, max_size, direct, base, max_attached, mode)

    @classmethod
    def _create(cls, path: str, name: str, backing: str, size: int, max_size: int, direct: bool, base: int,
                max_attached: int, mode: int) -> "Region":
        page = _mmap.PAGESIZE
        if size <= 0 or max_size < 0 or not 1 <= max_attached <= MAX_ATTACH_CAPACITY:
            raise RegionError("INVALID_ARGUMENT", "creating %s needs a size > 0 and 1 to %d attach slots" % (name, MAX_ATTACH_CAPACITY))
        header = (ATTACH_TABLE_OFFSET + max_attached * ATTACH_SLOT_SIZE + page - 1) // page * page
        data = (size + page - 1) // page * page
        total = header + data
        span = header + (max_size + page - 1) // page * page if max_size > size else total
        base = (base or DEFAULT_DIRECT_BASE) if direct else 0
        if span > MAX_RESERVED_SPAN:
            raise RegionError("INVALID_ARGUMENT", "creating %s: a reserved span of %d bytes is more than %d" % (name, span, MAX_RESERVED_SPAN))
        if direct and (base < MIN_DIRECT_BASE or base % page or base + span > USER_SPACE_END):
            raise RegionError("INVALID_ARGUMENT", "creating %s: base 0x%x is not page-aligned in [0x%x, 0x%x - span]"
                              % (name, base, MIN_DIRECT_BASE, USER_SPACE_END))
        _require_ordering("creating a region")
        flags = _os.O_RDWR | _os.O_CREAT | _os.O_EXCL | _os.O_CLOEXEC | _os.O_NONBLOCK | _os.O_NOFOLLOW
        try:
            fd = _os.open(path, flags, mode)
        except OSError as e:
            raise _os_error(e, "creating " + name)
        region = cls(fd, name, True, path, backing)
        try:
            # the writer lock, before the object has a size and until its header is published: it tells a
            # waiting attacher that the creator is alive (FORMAT.md §3.1); no holder is recorded
            if not _ofd_try(fd, WRITER_LOCK_BYTE):
                raise RegionError("WOULD_BLOCK", "%s: the writer lock of a new object is held elsewhere" % name)
            _os.fchmod(fd, mode)  # the umask narrowed the mode given to open
            _os.ftruncate(fd, total)
            region._map(total)
            region._write_header(header, data, span, base, max_attached, mode)
            if backing == "FILE":  # a new file region survives a power loss from here on
                assert region._mm is not None
                region._mm.flush(0, header)
                _os.fsync(fd)
            _ofd(fd, F_OFD_SETLK, F_UNLCK, WRITER_LOCK_BYTE)
            region._adopt(_Validated(header, total, span, max_attached,
                                     ADDRESSING_DIRECT_MODE if direct else ADDRESSING_OFFSET_MODE, base, total))
            region._join_table()
        except BaseException as e:
            try:  # remove the object, and only it: the name may name another object by now
                mine = _os.fstat(fd)
                named = _os.lstat(path)
                if (mine.st_dev, mine.st_ino) == (named.st_dev, named.st_ino):
                    _os.unlink(path)
            except OSError:
                pass
            region.close()
            if isinstance(e, OSError):
                raise _os_error(e, "creating " + name)
            raise
        return region

    def _write_header(self, header: int, data: int, span: int, base: int, capacity: int, mode: int) -> None:
        """FORMAT.md §3.1: the creator pid first (release), the rest plain, the checksum, the magic last (release)."""
        b, ints = self._view(), self._int_view()
        ints[CREATOR_PID_OFFSET >> 2] = self.pid  # a plain store is a release store on x86-64
        total = header + data
        _struct.pack_into("<II", b, VERSION_OFFSET, LAYOUT_VERSION, header)
        _struct.pack_into("<QQII", b, 16, total, data, ADDRESSING_DIRECT_MODE if base else ADDRESSING_OFFSET_MODE, mode)
        _struct.pack_into("<QQ", b, 40, base, span)
        _struct.pack_into("<IQQ", b, 68, capacity, self.start_time, int(_time.time() * 1000))
        _struct.pack_into("<I", b, 92, 0)
        _struct.pack_into("<QQ", b, CURRENT_SIZE_OFFSET, total, 1)
        _struct.pack_into("<I", b, CHECKSUM_OFFSET, crc32c(bytes(b[CHECKSUMMED_FROM:CHECKSUM_OFFSET])))
        self.set_word(MAGIC_OFFSET, MAGIC)  # published

    @staticmethod
    def remove(name: str) -> None:
        """Unlinks the shared-memory region NAME (those attached keep it until they close)."""
        path = shm_path(name)
        try:
            _os.unlink(path)
        except OSError as e:
            raise _os_error(e, "removing " + name)

    def _attach(self, timeout: float) -> None:
        if not _stat.S_ISREG(_os.fstat(self._fd).st_mode):
            raise RegionError("INVALID_ARGUMENT", self.name + " is not a regular file or shared-memory object")
        v = self._validate(timeout)
        self._map(v.current)
        self._adopt(v)
        if self.writable:
            self._join_table()

    def _adopt(self, v: _Validated) -> None:
        (self.header_size, self.region_size_at_creation, self.reserved_span, self.attach_capacity,
         self.addressing, self.base_address) = v.header_size, v.region_size, v.span, v.capacity, v.addressing, v.base
        # a reference to data offset 0 is the base + header (DIRECT) or the header size (OFFSET): FORMAT.md §4
        self._stored_data_base = self.header_size + (self.base_address if self.addressing == ADDRESSING_DIRECT_MODE else 0)

    def _map(self, size: int) -> None:
        self._release_views()
        prot = _mmap.PROT_READ | (_mmap.PROT_WRITE if self.writable else 0)
        self._mm = _mmap.mmap(self._fd, size, _mmap.MAP_SHARED, prot)
        self._bytes = memoryview(self._mm)
        self._words = self._bytes.cast("Q")
        self._ints = self._bytes.cast("I")
        self.mapped = size

    def _release_views(self) -> None:
        for view in (self._words, self._ints, self._bytes):
            if view is not None:
                view.release()
        self._words = self._ints = self._bytes = None
        if self._mm is not None:
            self._mm.close()
            self._mm = None

    def _view(self) -> memoryview:
        if self._bytes is None:
            raise RegionError("INVALID_ARGUMENT", "%s is closed" % self.name)
        return self._bytes

    def _word_view(self) -> memoryview:
        if self._words is None:
            raise RegionError("INVALID_ARGUMENT", "%s is closed" % self.name)
        return self._words

    def _int_view(self) -> memoryview:
        if self._ints is None:
            raise RegionError("INVALID_ARGUMENT", "%s is closed" % self.name)
        return self._ints

    def _validate(self, timeout: float) -> _Validated:
        """FORMAT.md §7: what an attacher must refuse. Waits (bounded) for a creator still writing."""
        deadline = _time.monotonic() + timeout
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
                            return self._check(bytes(view[:CURRENT_SIZE_OFFSET]), words[CURRENT_SIZE_OFFSET // 8], page)
                        creator: int = _struct.unpack_from("<i", view, CREATOR_PID_OFFSET)[0]
                        # the creator holds the writer lock from before it stores its pid until after the magic
                        # (FORMAT.md §3.1): a pid with the lock free means it died, unless it published and let go
                        # since the look at the magic (so look again after the lock). No pid is compared.
                        dead = (magic == 0 and creator != 0 and not _ofd_held_elsewhere(self._fd, WRITER_LOCK_BYTE)
                                and words[MAGIC_OFFSET // 8] == 0)
                    finally:
                        words.release()
                        view.release()
                finally:
                    peek.close()
                if magic != 0:
                    raise RegionError("INCOMPATIBLE_REGION", "%s is not a panmap region (its first 8 bytes are 0x%x, a panmap "
                                      "header starts with 0x%x)" % (self.name, magic, MAGIC))
                if dead:
                    raise RegionError("CORRUPT_REGION", "%s was never finished: its creator (pid %d) died during creation (the "
                                      "writer lock it holds while creating is free); remove it and create it again" % (self.name, creator))
                waiting = "%s has no panmap header yet (creator pid %d)" % (self.name, creator)
            if _os.fstat(self._fd).st_nlink == 0:  # removed: a failed creation, or someone, unlinked it
                raise RegionError("NOT_FOUND", "%s was removed while this process waited for its header" % self.name)
            if _time.monotonic() >= deadline:
                raise RegionError("INCOMPATIBLE_REGION", "%s (waited %d ms)" % (waiting, timeout * 1000))
            _time.sleep(pause)
            pause = min(pause * 2, 0.01)

    def _check(self, head: bytes, current: int, page: int) -> _Validated:
        (version, header_size, region_size, data_size, addressing, _perm, base, span, _spare, _creator, capacity,
         _cstart, _cmillis, checksum, _flags) = _IMMUTABLE.unpack_from(head, VERSION_OFFSET)
        if version != LAYOUT_VERSION:
            raise RegionError("INCOMPATIBLE_REGION", "%s has header layout version %d; this client reads version %d"
                              % (self.name, version, LAYOUT_VERSION))
        actual = crc32c(head[CHECKSUMMED_FROM:CHECKSUM_OFFSET])
        if checksum != actual:
            raise RegionError("CORRUPT_REGION", "%s has a damaged header: checksum 0x%x stored, 0x%x computed"
                              % (self.name, checksum, actual))
        limit = (1 << 63) - 1
        bad = None
        if not 1 <= capacity <= MAX_ATTACH_CAPACITY or header_size != (ATTACH_TABLE_OFFSET + capacity * ATTACH_SLOT_SIZE + page - 1) // page * page:
            bad = "header size %d does not match its attach table of %d slots" % (header_size, capacity)
        elif data_size <= 0 or data_size > limit - header_size or data_size % page or region_size != header_size + data_size:
            bad = "region size %d is not header %d + data %d" % (region_size, header_size, data_size)
        elif span < region_size or span % page or span > MAX_RESERVED_SPAN:
            bad = "reserved span %d is smaller than the region (%d), not whole pages, or more than %d bytes" % (span, region_size, MAX_RESERVED_SPAN)
        elif current < region_size or current > span or current % page:
            bad = "current size %d is not whole pages between the size at creation (%d) and the span (%d)" % (current, region_size, span)
        elif addressing not in (ADDRESSING_OFFSET_MODE, ADDRESSING_DIRECT_MODE):
            bad = "unknown addressing mode %d" % addressing
        elif addressing == ADDRESSING_DIRECT_MODE and (base < MIN_DIRECT_BASE or base % page or base > USER_SPACE_END - span):
            bad = "DIRECT region with an unusable base address 0x%x for %d bytes" % (base, region_size)
        if bad:
            raise RegionError("CORRUPT_REGION", "%s has an inconsistent header: %s" % (self.name, bad))
        object_size = _os.fstat(self._fd).st_size  # after the load of the current size (FORMAT.md §7)
        if object_size < current:
            raise RegionError("CORRUPT_REGION", "%s is truncated: %d bytes, its header says %d" % (self.name, object_size, current))
        return _Validated(header_size, region_size, span, capacity, addressing, base, current)

    # ---- shared words ---------------------------------------------------------------------------
    def word(self, offset: int) -> int:
        """The aligned 8-byte word at region OFFSET (a single load on x86-64; see FORMAT.md §9)."""
        value: int = self._word_view()[offset >> 3]
        return value

    def set_word(self, offset: int, value: int) -> None:
        """Stores the aligned 8-byte word at region OFFSET (a single store on x86-64)."""
        self._word_view()[offset >> 3] = value & 0xFFFFFFFFFFFFFFFF

    @staticmethod
    def has_atomics() -> bool:
        """{@return whether cas_word and add_word are atomic here} (libatomic found)"""
        return _ATOMICS is not None

    def _address(self, offset: int) -> int:
        if self._mm is None or _ATOMICS is None:
            raise RegionError("NOT_SUPPORTED", "%s: no atomic operations here (%s)"
                              % (self.name, "closed" if self._mm is None else "libatomic not found"))
        ctypes = _ATOMICS[0]
        probe = ctypes.c_char.from_buffer(self._mm)  # exports the mapping only for this line: its address
        try:
            return int(ctypes.addressof(probe)) + offset
        finally:
            del probe

    def cas_word(self, offset: int, expected: int, new: int) -> bool:
        """Compare-and-set of the aligned 8-byte word at region OFFSET (a locked cmpxchg, as Java's and C's):
        {@return whether it held EXPECTED and now holds NEW}. NOT_SUPPORTED without libatomic."""
        address = self._address(offset)
        assert _ATOMICS is not None  # (_address refused otherwise)
        ctypes, cas, _ = _ATOMICS
        want = ctypes.c_uint64(expected & 0xFFFFFFFFFFFFFFFF)
        return bool(cas(address, ctypes.byref(want), new & 0xFFFFFFFFFFFFFFFF, _SEQ_CST, _SEQ_CST))

    def add_word(self, offset: int, delta: int) -> int:
        """Atomically adds DELTA to the aligned 8-byte word at region OFFSET (a locked xadd, as Java's
        getAndAdd): {@return the value before}. NOT_SUPPORTED without libatomic."""
        address = self._address(offset)
        assert _ATOMICS is not None  # (_address refused otherwise)
        return int(_ATOMICS[2](address, delta & 0xFFFFFFFFFFFFFFFF, _SEQ_CST))

    def u32(self, offset: int) -> int:
        """The aligned 4-byte word at region OFFSET."""
        value: int = self._int_view()[offset >> 2]
        return value

    # ---- attach table (FORMAT.md §3.4) ----------------------------------------------------------
    def _join_table(self) -> None:
        _require_ordering("joining the attach table")
        for i in range(self.attach_capacity):
            if _ofd_try(self._fd, SLOT_LOCK_BYTE + i):  # no live process holds slot i: it is ours
                slot = ATTACH_TABLE_OFFSET + i * ATTACH_SLOT_SIZE
                self.set_word(slot + SLOT_START_OFFSET, self.start_time)
                self.set_word(slot + SLOT_ATTACHED_MILLIS_OFFSET, int(_time.time() * 1000))
                self.set_word(slot + SLOT_STAMP_OFFSET, stamp_of(self.pid, self.start_time))  # last: a release on x86-64
                self.slot = i
                return
        raise RegionError("LIMIT_REACHED", "the attach table of %s is full: all %d slots belong to live processes"
                          % (self.name, self.attach_capacity))

    def _leave_table(self) -> None:
        if self.slot < 0:
            return
        slot = ATTACH_TABLE_OFFSET + self.slot * ATTACH_SLOT_SIZE
        # No compare-and-set in CPython: while this process holds the slot's lock nobody else may write
        # the stamp (a claimer or a reclaimer takes the lock first), so a check and a store are enough.
        if self.word(slot + SLOT_STAMP_OFFSET) == stamp_of(self.pid, self.start_time):
            self.set_word(slot + SLOT_STAMP_OFFSET, 0)
        _ofd(self._fd, F_OFD_SETLK, F_UNLCK, SLOT_LOCK_BYTE + self.slot)
        self.slot = -1

    def attached(self) -> List[ProcessInfo]:
        """The processes in the attach table, live or not (alive: the slot's lock byte is held)."""
        out = []
        for i in range(self.attach_capacity):
            slot = ATTACH_TABLE_OFFSET + i * ATTACH_SLOT_SIZE
            stamp = self.word(slot + SLOT_STAMP_OFFSET)
            if stamp:
                alive = i == self.slot or _ofd_held_elsewhere(self._fd, SLOT_LOCK_BYTE + i)
                out.append(_process_info(stamp, self.word(slot + SLOT_START_OFFSET), alive))
        return out

    # ---- sizes, growth, references ----------------------------------------------------------------
    @property
    def size(self) -> int:
        """Data bytes mapped now."""
        return self.mapped - self.header_size

    @property
    def generation(self) -> int:
        """1 at creation, +1 per growth."""
        return self.word(GENERATION_OFFSET)

    def data(self) -> memoryview:
        """A memoryview of the data area (release it before close() or refresh())."""
        return self._view()[self.header_size:self.mapped]

    def refresh(self) -> int:
        """Maps what another process grew (FORMAT.md §3.1): a new mmap at the current size. {@return size}"""
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

    def grow(self, size: int) -> int:
        """Grows the data area to SIZE bytes (rounded up to pages), within the reserved span; needs the writer
        lock held by this handle (FORMAT.md §3.1): the backing first, then the current size, then the
        generation. {@return the data size now}"""
        if not self._holding:
            raise RegionError("INVALID_ARGUMENT", "growing %s needs its writer lock, held by this handle" % self.name)
        self.refresh()
        page = _mmap.PAGESIZE
        target = self.header_size + (size + page - 1) // page * page
        current = self.word(CURRENT_SIZE_OFFSET)
        if target <= current:
            return self.size
        if target > self.reserved_span:
            raise RegionError("LIMIT_REACHED", "%s cannot grow to %d data bytes: its reserved span allows %d"
                              % (self.name, size, self.reserved_span - self.header_size))
        try:
            _os.posix_fallocate(self._fd, current, target - current)  # a full file system fails here, changing nothing
        except OSError as e:
            raise _os_error(e, "posix_fallocate(%s, %d, %d)" % (self.name, current, target - current))
        self.set_word(CURRENT_SIZE_OFFSET, target)  # release stores on x86-64: the size, then the generation
        self.set_word(GENERATION_OFFSET, self.word(GENERATION_OFFSET) + 1)
        return self.refresh()

    def ref(self, offset: int) -> int:
        """The reference to store for data-area OFFSET (FORMAT.md §4)."""
        return self._stored_data_base + offset

    def follow(self, ref: int, length: int = 8) -> int:
        """The data-area offset a stored reference points at, checked against the mapped data area."""
        if ref == 0:
            raise RegionError("INVALID_ARGUMENT", "the null reference of " + self.name)
        offset = ref - self._stored_data_base
        if offset < 0 or offset + length > self.size:
            raise RegionError("CORRUPT_REGION", "reference 0x%x (%d bytes) is outside the %d-byte data area of %s"
                              % (ref, length, self.size, self.name))
        return offset

    def data_word(self, offset: int) -> int:
        return self.word(self.header_size + offset)

    def set_data_word(self, offset: int, value: int) -> None:
        self.set_word(self.header_size + offset, value)

    # ---- header ----------------------------------------------------------------------------------------
    def lock_holder(self) -> Optional[ProcessInfo]:
        """The recorded writer-lock holder, alive while the OS lock is held (no pid compared), or None."""
        holder = self.word(LOCK_HOLDER_OFFSET)
        if not holder:
            return None
        return _process_info(holder, self.word(LOCK_HOLDER_START_OFFSET),
                             self._holding or _ofd_held_elsewhere(self._fd, WRITER_LOCK_BYTE))

    def info(self) -> Dict[str, Any]:
        """What ``panmap inspect --json`` prints for this region, in the same schema (FORMAT.md §8)."""
        b = bytes(self._view()[:CURRENT_SIZE_OFFSET])
        (version, header_size, _region_size, _data_size, addressing, _permissions, base, span, _spare, creator, capacity,
         creator_start, created_millis, _checksum, _flags) = _IMMUTABLE.unpack_from(b, VERSION_OFFSET)
        st = _os.fstat(self._fd)
        try:
            owner: Optional[str] = _pwd.getpwuid(st.st_uid).pw_name
        except KeyError:
            owner = str(st.st_uid)
        last = self.word(LOCK_LAST_STALE_OFFSET)
        holder = self.lock_holder()
        creator_stamp = stamp_of(creator, creator_start)
        return {
            "name": self.name, "backing": self.backing, "owner": owner, "ownerUid": st.st_uid, "size": self.size,
            "regionSize": self.mapped,
            "dataOffset": header_size, "generation": self.word(GENERATION_OFFSET), "reservedSpan": span,
            "addressing": "DIRECT" if addressing == ADDRESSING_DIRECT_MODE else "OFFSET",
            "baseAddress": "0x%x" % base if addressing == ADDRESSING_DIRECT_MODE else None,
            "mode": "0%03o" % _stat.S_IMODE(st.st_mode), "layoutVersion": version,
            "creatorPid": creator,
            "creator": _process_info(creator_stamp, creator_start, _pid_alive(creator_stamp)).json(),
            "createdAt": _instant(created_millis),
            "lockHolder": None if holder is None else holder.json(),
            "lockAcquisitions": self.word(LOCK_ACQUISITIONS_OFFSET),
            "lockStaleRecoveries": self.word(LOCK_STALE_RECOVERIES_OFFSET),
            "lastStaleHolder": _process_info(last, self.word(LOCK_LAST_STALE_START_OFFSET), False).json() if last else None,
            "maxAttached": capacity,
            "attached": [p.json() for p in self.attached()],
            "pages": self._pages(),
            "locks": _locks_held(self._fd, WRITER_LOCK_BYTE, 1) + _locks_held(self._fd, SLOT_LOCK_BYTE, capacity),
        }

    def _pages(self) -> Optional[Dict[str, Any]]:
        """The pages backing this mapping, from /proc/self/smaps, as Java's PageUsage (None if not found)."""
        st = _os.fstat(self._fd)
        fields = {"Size": 0, "KernelPageSize": 0, "Rss": 0, "AnonHugePages": 0, "ShmemPmdMapped": 0, "FilePmdMapped": 0,
                  "Shared_Hugetlb": 0, "Private_Hugetlb": 0}
        found = False
        try:
            with open("/proc/self/smaps", "r") as f:
                ours = False
                for line in f:
                    head = line.split()
                    if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                        dev = head[3].split(":")
                        ours = (len(dev) == 2 and int(head[4]) == st.st_ino
                                and _os.makedev(int(dev[0], 16), int(dev[1], 16)) == st.st_dev)
                        found = found or ours
                    elif ours and head and head[0].endswith(":") and head[0][:-1] in fields:
                        kb = int(head[1]) * 1024
                        fields[head[0][:-1]] = kb if head[0] == "KernelPageSize:" else fields[head[0][:-1]] + kb
        except (OSError, ValueError):
            return None
        if not found:
            return None
        kernel = fields["KernelPageSize"]
        huge = fields["AnonHugePages"] + fields["ShmemPmdMapped"] + fields["FilePmdMapped"]
        resident = fields["Rss"] + fields["Shared_Hugetlb"] + fields["Private_Hugetlb"]
        hugetlb = kernel > 4096
        thp = 2 << 20
        effective = kernel if hugetlb else (thp if huge > 0 and huge * 2 >= resident else kernel)
        return {"effectivePageSize": effective, "kernelPageSize": kernel, "hugetlb": hugetlb, "transparentHugeBytes": huge,
                "residentBytes": resident, "mappedBytes": fields["Size"]}

    # ---- writer lock (FORMAT.md §3.3) ------------------------------------------------------------
    def try_lock(self) -> bool:
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

    def lock(self, timeout: Optional[float] = None) -> bool:
        """Takes the writer lock, waiting up to TIMEOUT seconds (None: forever). {@return False if the time ran out}"""
        deadline = None if timeout is None else _time.monotonic() + timeout
        pause = 0.00001
        while not self.try_lock():
            if deadline is not None and _time.monotonic() >= deadline:
                return False
            _time.sleep(pause)
            pause = min(pause * 2, 0.001)
        return True

    def unlock(self) -> None:
        """Clears the holder word, then lets the OS lock go."""
        if not self._holding:
            raise RegionError("INVALID_ARGUMENT", "the writer lock of %s is not held by this handle" % self.name)
        self.set_word(LOCK_HOLDER_OFFSET, 0)  # the word first, then the lock
        self._holding = False
        _ofd(self._fd, F_OFD_SETLK, F_UNLCK, WRITER_LOCK_BYTE)

    @contextmanager
    def writer_lock(self, timeout: Optional[float] = None) -> Iterator["Region"]:
        """``with region.writer_lock(timeout=5): ...`` holds the writer lock for the block; WOULD_BLOCK if it
        stays held elsewhere for TIMEOUT seconds (None: waits as long as it takes)."""
        if not self.lock(timeout):
            raise RegionError("WOULD_BLOCK", "the writer lock of %s is still held after %g s" % (self.name, timeout or 0))
        try:
            yield self
        finally:
            self.unlock()

    @property
    def holding_lock(self) -> bool:
        return self._holding

    def writer_lock_held_elsewhere(self) -> bool:
        """Whether another open file description (another process or handle) holds the writer lock now."""
        return _ofd_held_elsewhere(self._fd, WRITER_LOCK_BYTE)

    # ---- records -----------------------------------------------------------------------------------
    def record(self, offset: int) -> "Record":
        """The SeqRecord at data-area OFFSET (FORMAT.md §5)."""
        return Record(self, offset)

    def format_record(self, offset: int, payload_size: int) -> "Record":
        """Lays out a new, all-zero SeqRecord at data-area OFFSET (once, while nobody uses that place)."""
        if not self.writable:
            raise RegionError("INVALID_ARGUMENT", self.name + " was opened read-only")
        if not 1 <= payload_size <= RECORD_MAX_PAYLOAD:
            raise RegionError("INVALID_ARGUMENT", "payload size must be in [1, %d]: payloadSize=%d" % (RECORD_MAX_PAYLOAD, payload_size))
        if offset % 8 or offset < 0 or offset + record_footprint(payload_size) > self.size:
            raise RegionError("INVALID_ARGUMENT", "a SeqRecord of %d bytes at offset %d does not fit the %d-byte data area of %s"
                              % (record_footprint(payload_size), offset, self.size, self.name))
        _require_ordering("formatting a SeqRecord")
        at = self.header_size + offset
        b = self._view()
        b[at:at + record_footprint(payload_size)] = bytes(record_footprint(payload_size))
        _struct.pack_into("<II", b, at + RECORD_PAYLOAD_SIZE_OFFSET, payload_size, record_slot_stride(payload_size))
        self.set_word(at + RECORD_MAGIC_OFFSET, RECORD_MAGIC_AND_VERSION)
        return Record(self, offset)

    # ---- closing -----------------------------------------------------------------------------------
    def close(self) -> None:
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

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def __enter__(self) -> "Region":
        return self

    def __exit__(self, kind: Optional[Type[BaseException]], value: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return "Region(%r, %s, size=%d)" % (self.name, "closed" if self.closed else "rw" if self.writable else "ro", self.size)


def _instant(millis: int) -> str:
    """Java's Instant.toString() of epoch milliseconds: 2026-12-06T19:33:24Z, or .123Z with the milliseconds."""
    seconds, ms = divmod(millis, 1000)
    text = _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(seconds))
    return text + (".%03dZ" % ms if ms else "Z")


class Record:
    """A SeqRecord (FORMAT.md §5): read without locks, written under the region's writer lock."""

    def __init__(self, region: Region, offset: int) -> None:
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
        self.payload_size = region.u32(self.at + RECORD_PAYLOAD_SIZE_OFFSET)
        stride = region.u32(self.at + RECORD_SLOT_STRIDE_OFFSET)
        if not 1 <= self.payload_size <= RECORD_MAX_PAYLOAD or stride != record_slot_stride(self.payload_size):
            raise RegionError("CORRUPT_REGION", "the SeqRecord at offset %d of %s has inconsistent sizes" % (offset, region.name))
        if offset + record_footprint(self.payload_size) > region.size:
            raise RegionError("INVALID_ARGUMENT", "the SeqRecord at offset %d of %s does not fit its data area" % (offset, region.name))
        self.offset = offset
        self.stride = stride
        self._writing = -1

    @property
    def version(self) -> int:
        return self.region.word(self.at + RECORD_PUBLISHED_OFFSET) >> 1

    @property
    def repaired(self) -> int:
        return self.region.word(self.at + RECORD_REPAIRED_OFFSET)

    def read(self, timeout: Optional[float] = None) -> Tuple[int, bytes]:
        """{@return (version, payload bytes)}: a consistent copy, never a mix of two writes. Takes no lock;
        retries while a writer laps it (the copy is validated by the slot sequence, as in C and Java).

        Bounded against damage: a published slot whose sequence stays odd with no process holding the
        writer lock is CORRUPT_REGION (no writer leaves it so). With TIMEOUT (seconds) it gives up with
        WOULD_BLOCK when a live writer keeps the record changing for that long."""
        _require_ordering("reading a SeqRecord")
        r = self.region
        words = r._word_view()
        view = r._view()
        at = self.at
        size = self.payload_size
        published_index = (at + RECORD_PUBLISHED_OFFSET) >> 3
        deadline = None if timeout is None else _time.monotonic() + timeout
        stuck = -1
        tries = 0
        while True:
            tries += 1
            published = words[published_index]
            slot = at + RECORD_SLOTS_OFFSET + (published & 1) * self.stride
            before = words[(slot + RECORD_SLOT_SEQUENCE_OFFSET) >> 3]
            if not before & 1:
                start = slot + RECORD_SLOT_PAYLOAD_OFFSET
                copy = bytes(view[start:start + size])
                # loads stay in order on x86-64: these two come after the copy's
                if words[(slot + RECORD_SLOT_SEQUENCE_OFFSET) >> 3] == before and words[published_index] == published:
                    return published >> 1, copy
                stuck = -1
            elif published != stuck:
                stuck, tries = published, 1
            if tries % _READ_SPINS == 0:
                if deadline is not None and _time.monotonic() >= deadline:
                    raise RegionError("WOULD_BLOCK", "the SeqRecord at offset %d of %s gave no consistent copy within %g s "
                                      "(a writer keeps changing it)" % (self.offset, r.name, timeout or 0))
                if stuck >= 0:
                    if (not r.holding_lock and not r.writer_lock_held_elsewhere() and words[published_index] == stuck
                            and words[(slot + RECORD_SLOT_SEQUENCE_OFFSET) >> 3] & 1):
                        raise RegionError("CORRUPT_REGION", "the SeqRecord at offset %d of %s is damaged: its published slot %d "
                                          "has the odd sequence %d (being written) and no process holds the writer lock"
                                          % (self.offset, r.name, stuck & 1, words[(slot + RECORD_SLOT_SEQUENCE_OFFSET) >> 3]))
                    _time.sleep(0.001)  # a live writer holds the lock: wait for it without burning a core
            _time.sleep(0)

    def write(self, payload: bytes) -> None:
        """Writes PAYLOAD (payload_size bytes) and publishes it; needs the writer lock held by this region handle."""
        if len(payload) != self.payload_size:
            raise RegionError("INVALID_ARGUMENT", "payload of %d bytes, the record's is %d" % (len(payload), self.payload_size))
        start = self.begin()
        self.region._view()[start:start + self.payload_size] = payload
        self.publish()

    def begin(self) -> int:
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

    def publish(self) -> None:
        r = self.region
        if self._writing < 0 or not r.holding_lock:
            raise RegionError("INVALID_ARGUMENT", "no write of this SeqRecord is in progress under the writer lock")
        slot = self.at + RECORD_SLOTS_OFFSET + self._writing * self.stride
        published = r.word(self.at + RECORD_PUBLISHED_OFFSET)
        r.set_word(slot + RECORD_SLOT_SEQUENCE_OFFSET, r.word(slot + RECORD_SLOT_SEQUENCE_OFFSET) + 1)  # even
        r.set_word(self.at + RECORD_PUBLISHED_OFFSET, (((published >> 1) + 1) << 1) | self._writing)
        self._writing = -1
