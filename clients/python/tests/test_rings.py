"""The ring consumer against a ring laid out by hand from FORMAT.md §10 (no JVM): a dead producer's claim."""

from typing import Any

import pytest

from conftest import Builder
from panmap_region import Region, RingConsumer
from panmap_region._rings import (CAPACITY_OFFSET, ENTRIES_OFFSET, ENTRY_SIZE, HEAD_OFFSET, KIND_ONE_TO_ONE, PADDING_TYPE,
                                  PRODUCERS_OFFSET, RING_MAGIC, RING_VERSION, SKIPPED_BYTES_OFFSET, SKIPPED_CLAIMS_OFFSET,
                                  TAIL_OFFSET, _header)

CAPACITY = 1024


def one_to_one_ring_with_a_dead_claim(region: Region, root: int, payload: int) -> int:
    """A one-to-one ring at data offset ROOT whose head holds a claim of PAYLOAD bytes by entry 0, published (the
    tail past it) and left by a producer that is gone (entry 0's lock byte is free). {@return the buffer's data offset}"""
    b = Builder(region)
    b.put(root, "<QIIQ", RING_MAGIC, RING_VERSION, KIND_ONE_TO_ONE, CAPACITY)
    assert CAPACITY_OFFSET == 16
    b.put(root + PRODUCERS_OFFSET, "<I", 1)
    buffer = root + ENTRIES_OFFSET + ENTRY_SIZE
    b.put(buffer, "<Q", _header(-(payload + 8), 0))
    b.put(root + TAIL_OFFSET, "<Q", payload + 8)
    b.put(root + HEAD_OFFSET, "<Q", 0)
    return buffer


@pytest.mark.skipif(not Region.has_atomics(), reason="no libatomic: the consumer pads by a re-read and a store")
def test_a_dead_claim_another_padder_takes_meanwhile_is_counted_once(region: Region, monkeypatch: Any) -> None:
    """Java's one-to-one takeover pads a dead claim by compare-and-set and counts it. If it does so between this
    consumer's last look at the claim and its own padding, the consumer's compare-and-set fails and it counts
    nothing (its plain store counted the skip a second time: skipped claims 2, bytes 80)."""
    root = 0
    buffer = one_to_one_ring_with_a_dead_claim(region, root, 32)
    at, claim, padding = region.header_size + root, _header(-40, 0), _header(40, PADDING_TYPE)
    c = RingConsumer(region, root, grace=0.0)
    armed = [False]
    real_word = region.word

    def other_padder() -> None:  # what Java's takeover stores, with its own compare-and-set and count
        assert region.cas_word(region.header_size + buffer, claim, padding)
        region.add_word(at + SKIPPED_CLAIMS_OFFSET, 1)
        region.add_word(at + SKIPPED_BYTES_OFFSET, 40)

    def word(offset: int) -> int:
        value = real_word(offset)
        if armed[0] and offset == region.header_size + buffer:
            armed[0] = False
            other_padder()  # after the consumer's look: it saw the claim, and now it is padding
        return value

    real_alive = c._entry_alive

    def alive(i: int) -> bool:
        armed[0] = True  # the consumer's next look at the claim is its last before it pads
        return real_alive(i)

    monkeypatch.setattr(region, "word", word)
    monkeypatch.setattr(c, "_entry_alive", alive)
    try:
        assert c.poll() == []
        assert real_word(at + SKIPPED_CLAIMS_OFFSET) == 1 and real_word(at + SKIPPED_BYTES_OFFSET) == 40
        assert real_word(region.header_size + buffer) in (padding, 0)  # padding, or zeroed once read past
        assert c.head == 40
    finally:
        c.close()


def test_a_dead_claim_is_padded_and_counted(region: Region) -> None:
    root = 0
    one_to_one_ring_with_a_dead_claim(region, root, 32)
    at = region.header_size + root
    with RingConsumer(region, root, grace=0.0) as c:
        assert c.poll() == [] and c.head == 40
        assert region.word(at + SKIPPED_CLAIMS_OFFSET) == 1 and region.word(at + SKIPPED_BYTES_OFFSET) == 40
