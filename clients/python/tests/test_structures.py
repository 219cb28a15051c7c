"""The structures' read side against layouts laid out by hand from FORMAT.md §6, sound and damaged."""

import random
import time

import pytest

from conftest import Builder
from panmap_region import HashIndex, NodeList, Region, RegionError, SkipList


def test_a_node_list_is_walked_in_order(region: Region, builder: Builder) -> None:
    root, nodes = builder.node_list([5, -3, 11])
    lst = NodeList(region, root)
    assert [v for _, v in lst.nodes()] == [5, -3, 11] and lst.sum() == 13 and lst.count == 3
    assert lst.first() == region.ref(nodes[0]) and lst.next(region.ref(nodes[2])) == 0


def test_a_hash_index_finds_its_keys(region: Region, builder: Builder) -> None:
    pairs = {k: -k for k in (1, 2, 17, -5, 1 << 62)}
    root, _ = builder.hash_index(pairs)
    h = HashIndex(region, root)
    assert all(h.get(k) == v for k, v in pairs.items()) and h.get(3) is None and 17 in h and 4 not in h
    with pytest.raises(RegionError) as e:
        h.get(0)
    assert e.value.kind == "INVALID_ARGUMENT"


def test_a_skip_list_answers_get_floor_ceiling_and_walks(region: Region, builder: Builder) -> None:
    pairs = {k: -k for k in (-40, -7, 3, 9, 30, 31, 100)}
    root, _ = builder.skip_list(pairs)
    s = SkipList(region, root)
    assert s.get(9) == -9 and s.get(10) is None
    assert s.floor(10) == (9, -9) and s.floor(-41) is None and s.ceiling(10) == (30, -30) and s.ceiling(101) is None
    assert list(s.items(0)) == [(k, -k) for k in (3, 9, 30, 31, 100)]


def test_a_cycle_in_a_node_list_ends_as_corrupt(region: Region, builder: Builder) -> None:
    root, nodes = builder.node_list([1, 2, 3])
    builder.put(nodes[2], "<Q", region.ref(nodes[0]))  # the last node points back at the first
    start = time.monotonic()
    with pytest.raises(RegionError) as e:
        NodeList(region, root).sum()
    assert e.value.kind == "CORRUPT_REGION" and "cycle" in e.value.text and time.monotonic() - start < 10


def test_a_hash_table_full_of_foreign_keys_ends_as_corrupt(region: Region, builder: Builder) -> None:
    root, table = builder.hash_index({}, capacity=64)
    for i in range(64):
        builder.put(table + i * 16, "<qq", 1000 + i, i)  # every slot taken: no probe meets an empty one
    with pytest.raises(RegionError) as e:
        HashIndex(region, root).get(5)
    assert e.value.kind == "CORRUPT_REGION" and "all 64 slots" in e.value.text


def test_a_reference_outside_the_data_area_is_corrupt_and_names_where(region: Region, builder: Builder) -> None:
    root, nodes = builder.node_list([1, 2])
    builder.put(nodes[0], "<Q", region.ref(region.size - 8))  # a node that does not fit
    with pytest.raises(RegionError) as e:
        NodeList(region, root).sum()
    assert e.value.kind == "CORRUPT_REGION" and "next reference" in e.value.text


def test_another_magic_or_version_is_incompatible(region: Region, builder: Builder) -> None:
    root, _ = builder.hash_index({1: 1})
    with pytest.raises(RegionError) as e:
        NodeList(region, root)
    assert e.value.kind == "INCOMPATIBLE_REGION"
    builder.put(root + 8, "<I", 2)
    with pytest.raises(RegionError) as e:
        HashIndex(region, root)
    assert e.value.kind == "INCOMPATIBLE_REGION"


@pytest.mark.parametrize("seed", range(8))
def test_random_damage_ends_in_an_answer_or_a_documented_error(region: Region, builder: Builder, seed: int) -> None:
    rng = random.Random(seed)
    lists = builder.node_list([rng.randrange(-99, 99) for _ in range(40)])[0]
    hashes = builder.hash_index({rng.randrange(1, 1 << 40): i for i in range(40)}, capacity=64)[0]
    skips = builder.skip_list({rng.randrange(-1 << 40, 1 << 40): i for i in range(40)})[0]
    end = builder.next
    for _ in range(200):
        at = 4096 + rng.randrange(0, end - 4096) // 8 * 8
        builder.put(at, "<Q", rng.choice([0, 1, rng.getrandbits(64), region.ref(rng.randrange(0, end) // 8 * 8),
                                         region.ref(at), 1 << 63]))
        for make, op in ((NodeList, lambda s: s.sum()), (HashIndex, lambda s: s.get(rng.randrange(1, 1 << 40))),
                         (SkipList, lambda s: list(s.items()))):
            root = {NodeList: lists, HashIndex: hashes, SkipList: skips}[make]
            start = time.monotonic()
            try:
                op(make(region, root))
            except RegionError as e:
                assert e.kind in ("CORRUPT_REGION", "INCOMPATIBLE_REGION"), e
            assert time.monotonic() - start < 10
