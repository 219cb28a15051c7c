"""The client on its own (no JVM): create, open, refuse, lock, records, growth, references, inspect."""

import json
import os
import struct
import subprocess
import sys
import tempfile
import time

import pytest

import panmap_region
from panmap_region import LAYOUT, Region, RegionError, crc32c


def test_a_created_region_opens_with_its_header(name: str) -> None:
    with Region.create(name, 10_000, max_size=1 << 20, direct=True, max_attached=8) as r:
        assert r.size == 12288 and r.slot == 0
        with Region.open(name) as other:
            assert other.size == 12288 and other.addressing == 1 and other.base_address == 0x6000_8000_0000
            assert other.reserved_span == 4096 + (1 << 20) and other.slot == -1
            assert [p.pid for p in other.attached()] == [os.getpid()]


def test_create_only_refuses_a_taken_name(region: Region, name: str) -> None:
    with pytest.raises(RegionError) as e:
        Region.create(name, 4096)
    assert e.value.kind == "ALREADY_EXISTS"


def test_a_missing_region_is_not_found() -> None:
    with pytest.raises(RegionError) as e:
        Region.open("/pmr-pytest-never-created-%d" % os.getpid())
    assert e.value.kind == "NOT_FOUND"


def test_a_symbolic_link_is_refused_and_never_followed() -> None:
    with tempfile.TemporaryDirectory() as d:
        target = os.path.join(d, "region")
        Region.create_file(target, 4096).close()
        link = os.path.join(d, "link")
        os.symlink(target, link)
        with pytest.raises(RegionError) as e:
            Region.open_file(link)
        assert e.value.kind == "INVALID_ARGUMENT" and "symbolic link" in e.value.text
        with pytest.raises(RegionError):
            Region.create_file(link, 4096)


def test_an_object_removed_while_waiting_for_its_header_is_not_found_at_once() -> None:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "removed")
        with open(path, "wb") as f:
            f.write(bytes(8192))  # magic 0, no creator pid: a creation in progress
        import threading
        threading.Timer(0.3, os.unlink, [path]).start()
        start = time.monotonic()
        with pytest.raises(RegionError) as e:
            Region.open_file(path, timeout=10)
        assert e.value.kind == "NOT_FOUND" and "removed while" in e.value.text and time.monotonic() - start < 5


def test_a_fifo_is_refused_without_hanging() -> None:
    with tempfile.TemporaryDirectory() as d:
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        start = time.monotonic()
        with pytest.raises(RegionError) as e:
            Region.open_file(fifo)
        assert e.value.kind == "INVALID_ARGUMENT" and time.monotonic() - start < 5


@pytest.mark.parametrize("offset,value,kind", [
    (8, 4, "INCOMPATIBLE_REGION"),            # another version (the checksum is recomputed below)
    (0, 0x1122334455667788, "INCOMPATIBLE_REGION"),  # another magic
    (80, 1, "CORRUPT_REGION"),                # a damaged checksum: created millis changed
    (48, 1 << 47, "CORRUPT_REGION"),          # a span beyond 2^45
    (40, 0x1000, "CORRUPT_REGION"),           # a DIRECT base below 2^16
    (40, (1 << 47) - 4096, "CORRUPT_REGION"),  # base + span past 2^47
])
def test_a_bad_header_is_refused_with_its_kind(offset: int, value: int, kind: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "region")
        Region.create_file(path, 4096, direct=True).close()
        with open(path, "r+b") as f:
            header = bytearray(f.read(4096))
            size = 4 if offset == 8 else 8
            header[offset:offset + size] = value.to_bytes(size, "little")
            if offset not in (0, 80):  # reseal: the damage must be found by its own rule
                struct.pack_into("<I", header, 88, crc32c(bytes(header[8:88])))
            f.seek(0)
            f.write(header)
        with pytest.raises(RegionError) as e:
            Region.open_file(path)
        assert e.value.kind == kind


def test_a_creator_that_died_mid_creation_is_told_apart_from_one_still_writing() -> None:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "unfinished")
        with open(path, "wb") as f:
            f.write(b"\0" * 64 + struct.pack("<i", 2_000_000_000) + b"\0" * (8192 - 68))
        start = time.monotonic()
        with pytest.raises(RegionError) as e:
            Region.open_file(path, timeout=3)
        assert e.value.kind == "CORRUPT_REGION" and "died during creation" in e.value.text
        assert time.monotonic() - start < 2, "no wait for a creator whose lock is free"
        # the same bytes with the writer lock held (a live creator, its pid meaningless here): wait
        holder = subprocess.Popen([sys.executable, "-c", "import fcntl,os,struct,sys,time\n"
                                   "fd=os.open(sys.argv[1],os.O_RDWR)\n"
                                   "fcntl.fcntl(fd,37,struct.pack('=hh4xqqi4x',1,0,(1<<63)-2,1,0))\n"
                                   "print('held',flush=True)\ntime.sleep(30)\n", path], stdout=subprocess.PIPE)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
            with pytest.raises(RegionError) as e:
                Region.open_file(path, timeout=0.5)
            assert e.value.kind == "INCOMPATIBLE_REGION" and "waited" in e.value.text
        finally:
            holder.kill()
            holder.wait()


def test_the_writer_lock_is_a_context_manager_and_excludes_other_handles(region: Region, name: str) -> None:
    with Region.open(name, writable=True) as other:
        with region.writer_lock(timeout=1):
            assert region.holding_lock and not other.try_lock()
            with pytest.raises(RegionError) as e:
                with other.writer_lock(timeout=0.05):
                    pass
            assert e.value.kind == "WOULD_BLOCK"
            holder = other.lock_holder()
            assert holder is not None and holder.pid == os.getpid() and holder.alive
        assert not region.holding_lock and other.lock_holder() is None
        with other.writer_lock():
            pass
        assert other.info()["lockAcquisitions"] == 2


def test_records_round_trip_and_need_the_lock(region: Region) -> None:
    rec = region.format_record(64, 100)
    with pytest.raises(RegionError):
        rec.write(bytes(100))
    with region.writer_lock():
        for i in range(5):
            rec.write(bytes([i]) * 100)
    assert rec.read() == (5, bytes([4]) * 100)
    assert region.record(64).read(timeout=1) == (5, bytes([4]) * 100)


def test_a_published_slot_left_odd_with_no_writer_is_corrupt_not_a_hang(region: Region) -> None:
    rec = region.format_record(0, 8)
    with region.writer_lock():
        rec.write(b"12345678")
    published = region.data_word(16)
    slot = 64 + (published & 1) * rec.stride
    region.set_data_word(slot, region.data_word(slot) | 1)  # what no writer does
    start = time.monotonic()
    with pytest.raises(RegionError) as e:
        rec.read()
    assert e.value.kind == "CORRUPT_REGION" and "odd sequence" in e.value.text
    assert time.monotonic() - start < 5


def test_growth_is_followed_by_other_handles(region: Region, name: str) -> None:
    with Region.open(name) as reader:
        region.set_data_word(8, 42)
        with region.writer_lock():
            assert region.grow(1 << 19) == 1 << 19
            with pytest.raises(RegionError) as e:
                region.grow(1 << 21)
            assert e.value.kind == "LIMIT_REACHED"
        region.set_data_word((1 << 19) - 8, 7)
        assert reader.size == 1 << 16 and reader.refresh() == 1 << 19
        assert reader.data_word((1 << 19) - 8) == 7 and reader.data_word(8) == 42 and reader.generation == 2


def test_references_are_checked_before_they_are_followed(region: Region) -> None:
    region.set_data_word(0, region.ref(4096))
    assert region.follow(region.data_word(0)) == 4096
    for bad in (1, region.ref(region.size), region.ref(-8)):
        with pytest.raises(RegionError) as e:
            region.follow(bad)
        assert e.value.kind == "CORRUPT_REGION"


def test_inspect_prints_the_java_schema(region: Region, name: str) -> None:
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(panmap_region.__file__)))
    out = subprocess.run([sys.executable, "-m", "panmap_region", "inspect", name, "--json"], env=env, check=True,
                         stdout=subprocess.PIPE).stdout
    info = json.loads(out)
    assert list(info) == ["name", "backing", "owner", "ownerUid", "size", "regionSize", "dataOffset", "generation",
                          "reservedSpan", "addressing", "baseAddress", "mode", "layoutVersion", "creatorPid", "creator",
                          "createdAt", "lockHolder", "lockAcquisitions", "lockStaleRecoveries", "lastStaleHolder",
                          "maxAttached", "attached", "pages", "locks"]
    assert info["name"] == name and info["mode"] == "0600" and info["baseAddress"] is None and info["size"] == 1 << 16
    assert info["attached"] == [{"pid": os.getpid(), "startTime": region.start_time, "alive": True}]


def test_the_layout_constants_are_the_documents() -> None:
    assert LAYOUT["RegionLayout.MAGIC"] == int.from_bytes(b"PANMAP\0\0", "little")
    assert LAYOUT["StructureLayout.Skip.MAGIC"] == int.from_bytes(b"PMSKIP\0\0", "little")
    assert LAYOUT["RecordLayout.footprint(100)"] == 320
