"""The consuming side of the rings Java's ``dev.panmap.ipc`` writes (docs/FORMAT.md §10, ring layout version 2).

A message ring's consumer (``RingConsumer``) and a broadcast buffer's receiver (``BroadcastReceiver``).
Bounded like the structures: a record's length and type are checked before a handler sees it and
before any position moves (a damaged record is ``CORRUPT_REGION``, and the head stays at it); a
receiver checks the transmitter's positions against each other and counts laps and padding records
in a row against a limit, so forged positions or a flood of padding end a read, never spin it.

Where Java and C compare-and-set a dead producer's claim (or an unwritten gap whose every claimer is
dead) to padding, this consumer does the same through libatomic (``Region.cas_word``, ctypes) and
counts the skip only if its compare-and-set won: Java's one-to-one takeover pads the same dead claim
by compare-and-set too, and the loser must not count it a second time. Without libatomic it falls
back to a re-read and a store, which is exact for the bytes (nothing else writes a dead claim but a
padder) and can count a skip twice in that race. It offers no ``unblock`` (taking a *live*
producer's claim is Java's).
It wakes producers that wait for room by the word they sleep on, without a ``FUTEX_WAKE`` system
call: they sleep at most 1 ms at a time (FORMAT.md §10.5), so they notice within that.
"""

import time as _time
from typing import Callable, List, Optional, Tuple

from ._region import (F_OFD_SETLK, F_UNLCK, Region, RegionError, _ofd, _ofd_held_elsewhere, _ofd_try, _require_ordering,
                      stamp_of, stamp_pid)

RING_MAGIC = 0x0000_474E_4952_4D50  # "PMRING"
BROADCAST_MAGIC = 0x0054_5341_4342_4D50  # "PMBCAST"
RING_VERSION = 2
KIND_ONE_TO_ONE, KIND_MANY_TO_ONE, KIND_BROADCAST = 1, 2, 3
ROOT_ALIGNMENT = 128
MIN_CAPACITY, MAX_CAPACITY, MAX_PRODUCERS = 1024, 1 << 62, 4096
VERSION_OFFSET, KIND_OFFSET, CAPACITY_OFFSET, PRODUCERS_OFFSET = 8, 12, 16, 24
TAIL_OFFSET, HEAD_OFFSET, HEAD_INTENT_OFFSET, CONSUMER_OFFSET, CONSUMED_OFFSET = 128, 256, 264, 272, 280
SKIPPED_CLAIMS_OFFSET, SKIPPED_BYTES_OFFSET, CONSUMED_INTENT_OFFSET = 288, 296, 304
SLEEPING_OFFSET, SPACE_SIGNAL_OFFSET, PRODUCERS_WAITING_OFFSET = 388, 400, 404
ENTRIES_OFFSET, ENTRY_SIZE, ENTRY_CLAIM_START_OFFSET, ENTRY_CLAIM_END_OFFSET = 640, 128, 8, 16
HEADER_LENGTH, PADDING_TYPE = 8, -1
LOCK_BASE = 1 << 61
TAIL_INTENT_OFFSET, BROADCAST_TAIL_OFFSET, LATEST_OFFSET, TRANSMITTED_OFFSET = 128, 136, 144, 152
BROADCAST_BUFFER_OFFSET, BROADCAST_HEADER_LENGTH, BROADCAST_SEQUENCE_OFFSET = 256, 16, 8
MAX_SKIPS = 64

Handler = Callable[[int, bytes], Optional[bool]]
"""Called with (type, payload copy) for each message; a true result stops the read after it."""


def _align(n: int) -> int:
    return (n + 7) & ~7


def _length(h: int) -> int:
    v = h & 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def _type(h: int) -> int:
    v = h >> 32
    return v - (1 << 32) if v >= 1 << 31 else v


def _header(length: int, type_: int) -> int:
    return ((type_ & 0xFFFFFFFF) << 32) | (length & 0xFFFFFFFF)


def _poll(read: Callable[[Handler, int], int], limit: int) -> List[Tuple[int, bytes]]:
    out: List[Tuple[int, bytes]] = []

    def keep(type_: int, payload: bytes) -> bool:
        out.append((type_, payload))
        return False
    read(keep, limit)
    return out


def _check(region: Region, root: int, magic: int, what: str) -> int:
    """Magic, version and place; {@return the kind}."""
    if root % ROOT_ALIGNMENT or root < 0 or root + ROOT_ALIGNMENT > region.size:
        raise RegionError("INVALID_ARGUMENT", "a %s must be at a 128-aligned data offset inside the data area of %s: offset=%d"
                          % (what, region.name, root))
    at = region.header_size + root
    found = region.word(at)
    if found != magic:
        raise RegionError("INCOMPATIBLE_REGION", "no %s at data offset %d of %s: magic 0x%x, expected 0x%x"
                          % (what, root, region.name, found, magic))
    version = region.u32(at + VERSION_OFFSET)
    if version != RING_VERSION:
        raise RegionError("INCOMPATIBLE_REGION", "the %s at data offset %d of %s has layout version %d; this client reads version %d"
                          % (what, root, region.name, version, RING_VERSION))
    return region.u32(at + KIND_OFFSET)


class RingConsumer:
    """The consumer of the message ring at data offset ROOT: registered (one at a time, in any process) until close()."""

    def __init__(self, region: Region, root: int, grace: float = 0.010) -> None:
        _require_ordering("consuming a ring")
        kind = _check(region, root, RING_MAGIC, "message ring")
        if kind not in (KIND_ONE_TO_ONE, KIND_MANY_TO_ONE):
            raise RegionError("INCOMPATIBLE_REGION", "the ring at data offset %d of %s is of kind %d%s"
                              % (root, region.name, kind, " (a broadcast buffer)" if kind == KIND_BROADCAST else ""))
        at = region.header_size + root
        capacity = region.word(at + CAPACITY_OFFSET)
        producers = region.u32(at + PRODUCERS_OFFSET)
        room = region.size - root
        if (not MIN_CAPACITY <= capacity <= MAX_CAPACITY or capacity & (capacity - 1) or not 1 <= producers <= MAX_PRODUCERS
                or (kind == KIND_ONE_TO_ONE and producers != 1) or ENTRIES_OFFSET + ENTRY_SIZE * producers + capacity > room):
            raise RegionError("CORRUPT_REGION", "the ring at data offset %d of %s is damaged: capacity %d, %d producer entries, in a "
                              "%d-byte data area" % (root, region.name, capacity, producers, region.size))
        if not region.writable:
            raise RegionError("INVALID_ARGUMENT", "consuming the ring at data offset %d needs %s open for writing" % (root, region.name))
        self.region = region
        self.root = root
        self._at = at
        self.capacity = capacity
        self._mask = capacity - 1
        self.producers = producers
        self._buffer = at + ENTRIES_OFFSET + ENTRY_SIZE * producers
        self.max_message = min(capacity // 8 - HEADER_LENGTH, (1 << 31) - 1 - 16)
        self._grace = grace
        self._lock = LOCK_BASE + root + CONSUMER_OFFSET
        fd = region._fd
        if not _ofd_try(fd, self._lock):
            raise RegionError("WOULD_BLOCK", "the ring at data offset %d of %s has a consumer already: pid %d, alive"
                              % (root, region.name, stamp_pid(region.word(at + CONSUMER_OFFSET))))
        try:
            self._finish_dead_batch()
        except BaseException:
            _ofd(fd, F_OFD_SETLK, F_UNLCK, self._lock)
            raise
        region._int_view()[(at + SLEEPING_OFFSET) >> 2] = 0  # a dead sleeper's flag
        self._stamp = stamp_of(region.pid, region.start_time)
        region.set_word(at + CONSUMER_OFFSET, self._stamp)  # over a dead consumer's stamp, if any
        self.head = region.word(at + HEAD_OFFSET)
        self.consumed = region.word(at + CONSUMED_OFFSET)
        self._suspect = -1
        self._suspect_since = 0.0
        self._suspect_wait = 0.0
        self._empty_reads = 0
        self._closed = False

    def _finish_dead_batch(self) -> None:
        r, at = self.region, self._at
        head, intent = r.word(at + HEAD_OFFSET), r.word(at + HEAD_INTENT_OFFSET)
        if intent == head:
            return
        index = head & self._mask
        nbytes = intent - head
        if nbytes < 0 or nbytes > self.capacity - index or nbytes % 8 or head >= 1 << 63:
            raise RegionError("CORRUPT_REGION", "the ring at data offset %d of %s is damaged: head %d, head intent %d (a batch ends "
                              "within the lap it starts in, 8-aligned)" % (self.root, r.name, head, intent))
        self._zero(index, nbytes)
        r.set_word(at + CONSUMED_OFFSET, r.word(at + CONSUMED_INTENT_OFFSET))
        r.set_word(at + HEAD_OFFSET, intent)

    def _zero(self, index: int, nbytes: int) -> None:
        start = self._buffer + index
        self.region._view()[start:start + nbytes] = bytes(nbytes)

    def close(self) -> None:
        """Gives the consumer's place back: clears its stamp, then unlocks. Idempotent."""
        if self._closed:
            return
        self._closed = True
        r = self.region
        if not r.closed:
            if r.word(self._at + CONSUMER_OFFSET) == self._stamp:
                r.set_word(self._at + CONSUMER_OFFSET, 0)
            _ofd(r._fd, F_OFD_SETLK, F_UNLCK, self._lock)

    def __enter__(self) -> "RingConsumer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def poll(self, limit: int = 1024) -> List[Tuple[int, bytes]]:
        """Up to LIMIT messages as (type, payload) pairs, in order; [] on an empty ring."""
        return _poll(self.read, limit)

    def read(self, handler: Handler, limit: int = 1024) -> int:
        """Hands up to LIMIT messages to HANDLER in order; {@return how many}. Never blocks."""
        if self._closed:
            raise RegionError("INVALID_ARGUMENT", "the consumer is closed")
        r, words = self.region, self.region._word_view()
        total, idle, stop = 0, 0, False
        while total < limit and not stop and idle < MAX_SKIPS:
            h0 = self.head
            index = h0 & self._mask
            contiguous = self.capacity - index
            nbytes = n = 0
            damaged = 0
            while nbytes < contiguous and total + n < limit and not stop:
                at = self._buffer + index + nbytes
                h = words[at >> 3]
                length = _length(h)
                if length <= 0:
                    break
                type_ = _type(h)
                aligned = _align(length)
                if (length < HEADER_LENGTH or aligned > contiguous - nbytes
                        or (type_ != PADDING_TYPE and (type_ < 1 or length - HEADER_LENGTH > self.max_message))):
                    damaged = h
                    break
                if type_ != PADDING_TYPE:
                    n += 1
                    payload = bytes(r._view()[at + HEADER_LENGTH:at + length])
                    stop = bool(handler(type_, payload))
                nbytes += aligned
            if nbytes:
                self._release(h0, index, nbytes, n)
            total += n
            idle = idle + 1 if n == 0 else 0
            if damaged:
                raise RegionError("CORRUPT_REGION", "the ring at data offset %d of %s is damaged: the record at position %d has length "
                                  "%d and type %d (a record takes 8 to %d bytes, here at most %d before the end of the buffer, and its "
                                  "type is >= 1, or -1 for padding)" % (self.root, r.name, h0 + nbytes, _length(damaged),
                                                                       _type(damaged), self.max_message + HEADER_LENGTH, contiguous - nbytes))
            if nbytes == 0:
                if not self._resolve(h0, index):
                    break
            elif nbytes < contiguous:
                break
        return total

    def _release(self, h0: int, index: int, nbytes: int, count: int) -> None:
        """FORMAT.md §10.6: the count after the batch, the head intent, the zeroes, the count, the head (stores in order on x86-64)."""
        r, at = self.region, self._at
        h1, c1 = h0 + nbytes, self.consumed + count
        r.set_word(at + CONSUMED_INTENT_OFFSET, c1)
        r.set_word(at + HEAD_INTENT_OFFSET, h1)
        self._zero(index, nbytes)
        r.set_word(at + CONSUMED_OFFSET, c1)
        r.set_word(at + HEAD_OFFSET, h1)
        self.consumed, self.head = c1, h1
        self._suspect = -1
        self._empty_reads = 0
        self._wake_producers()

    def _wake_producers(self) -> None:
        ints = self.region._int_view()
        if ints[(self._at + PRODUCERS_WAITING_OFFSET) >> 2]:
            ints[(self._at + PRODUCERS_WAITING_OFFSET) >> 2] = 0
            signal = (self._at + SPACE_SIGNAL_OFFSET) >> 2
            ints[signal] = (ints[signal] + 1) & 0xFFFFFFFF  # they sleep at most 1 ms: no FUTEX_WAKE needed

    def _suspicious(self, position: int) -> bool:
        now = _time.monotonic()
        if self._suspect != position:
            self._suspect, self._suspect_since, self._suspect_wait = position, now, self._grace
            return self._grace == 0
        return now - self._suspect_since >= self._suspect_wait

    def _still_alive(self) -> None:
        self._suspect_since = _time.monotonic()
        self._suspect_wait = min(max(2 * self._suspect_wait, 0.001), 1.0)

    def _entry_alive(self, i: int) -> bool:
        return _ofd_held_elsewhere(self.region._fd, LOCK_BASE + self.root + ENTRIES_OFFSET + ENTRY_SIZE * i)

    def _skip(self, index: int, found: int, header: int, nbytes: int) -> None:
        """Turns the record at INDEX from FOUND to padding HEADER and counts it, if this consumer is the one that did."""
        r, at = self.region, self._at
        if r.has_atomics():
            if r.cas_word(self._buffer + index, found, header):  # lost: another padder (Java's takeover) counted it
                r.add_word(at + SKIPPED_CLAIMS_OFFSET, 1)
                r.add_word(at + SKIPPED_BYTES_OFFSET, nbytes)
            return
        r.set_word(self._buffer + index, header)
        r.set_word(at + SKIPPED_CLAIMS_OFFSET, r.word(at + SKIPPED_CLAIMS_OFFSET) + 1)
        r.set_word(at + SKIPPED_BYTES_OFFSET, r.word(at + SKIPPED_BYTES_OFFSET) + nbytes)

    def _resolve(self, h0: int, index: int) -> bool:
        """Nothing was read at H0: empty, a claim in progress, or one a dead producer left. {@return True if it became padding}"""
        r, at = self.region, self._at
        h = r.word(self._buffer + index)
        length = _length(h)
        if length < 0:
            tag = _type(h)
            if not self._suspicious(h0):
                return False
            if not 0 <= tag < self.producers or -length < HEADER_LENGTH or _align(-length) > self.capacity - index:
                raise RegionError("CORRUPT_REGION", "the ring at data offset %d of %s is damaged: the claim at position %d names "
                                  "producer entry %d of %d and %d bytes (%d to the end of the buffer)"
                                  % (self.root, r.name, h0, tag, self.producers, -length, self.capacity - index))
            if r.word(at + TAIL_OFFSET) <= h0 or self._entry_alive(tag):
                self._still_alive()
                return False
            if r.word(self._buffer + index) != h:
                return False
            self._skip(index, h, _header(-length, PADDING_TYPE), _align(-length))  # its producer is dead: only a padder writes here
            return True
        if length != 0:
            return False
        self._wake_producers()
        self._empty_reads += 1
        if self._empty_reads & 63:
            return False
        tail = r.word(at + TAIL_OFFSET)
        if tail == h0:
            self._suspect = -1
            return False
        if not self._suspicious(h0):
            return False
        claimed, next_intent = False, 1 << 64
        for i in range(self.producers):
            e = at + ENTRIES_OFFSET + ENTRY_SIZE * i
            if not r.word(e):
                continue
            start, end = r.word(e + ENTRY_CLAIM_START_OFFSET), r.word(e + ENTRY_CLAIM_END_OFFSET)
            if start <= h0 < end:
                if self._entry_alive(i):
                    self._still_alive()
                    return False
                claimed = True
            elif h0 < start < next_intent:
                next_intent = start
        if not claimed:
            self._still_alive()
            return False
        limit = min(tail, h0 - index + self.capacity, next_intent)
        p = h0 + HEADER_LENGTH
        while p < limit and r.word(self._buffer + (p & self._mask)) == 0:
            p += 8
        gap = p - h0
        if gap > (1 << 31) - 1 - 8:
            raise RegionError("CORRUPT_REGION", "the ring at data offset %d of %s is damaged: an unwritten gap of %d bytes at position %d"
                              % (self.root, r.name, gap, h0))
        if r.word(self._buffer + index) != 0:
            return False
        self._skip(index, 0, _header(gap, PADDING_TYPE), gap)
        return True


class BroadcastReceiver:
    """A receiver of the broadcast buffer at data offset ROOT: it receives what is transmitted from now on, never slowing
    the transmitter; a receiver a lap behind jumps to the latest message (``lapped``, ``lost`` count that)."""

    def __init__(self, region: Region, root: int) -> None:
        _require_ordering("receiving a broadcast")
        kind = _check(region, root, BROADCAST_MAGIC, "broadcast buffer")
        at = region.header_size + root
        capacity = region.word(at + CAPACITY_OFFSET)
        if (kind != KIND_BROADCAST or not MIN_CAPACITY <= capacity <= MAX_CAPACITY or capacity & (capacity - 1)
                or BROADCAST_BUFFER_OFFSET + capacity > region.size - root):
            raise RegionError("CORRUPT_REGION", "the broadcast buffer at data offset %d of %s is damaged: kind %d, capacity %d"
                              % (root, region.name, kind, capacity))
        self.region = region
        self.root = root
        self._at = at
        self._buffer = at + BROADCAST_BUFFER_OFFSET
        self.capacity = capacity
        self._mask = capacity - 1
        self.max_message = min(capacity // 8 - BROADCAST_HEADER_LENGTH, (1 << 31) - 1 - 16)
        self._span = 2 * _align(self.max_message + BROADCAST_HEADER_LENGTH)
        self.expected = region.word(at + TRANSMITTED_OFFSET)
        self.cursor = region.word(at + BROADCAST_TAIL_OFFSET)
        if self.expected < region.word(at + TRANSMITTED_OFFSET):
            self.expected = -1  # a message went out between the two reads: count from the first one seen
        self.lapped = self.lost = self.received = 0

    def _damaged(self, what: str) -> RegionError:
        return RegionError("CORRUPT_REGION", "the broadcast buffer at data offset %d of %s is damaged: %s" % (self.root, self.region.name, what))

    def _lap(self, tail_before: int) -> None:
        r, at = self.region, self._at
        self.lapped += 1
        intent, tail = r.word(at + TAIL_INTENT_OFFSET), r.word(at + BROADCAST_TAIL_OFFSET)
        latest, intent_after = r.word(at + LATEST_OFFSET), r.word(at + TAIL_INTENT_OFFSET)
        if (latest >= 1 << 63 or tail_before > intent or tail < intent - self._span or latest < tail - self._span
                or latest > intent_after):
            raise self._damaged("tail %d then %d, tail intent %d then %d, latest %d (a tail is at most its intent, and tail, intent and "
                                "latest lie within %d bytes of each other)" % (tail_before, tail, intent, intent_after, latest, self._span))
        self.cursor = latest

    def poll(self, limit: int = 1024) -> List[Tuple[int, bytes]]:
        """Up to LIMIT messages as (type, payload) pairs, in order; [] when nothing new was sent."""
        return _poll(self.read, limit)

    def read(self, handler: Handler, limit: int = 1024) -> int:
        """Receives up to LIMIT messages, each copied out and validated before HANDLER sees it. {@return how many}"""
        r, at, view = self.region, self._at, self.region._view()
        count = skips = 0
        while count < limit and skips < MAX_SKIPS:
            tail = r.word(at + BROADCAST_TAIL_OFFSET)
            if self.cursor >= tail:
                break
            intent = r.word(at + TAIL_INTENT_OFFSET)
            if tail > intent:
                raise self._damaged("tail %d past the tail intent %d read after it" % (tail, intent))
            if self.cursor + self.capacity <= intent:
                self._lap(tail)
                skips += 1
                continue
            index = self.cursor & self._mask
            first = r.word(self._buffer + index)
            length, type_ = _length(first), _type(first)
            padding = type_ == PADDING_TYPE
            sequence = -1 if padding else r.word(self._buffer + min(index + BROADCAST_SEQUENCE_OFFSET, self.capacity - 8))
            payload = length - BROADCAST_HEADER_LENGTH
            sane = (8 <= length <= self.capacity - index if padding
                    else type_ >= 1 and 0 <= payload <= self.max_message and _align(length) <= self.capacity - index)
            copy = b""
            if sane and not padding:
                start = self._buffer + index + BROADCAST_HEADER_LENGTH
                copy = bytes(view[start:start + payload])
            if self.cursor + self.capacity <= r.word(at + TAIL_INTENT_OFFSET):  # loads in order on x86-64: after the copy
                self._lap(tail)
                skips += 1
                continue
            if not sane:
                raise self._damaged("a record of length %d and type %d at position %d" % (length, type_, self.cursor))
            self.cursor += _align(length)
            if padding:
                skips += 1
                continue
            skips = 0
            if self.expected >= 0 and sequence > self.expected:
                self.lost += sequence - self.expected
            self.expected = sequence + 1
            count += 1
            self.received += 1
            if handler(type_, copy):
                break
        return count
