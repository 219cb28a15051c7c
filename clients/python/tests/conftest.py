"""Fixtures of the client's own tests (no JVM): a fresh shared-memory name per test, removed after it."""

import os
import struct
import uuid
from typing import Iterator

import pytest

from panmap_region import Region, RegionError


@pytest.fixture
def name() -> Iterator[str]:
    n = "/pmr-pytest-%d-%s" % (os.getpid(), uuid.uuid4().hex[:12])
    yield n
    try:
        Region.remove(n)
    except RegionError:
        pass


@pytest.fixture
def region(name: str) -> Iterator[Region]:
    r = Region.create(name, 1 << 16, max_size=1 << 20)
    yield r
    r.close()


class Builder:
    """Lays structures out by hand, as FORMAT.md §6 draws them (the client only reads them)."""

    def __init__(self, region: Region, at: int = 0) -> None:
        self.r = region
        self.next = at

    def alloc(self, size: int) -> int:
        at = self.next
        self.next += (size + 7) // 8 * 8
        return at

    def put(self, offset: int, fmt: str, *values: int) -> None:
        b = self.r.data()
        try:
            struct.pack_into(fmt, b, offset, *values)
        finally:
            b.release()

    def node_list(self, values: "list[int]", node_size: int = 16) -> "tuple[int, list[int]]":
        root = self.alloc(64)
        self.put(root, "<QII", 0x0000_5453_494C_4D50, 1, node_size)
        nodes = [self.alloc(node_size) for _ in values]
        for i, (n, v) in enumerate(zip(nodes, values)):
            nxt = self.r.ref(nodes[i + 1]) if i + 1 < len(nodes) else 0
            self.put(n, "<Qq", nxt, v)
        self.put(root + 16, "<QQQ", self.r.ref(nodes[0]) if nodes else 0, self.r.ref(nodes[-1]) if nodes else 0, len(nodes))
        return root, nodes

    def hash_index(self, pairs: "dict[int, int]", capacity: int = 16) -> "tuple[int, int]":
        from panmap_region import hash_of
        root = self.alloc(64)
        table = self.alloc(capacity * 16)
        self.put(root, "<QI", 0x0000_4853_4148_4D50, 1)
        self.put(root + 16, "<QQQ", capacity, len(pairs), self.r.ref(table))
        for k, v in pairs.items():
            i = hash_of(k) & (capacity - 1)
            while True:
                b = self.r.data()
                try:
                    taken = struct.unpack_from("<Q", b, table + i * 16)[0]
                finally:
                    b.release()
                if not taken:
                    break
                i = (i + 1) & (capacity - 1)
            self.put(table + i * 16, "<qq", k, v)
        return root, table

    def skip_list(self, pairs: "dict[int, int]", levels: int = 4) -> "tuple[int, int]":
        root = self.alloc(64)
        head = self.alloc(24 + 8 * levels)
        self.put(root, "<QII", 0x0000_5049_4B53_4D50, 1, levels)
        self.put(root + 24, "<Q", self.r.ref(head))
        self.put(head + 16, "<I", levels)
        keys = sorted(pairs)
        nodes = []
        for i, k in enumerate(keys):
            level = 1 + (i % levels)
            n = self.alloc(24 + 8 * level)
            self.put(n, "<qqI", k, pairs[k], level)
            nodes.append((n, level))
        for lvl in range(levels):
            chain = [head] + [n for n, level in nodes if level > lvl]
            for a, b in zip(chain, chain[1:] + [0]):
                self.put(a + 24 + 8 * lvl, "<Q", self.r.ref(b) if b else 0)
        self.put(root + 16, "<Q", len(keys))
        self.put(root + 48, "<I", levels)
        return root, head


@pytest.fixture
def builder(region: Region) -> Builder:
    return Builder(region, 4096)
