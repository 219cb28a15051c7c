"""The read side of the structures Java's ``dev.panmap.structures`` keeps in a region (docs/FORMAT.md §6).

Readers take no lock. Every reference read from the region is checked to be an 8-aligned reference to
a whole node inside the mapped data area before it is followed, every loop is bounded (a hash probe by
the capacity, a walk by the most nodes the data area holds), and what fails either check is
``CORRUPT_REGION`` naming the structure and the place: garbage in a region can make a lookup answer
wrongly, never crash or spin.
"""

from typing import Iterator, Optional, Tuple

from ._layout import (HASH_CAPACITY_OFFSET, HASH_COUNT_OFFSET, HASH_MAGIC, HASH_SLOT_KEY_OFFSET, HASH_SLOT_SIZE,
                      HASH_SLOT_VALUE_OFFSET, HASH_TABLE_OFFSET, HASH_VERSION, LIST_COUNT_OFFSET, LIST_FIRST_OFFSET,
                      LIST_MAGIC, LIST_MIN_NODE_SIZE, LIST_NODE_NEXT_OFFSET, LIST_NODE_PAYLOAD_OFFSET,
                      LIST_NODE_SIZE_OFFSET, LIST_VERSION, SKIP_COUNT_OFFSET, SKIP_HEAD_OFFSET, SKIP_MAGIC,
                      SKIP_MAX_LEVEL, SKIP_MAX_LEVEL_OFFSET, SKIP_NODE_KEY_OFFSET, SKIP_NODE_NEXT_OFFSET,
                      SKIP_NODE_VALUE_OFFSET, SKIP_TOP_LEVEL_OFFSET, SKIP_VERSION, STRUCTURE_ALIGNMENT,
                      STRUCTURE_MAGIC_OFFSET, STRUCTURE_VERSION_OFFSET)
from ._region import Region, RegionError, _signed

_MASK = (1 << 64) - 1


class _Structure:
    """What every structure reader shares: its region, its root, and the reference checks."""
    what = "structure"

    def __init__(self, region: Region, root: int, magic: int, version: int) -> None:
        size = region.size
        if root % STRUCTURE_ALIGNMENT or root < 0 or root + 64 > size:
            raise RegionError("INVALID_ARGUMENT", "a %s root must be an 8-aligned data offset with 64 bytes inside the %d-byte "
                              "data area of %s: root=%d" % (self.what, size, region.name, root))
        self.region = region
        self.root = root
        self._at = region.header_size + root  # region offset of the root
        found = region.word(self._at + STRUCTURE_MAGIC_OFFSET)
        if found != magic:
            raise RegionError("INCOMPATIBLE_REGION", "no %s at data offset %d of %s: magic 0x%x, expected 0x%x"
                              % (self.what, root, region.name, found, magic))
        v = region.u32(self._at + STRUCTURE_VERSION_OFFSET)
        if v != version:
            raise RegionError("INCOMPATIBLE_REGION", "the %s at data offset %d of %s has layout version %d; this client reads "
                              "version %d" % (self.what, root, region.name, v, version))

    def _damaged(self, detail: str) -> RegionError:
        return RegionError("CORRUPT_REGION", "the %s at data offset %d of %s is damaged: %s" % (self.what, self.root, self.region.name, detail))

    def _node(self, ref: int, footprint: int, where: str) -> int:
        """{@return the region offset of the node REF denotes}, after checking it is an 8-aligned reference to
        FOOTPRINT bytes inside the data area (CORRUPT_REGION naming WHERE otherwise)."""
        r = self.region
        offset = ref - r._stored_data_base
        if offset % 8 or offset < 0 or offset + footprint > r.size:
            raise self._damaged("%s holds 0x%x, which is not an 8-aligned reference to %d bytes inside the %d-byte data area"
                                % (where, ref, footprint, r.size))
        return r.header_size + offset

    def _cycle(self, hops: int) -> RegionError:
        return self._damaged("it goes on for more than %d nodes, more than the data area holds (a cycle)" % hops)


class NodeList(_Structure):
    """A NodeList (FORMAT.md §6.2): nodes are references; ``value(node)`` is a node's first payload long."""
    what = "node list"

    def __init__(self, region: Region, root: int) -> None:
        super().__init__(region, root, LIST_MAGIC, LIST_VERSION)
        self.node_size = region.u32(self._at + LIST_NODE_SIZE_OFFSET)
        if self.node_size < LIST_MIN_NODE_SIZE or self.node_size % STRUCTURE_ALIGNMENT or self.node_size > region.size:
            raise self._damaged("node size %d" % self.node_size)
        self.max_nodes = region.size // self.node_size

    @property
    def count(self) -> int:
        """The count the list's header gives (a hint while a writer appends)."""
        return self.region.word(self._at + LIST_COUNT_OFFSET)

    def first(self) -> int:
        """The first node's reference, 0 when empty."""
        ref = self.region.word(self._at + LIST_FIRST_OFFSET)
        if ref:
            self._node(ref, self.node_size, "its first reference")
        return ref

    def next(self, node: int) -> int:
        """The reference after NODE, 0 at the end."""
        ref = self.region.word(self._argument(node) + LIST_NODE_NEXT_OFFSET)
        if ref:
            self._node(ref, self.node_size, "the next reference of node 0x%x" % node)
        return ref

    def value(self, node: int) -> int:
        return _signed(self.region.word(self._argument(node) + LIST_NODE_PAYLOAD_OFFSET))

    def payload(self, node: int) -> bytes:
        at = self._argument(node) + LIST_NODE_PAYLOAD_OFFSET
        return bytes(self.region._view()[at:at + self.node_size - LIST_NODE_PAYLOAD_OFFSET])

    def _argument(self, node: int) -> int:
        try:
            return self._node(node, self.node_size, "the node passed")
        except RegionError as e:
            raise RegionError("INVALID_ARGUMENT", e.text) from None

    def nodes(self) -> Iterator[Tuple[int, int]]:
        """(reference, value) of every node in order; CORRUPT_REGION after more nodes than the data area holds."""
        r = self.region
        node = self.first()
        hops = 0
        while node:
            hops += 1
            if hops > self.max_nodes:
                raise self._cycle(self.max_nodes)
            at = r.header_size + node - r._stored_data_base
            yield node, _signed(r.word(at + LIST_NODE_PAYLOAD_OFFSET))
            nxt = r.word(at + LIST_NODE_NEXT_OFFSET)
            if nxt:
                self._node(nxt, self.node_size, "the next reference of node 0x%x" % node)
            node = nxt

    def sum(self) -> int:
        """The sum of all values, wrapping like Java's long (NodeList.sum())."""
        total = 0
        for _, value in self.nodes():
            total = (total + value) & _MASK
        return _signed(total)


def hash_of(key: int) -> int:
    """The hash a probe starts from: MurmurHash3's 64-bit finaliser (FORMAT.md §6.3)."""
    h = key & _MASK
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & _MASK
    h ^= h >> 33
    h = (h * 0xc4ceb9fe1a85ec53) & _MASK
    h ^= h >> 33
    return h


class HashIndex(_Structure):
    """A HashIndex (FORMAT.md §6.3): ``get(key)`` with linear probing, bounded by the capacity."""
    what = "hash index"

    def __init__(self, region: Region, root: int) -> None:
        super().__init__(region, root, HASH_MAGIC, HASH_VERSION)
        self.capacity = region.word(self._at + HASH_CAPACITY_OFFSET)
        ref = region.word(self._at + HASH_TABLE_OFFSET)
        table = ref - region._stored_data_base
        size = region.size
        if (self.capacity < 4 or self.capacity & (self.capacity - 1) or self.capacity > size // HASH_SLOT_SIZE
                or table % 8 or table < 0 or table + self.capacity * HASH_SLOT_SIZE > size):
            raise self._damaged("capacity %d, table reference 0x%x" % (self.capacity, ref))
        self._table = region.header_size + table

    @property
    def count(self) -> int:
        return self.region.word(self._at + HASH_COUNT_OFFSET)

    def get(self, key: int, missing: Optional[int] = None) -> Optional[int]:
        """The value of KEY, or MISSING. Key 0 is INVALID_ARGUMENT (it marks an empty slot)."""
        if key == 0:
            raise RegionError("INVALID_ARGUMENT", "key 0 is reserved: it marks an empty slot of a HashIndex")
        r = self.region
        mask = self.capacity - 1
        want = key & _MASK
        i = hash_of(key) & mask
        for _ in range(self.capacity):
            slot = self._table + i * HASH_SLOT_SIZE
            k = r.word(slot + HASH_SLOT_KEY_OFFSET)  # the value was stored before the key (loads in order on x86-64)
            if k == want:
                return _signed(r.word(slot + HASH_SLOT_VALUE_OFFSET))
            if k == 0:
                return missing
            i = (i + 1) & mask
        raise self._damaged("all %d slots hold other keys, and a table is kept at most 3/4 full" % self.capacity)

    def __contains__(self, key: int) -> bool:
        return self.get(key) is not None


def _node_size(level: int) -> int:
    return SKIP_NODE_NEXT_OFFSET + 8 * level


class SkipList(_Structure):
    """A SkipList (FORMAT.md §6.4): ordered, signed 64-bit keys; get, floor, ceiling and in-order walks."""
    what = "skip list"

    def __init__(self, region: Region, root: int) -> None:
        super().__init__(region, root, SKIP_MAGIC, SKIP_VERSION)
        self.max_level = region.u32(self._at + SKIP_MAX_LEVEL_OFFSET)
        if not 1 <= self.max_level <= SKIP_MAX_LEVEL:
            raise self._damaged("%d levels" % self.max_level)
        self.head = region.word(self._at + SKIP_HEAD_OFFSET)
        self._node(self.head, _node_size(self.max_level), "its head reference")
        self.max_nodes = region.size // _node_size(1)

    @property
    def count(self) -> int:
        return self.region.word(self._at + SKIP_COUNT_OFFSET)

    def _next(self, node: int, level: int) -> int:
        r = self.region
        ref = r.word(r.header_size + node - r._stored_data_base + SKIP_NODE_NEXT_OFFSET + 8 * level)
        if ref:
            self._node(ref, _node_size(level + 1), "a level-%d reference" % level)
        return ref

    def _key(self, node: int) -> int:
        r = self.region
        return _signed(r.word(r.header_size + node - r._stored_data_base + SKIP_NODE_KEY_OFFSET))

    def _value(self, node: int) -> int:
        r = self.region
        return _signed(r.word(r.header_size + node - r._stored_data_base + SKIP_NODE_VALUE_OFFSET))

    def _lower(self, key: int, inclusive: bool) -> Tuple[int, int]:
        """(the last node below KEY, or at most KEY when INCLUSIVE, or the head; hops made)."""
        top = min(max(self.region.u32(self._at + SKIP_TOP_LEVEL_OFFSET), 1), self.max_level)
        x = self.head
        hops = 0
        for i in range(top - 1, -1, -1):
            while True:
                n = self._next(x, i)
                if not n:
                    break
                k = self._key(n)
                if k > key or (k == key and not inclusive):
                    break
                x = n
                hops += 1
                if hops > self.max_nodes:
                    raise self._cycle(self.max_nodes)
        return x, hops

    def _ceiling(self, key: int) -> int:
        x, hops = self._lower(key, False)
        n = self._next(x, 0)
        while n and self._key(n) < key:  # past nodes a writer linked meanwhile
            hops += 1
            if hops > self.max_nodes:
                raise self._cycle(self.max_nodes)
            n = self._next(n, 0)
        return n

    def get(self, key: int, missing: Optional[int] = None) -> Optional[int]:
        n = self._ceiling(key)
        return self._value(n) if n and self._key(n) == key else missing

    def floor(self, key: int) -> Optional[Tuple[int, int]]:
        """(key, value) of the greatest key at most KEY, or None."""
        n, _ = self._lower(key, True)
        return None if n == self.head else (self._key(n), self._value(n))

    def ceiling(self, key: int) -> Optional[Tuple[int, int]]:
        """(key, value) of the least key at least KEY, or None."""
        n = self._ceiling(key)
        return (self._key(n), self._value(n)) if n else None

    def items(self, start: int = -(1 << 63)) -> Iterator[Tuple[int, int]]:
        """(key, value) in key order from the first key at least START; bounded like NodeList.nodes()."""
        n = self._ceiling(start)
        seen = 0
        while n:
            seen += 1
            if seen > self.max_nodes:
                raise self._cycle(self.max_nodes)
            yield self._key(n), self._value(n)
            n = self._next(n, 0)
