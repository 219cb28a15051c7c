"""The panmap region format's numbers (docs/FORMAT.md §2-§6), by the names the Java layout classes give them.

Checked against the Java constants by the test suite (``CrossLanguageTest.theClientsLayoutConstantsAreJavas``).
"""

from typing import Dict

# ---- the region header (FORMAT.md §2) ---------------------------------------------------------
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
MAX_RESERVED_SPAN = 1 << 45
MIN_DIRECT_BASE = 1 << 16
USER_SPACE_END = 1 << 47
DEFAULT_DIRECT_BASE = 0x6000_8000_0000  # Java's (PosixPlatform.DEFAULT_DIRECT_BASE)

# ---- SeqRecord (FORMAT.md §5) -----------------------------------------------------------------
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

# ---- structures (FORMAT.md §6) ----------------------------------------------------------------
STRUCTURE_ALIGNMENT = 8
STRUCTURE_MAGIC_OFFSET = 0
STRUCTURE_VERSION_OFFSET = 8
HEAP_MAGIC = 0x0000_5041_4548_4D50  # "PMHEAP"
HEAP_VERSION = 1
HEAP_START_OFFSET = 16
HEAP_END_OFFSET = 24
HEAP_BUMP_OFFSET = 32
HEAP_SIZE = 64
LIST_MAGIC = 0x0000_5453_494C_4D50  # "PMLIST"
LIST_VERSION = 1
LIST_NODE_SIZE_OFFSET = 12
LIST_FIRST_OFFSET = 16
LIST_LAST_OFFSET = 24
LIST_COUNT_OFFSET = 32
LIST_HEAP_OFFSET = 40
LIST_SIZE = 64
LIST_NODE_NEXT_OFFSET = 0
LIST_NODE_PAYLOAD_OFFSET = 8
LIST_MIN_NODE_SIZE = 16
HASH_MAGIC = 0x0000_4853_4148_4D50  # "PMHASH"
HASH_VERSION = 1
HASH_CAPACITY_OFFSET = 16
HASH_COUNT_OFFSET = 24
HASH_TABLE_OFFSET = 32
HASH_SIZE = 64
HASH_SLOT_KEY_OFFSET = 0
HASH_SLOT_VALUE_OFFSET = 8
HASH_SLOT_SIZE = 16
SKIP_MAGIC = 0x0000_5049_4B53_4D50  # "PMSKIP"
SKIP_VERSION = 1
SKIP_MAX_LEVEL_OFFSET = 12
SKIP_COUNT_OFFSET = 16
SKIP_HEAD_OFFSET = 24
SKIP_HEAP_OFFSET = 32
SKIP_RANDOM_OFFSET = 40
SKIP_TOP_LEVEL_OFFSET = 48
SKIP_SIZE = 64
SKIP_NODE_KEY_OFFSET = 0
SKIP_NODE_VALUE_OFFSET = 8
SKIP_NODE_LEVEL_OFFSET = 16
SKIP_NODE_NEXT_OFFSET = 24
SKIP_MAX_LEVEL = 24


def record_slot_stride(payload_size: int) -> int:
    """The distance between a record's two slots: sequence + payload, rounded up to 64 bytes."""
    return (RECORD_SLOT_PAYLOAD_OFFSET + payload_size + 63) & ~63


def record_footprint(payload_size: int) -> int:
    """The bytes a record with PAYLOAD_SIZE bytes of payload takes: its header and two slots."""
    return RECORD_SLOTS_OFFSET + 2 * record_slot_stride(payload_size)


_PREFIXES = {"RECORD_": "RecordLayout.", "STRUCTURE_": "StructureLayout.", "HEAP_": "StructureLayout.Heap.",
             "LIST_": "StructureLayout.List.", "HASH_": "StructureLayout.Hash.", "SKIP_": "StructureLayout.Skip."}
_CLIENT_OWN = {"DEFAULT_DIRECT_BASE"}


def _java_names() -> Dict[str, int]:
    out: Dict[str, int] = {}
    for k, v in globals().items():
        if not k.isupper() or k.startswith("_") or k in _CLIENT_OWN or not isinstance(v, int):
            continue
        for prefix, java in _PREFIXES.items():
            if k.startswith(prefix):
                out[java + k[len(prefix):]] = v
                break
        else:
            out["RegionLayout." + k] = v
    out["RecordLayout.slotStride(1)"] = record_slot_stride(1)
    out["RecordLayout.slotStride(56)"] = record_slot_stride(56)
    out["RecordLayout.slotStride(57)"] = record_slot_stride(57)
    out["RecordLayout.footprint(100)"] = record_footprint(100)
    return out


LAYOUT: Dict[str, int] = _java_names()
"""The constants above by their Java names, for the test that compares them with the Java layout classes."""
