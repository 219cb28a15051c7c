/*
 * panmap_region.h: a C client for panmap regions (layout version 3). One header, one source file
 * (panmap_region.c), nothing beyond libc. Linux only (x86_64 tested): it uses POSIX shared memory,
 * open-file-description locks (F_OFD_SETLK) and MAP_FIXED_NOREPLACE (Linux 4.17).
 *
 * Installed as a library: `make -C clients/c install PREFIX=/usr/local` puts libpanmap_region.a,
 * libpanmap_region.so.MAJOR.MINOR.PATCH (soname libpanmap_region.so.MAJOR), this header and
 * panmap-region.pc in place; build with `cc app.c $(pkg-config --cflags --libs panmap-region)`.
 * The soname's MAJOR changes with any incompatible change of this API or ABI; compare
 * PMR_VERSION_* (what you compiled against) with pmr_version() (what you run with).
 *
 * The format is specified in docs/FORMAT.md; the section numbers below (§) are that document's.
 *
 * ==== Caveats (read these first) ====================================================================
 *
 * - One pmr_region per thread that writes, or serialise yourself. The writer lock is an OFD lock that
 *   belongs to the handle's open file description: every thread using the same handle shares it.
 *   pmr_lock_try() refuses a second thread of the same handle (PMR_WOULD_BLOCK), and a second call
 *   from the holder (PMR_INVALID_ARGUMENT: not reentrant); two handles in one process exclude each
 *   other like two processes.
 * - DIRECT regions are mapped at the base recorded in the header. If anything is mapped there, the
 *   open fails with PMR_ADDRESS_IN_USE naming the occupant, unless PMR_ALLOW_OFFSET_FALLBACK is given;
 *   then the region is mapped anywhere and pmr_follow() translates stored addresses. Two DIRECT
 *   regions with the same base cannot be open in one process.
 * - After pmr_close() the region's addresses stay readable, as in Java: the close maps a read-only
 *   zero reservation over the whole span (no memory, no file), so a thread still reading through a
 *   pointer into the region reads zeros instead of faulting; a write through such a pointer faults.
 *   The library reuses that address space for later regions of this process (a DIRECT region at the
 *   same base maps over it), so opening and closing in a loop holds no more address space than was
 *   open at once.
 * - Sanitizers: AddressSanitizer keeps its allocator at 0x600000000000 on x86_64 (where Java's
 *   default DIRECT base lies; 0x500000000000 on aarch64) and ThreadSanitizer allows application mappings only in a
 *   few ranges. The library notices either
 *   at run time: pmr_create() then picks a base they leave free, and pmr_open() of a region whose base
 *   the sanitizer owns fails with PMR_ADDRESS_IN_USE naming the sanitizer (PMR_ALLOW_OFFSET_FALLBACK
 *   maps it elsewhere instead). See FORMAT.md §8.
 * - Hostile content: every loop over shared data is bounded (hash probes by the capacity, list and
 *   skip-list walks by the most nodes the data area holds, record reads by the writer lock's state),
 *   every stored reference is checked before it is followed, and a damaged structure is
 *   PMR_CORRUPT_REGION naming what and where. A process with write access can still make your reads
 *   return garbage; it cannot make them crash or spin. Truncating the object under the mapping is
 *   the exception: a read of the missing part raises SIGBUS (pmr_refresh() notices a truncation and
 *   maps zeros over what is gone, but it cannot stop a read racing the truncation).
 * - Read-only opens (PMR_READ_ONLY) do not join the attach table and cannot take the writer lock: an
 *   OFD write lock needs a descriptor open for writing (this is the Java side's rule too).
 * - A record payload handed out by pmr_record_begin() is written with plain stores while readers in
 *   other processes may copy it: readers detect that with the slot sequence and retry, so this is safe
 *   in practice, but ThreadSanitizer calls it a race. pmr_record_write() copies with relaxed atomic
 *   stores and is race-free in C11 terms; prefer it.
 * - Growth: the mapping keeps the region's whole reserved span of address space (a PROT_READ,
 *   MAP_NORESERVE anonymous reservation), so it never moves; pmr_refresh() maps what another process
 *   grew. pmr_data() stays valid; pmr_size() changes.
 * - A region whose backing was truncated under the mapping is reported by pmr_refresh() as
 *   PMR_CORRUPT_REGION; the missing part is replaced by zeros so that reads do not fault.
 *
 * ==== Errors ========================================================================================
 *
 * Every function that can fail returns 0 (PMR_OK) or a negative PMR_* code, and fills the caller's
 * pmr_error (if not NULL) with the code, the errno of the failing system call (0 if none), the call,
 * and a message led by the code's name, e.g. "PMR_INCOMPATIBLE_REGION: /x has header layout version 4;
 * this client reads version 3". The kinds are the Java side's ErrorKind, one for one.
 */
#ifndef PANMAP_REGION_H
#define PANMAP_REGION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The API/ABI version of this header; the library's own is pmr_version(). MAJOR is the soname's. */
#define PMR_VERSION_MAJOR 1
#define PMR_VERSION_MINOR 0
#define PMR_VERSION_PATCH 0
#define PMR_VERSION_STRING "1.0.0"

#if defined(__GNUC__) && defined(PMR_BUILDING_LIBRARY)
#define PMR_API __attribute__((visibility("default")))
#else
#define PMR_API
#endif

/* {@return "1.0.0"-style text of the library's version}; fills major, minor, patch where not NULL. */
PMR_API const char *pmr_version(int *major, int *minor, int *patch);

/* ---- error codes: 0 is success; the library's codes are a reserved negative range -------------- */
#define PMR_OK                   0
#define PMR_NOT_FOUND            (-30800)
#define PMR_ALREADY_EXISTS       (-30799)
#define PMR_PERMISSION_DENIED    (-30798)
#define PMR_ADDRESS_IN_USE       (-30797)
#define PMR_NO_SPACE             (-30796)
#define PMR_NO_MEMORY            (-30795)
#define PMR_LIMIT_REACHED        (-30794)
#define PMR_INVALID_ARGUMENT     (-30793)
#define PMR_WOULD_BLOCK          (-30792)
#define PMR_NOT_SUPPORTED        (-30791)
#define PMR_INCOMPATIBLE_REGION  (-30790)
#define PMR_CORRUPT_REGION       (-30789)
#define PMR_IO_ERROR             (-30788)
#define PMR_OTHER                (-30787)
#define PMR_LAST_ERRCODE         PMR_OTHER

typedef struct pmr_error {
    int code;            /* a PMR_* code */
    int native;          /* errno of the failing system call, 0 if the failure is the library's own */
    char function[32];   /* the system call or check that failed */
    char message[480];   /* led by the code's name */
} pmr_error;

/* {@return "PMR_NOT_FOUND" ... for a code; "PMR_OK" for 0; "PMR_UNKNOWN" otherwise} (static storage) */
PMR_API const char *pmr_code_name(int code);
/* {@return the Java ErrorKind name of a code ("NOT_FOUND", ...), "OK" for 0} (static storage) */
PMR_API const char *pmr_kind(int code);

/* ---- the layout (FORMAT.md §2-§6); checked against the Java constants by the test suite --------- */
#define PMR_MAGIC                      UINT64_C(0x000050414D4E4150) /* "PANMAP\0\0" little-endian */
#define PMR_LAYOUT_VERSION             3
#define PMR_MAGIC_OFFSET               0
#define PMR_VERSION_OFFSET             8
#define PMR_HEADER_SIZE_OFFSET         12
#define PMR_REGION_SIZE_OFFSET         16
#define PMR_DATA_SIZE_OFFSET           24
#define PMR_ADDRESSING_OFFSET          32
#define PMR_PERMISSIONS_OFFSET         36
#define PMR_BASE_ADDRESS_OFFSET        40
#define PMR_RESERVED_SPAN_OFFSET       48
#define PMR_CREATOR_PID_OFFSET         64
#define PMR_ATTACH_CAPACITY_OFFSET     68
#define PMR_CREATOR_START_OFFSET       72
#define PMR_CREATED_MILLIS_OFFSET      80
#define PMR_CHECKSUM_OFFSET            88
#define PMR_FLAGS_OFFSET               92
#define PMR_CHECKSUMMED_FROM           8
#define PMR_CURRENT_SIZE_OFFSET        96
#define PMR_GENERATION_OFFSET          104
#define PMR_LOCK_HOLDER_OFFSET         128
#define PMR_LOCK_HOLDER_START_OFFSET   136
#define PMR_LOCK_ACQUISITIONS_OFFSET   144
#define PMR_LOCK_STALE_RECOVERIES_OFFSET 152
#define PMR_LOCK_LAST_STALE_OFFSET     160
#define PMR_LOCK_LAST_STALE_START_OFFSET 168
#define PMR_ATTACH_TABLE_OFFSET        256
#define PMR_ATTACH_SLOT_SIZE           32
#define PMR_SLOT_STAMP_OFFSET          0
#define PMR_SLOT_START_OFFSET          8
#define PMR_SLOT_ATTACHED_MILLIS_OFFSET 16
#define PMR_SLOT_LOCK_BYTE             (INT64_C(1) << 62)
#define PMR_WRITER_LOCK_BYTE           (INT64_MAX - 1)
#define PMR_ADDRESSING_OFFSET_MODE     0
#define PMR_ADDRESSING_DIRECT_MODE     1
#define PMR_MIN_HEADER_SIZE            256
#define PMR_DEFAULT_ATTACH_CAPACITY    64
#define PMR_MAX_ATTACH_CAPACITY        65536
#define PMR_MAX_RESERVED_SPAN          (UINT64_C(1) << 45)
#define PMR_MIN_DIRECT_BASE            (UINT64_C(1) << 16)
#define PMR_USER_SPACE_END             (UINT64_C(1) << 47)
#define PMR_DEFAULT_DIRECT_BASE        UINT64_C(0x600080000000) /* Java's; pmr_create() steps past taken ones (§8) */
#define PMR_ATTACH_TIMEOUT_MS          5000 /* how long pmr_open() waits for a creator still writing the header */

/* SeqRecord (FORMAT.md §5) */
#define PMR_RECORD_MAGIC               UINT64_C(0x0000434552514553) /* "SEQREC" */
#define PMR_RECORD_VERSION             1
#define PMR_RECORD_MAGIC_AND_VERSION   (PMR_RECORD_MAGIC | ((uint64_t) PMR_RECORD_VERSION << 48))
#define PMR_RECORD_MAGIC_OFFSET        0
#define PMR_RECORD_PAYLOAD_SIZE_OFFSET 8
#define PMR_RECORD_SLOT_STRIDE_OFFSET  12
#define PMR_RECORD_PUBLISHED_OFFSET    16
#define PMR_RECORD_REPAIRED_OFFSET     24
#define PMR_RECORD_SLOTS_OFFSET        64
#define PMR_RECORD_SLOT_SEQUENCE_OFFSET 0
#define PMR_RECORD_SLOT_PAYLOAD_OFFSET 8
#define PMR_RECORD_MAX_PAYLOAD         (1 << 24)
#define PMR_RECORD_SLOT_STRIDE(payload) ((uint32_t) ((8u + (uint32_t) (payload) + 63u) & ~63u))
#define PMR_RECORD_FOOTPRINT(payload)  (64u + 2u * (uint64_t) PMR_RECORD_SLOT_STRIDE(payload))

/* The header as a struct, for the compile-time checks in panmap_region.c and for debuggers. */
typedef struct pmr_header {
    uint64_t magic;               /*   0 */
    uint32_t version;             /*   8 */
    uint32_t header_size;         /*  12 */
    uint64_t region_size;         /*  16 */
    uint64_t data_size;           /*  24 */
    uint32_t addressing;          /*  32 */
    uint32_t permissions;         /*  36 */
    uint64_t base_address;        /*  40 */
    uint64_t reserved_span;       /*  48 */
    uint64_t spare;               /*  56 */
    int32_t  creator_pid;         /*  64 */
    uint32_t attach_capacity;     /*  68 */
    uint64_t creator_start;       /*  72 */
    uint64_t created_millis;      /*  80 */
    uint32_t checksum;            /*  88 */
    uint32_t flags;               /*  92 */
    uint64_t current_size;        /*  96 */
    uint64_t generation;          /* 104 */
    uint64_t reserved1[2];        /* 112 */
    uint64_t lock_holder;         /* 128 */
    uint64_t lock_holder_start;   /* 136 */
    uint64_t lock_acquisitions;   /* 144 */
    uint64_t lock_stale_recoveries; /* 152 */
    uint64_t lock_last_stale;     /* 160 */
    uint64_t lock_last_stale_start; /* 168 */
    uint64_t reserved2[10];       /* 176 */
} pmr_header;                     /* 256: the attach table follows */

typedef struct pmr_slot {
    uint64_t stamp;               /* 0: pid | low 32 bits of start time << 32; 0 = free */
    uint64_t start_time;          /* 8 */
    uint64_t attached_millis;     /* 16 */
    uint64_t reserved;            /* 24 */
} pmr_slot;

typedef struct pmr_record_header {
    uint64_t magic_and_version;   /*  0 */
    uint32_t payload_size;        /*  8 */
    uint32_t slot_stride;         /* 12 */
    uint64_t published;           /* 16: sequence << 1 | slot index */
    uint64_t repaired;            /* 24 */
    uint64_t reserved[4];         /* 32 */
} pmr_record_header;              /* 64: slot 0 follows */

/* ---- opening and closing ------------------------------------------------------------------------- */
typedef struct pmr_region pmr_region;

#define PMR_READ_ONLY              0x0  /* PROT_READ mapping; no attach slot, no writer lock */
#define PMR_READ_WRITE             0x1  /* joins the attach table; may take the writer lock */
#define PMR_OFFSET_MODE            0x2  /* map a DIRECT region anywhere too (stored addresses translated) */
#define PMR_ALLOW_OFFSET_FALLBACK  0x4  /* DIRECT region whose base is taken here: map it anywhere instead */

/*
 * Attaches to the region NAME (POSIX shm; "x" and "/x" are the same region) or to a region in the file
 * at PATH. Opens with O_NONBLOCK (a FIFO cannot hang it) and, for a path, O_NOFOLLOW (a symbolic link
 * is refused, ELOOP: PMR_INVALID_ARGUMENT); refuses anything but a regular file or shared-memory
 * object. Validates the header (FORMAT.md §7: magic, version, checksum, sizes), waiting up to
 * PMR_ATTACH_TIMEOUT_MS for a creator that is still writing it; maps the current size (keeping the
 * reserved span), at the recorded base for a DIRECT region; joins the attach table if PMR_READ_WRITE.
 * Returns PMR_NOT_FOUND, PMR_PERMISSION_DENIED, PMR_INCOMPATIBLE_REGION (not a panmap region, or
 * another layout version), PMR_CORRUPT_REGION (damaged checksum, inconsistent sizes, truncated,
 * creator died mid-creation), PMR_ADDRESS_IN_USE (DIRECT base taken), PMR_LIMIT_REACHED (attach
 * table full), PMR_NO_MEMORY, or PMR_INVALID_ARGUMENT.
 */
PMR_API int pmr_open(const char *name, int flags, pmr_region **out, pmr_error *err);
PMR_API int pmr_open_file(const char *path, int flags, pmr_region **out, pmr_error *err);

typedef struct pmr_create_options {
    uint64_t size;          /* data bytes, rounded up to pages; required */
    uint64_t max_size;      /* data bytes it may grow to (0: size) */
    int direct;             /* 1: DIRECT mode */
    uint64_t base;          /* DIRECT base (0: the first free of 64 slots 64 GiB apart from the default,
                               0x600080000000, as Java does; under a sanitizer from a base it leaves free) */
    uint32_t max_attached;  /* attach table capacity (0: 64) */
    unsigned mode;          /* permission bits (0: 0600) */
} pmr_create_options;

/*
 * Creates a region (exclusively: PMR_ALREADY_EXISTS if the name is taken, a file path is opened with
 * O_NOFOLLOW), writes its header as the Java side does (holding attach slot 0's lock byte from the
 * exclusive create on, the magic last with a release store: FORMAT.md §3.1) and returns it attached
 * read-write.
 */
PMR_API int pmr_create(const char *name, const pmr_create_options *options, pmr_region **out, pmr_error *err);
PMR_API int pmr_create_file(const char *path, const pmr_create_options *options, pmr_region **out, pmr_error *err);
/* Unlinks a named region (those attached keep it until they close). */
PMR_API int pmr_remove(const char *name, pmr_error *err);

/* Releases the writer lock if this handle holds it (clearing the holder word first), leaves the
 * attach table, unmaps the span and closes the descriptor. NULL is ignored. */
PMR_API void pmr_close(pmr_region *region);

/* ---- using ---------------------------------------------------------------------------------------- */
PMR_API void *pmr_data(const pmr_region *region);             /* the data area in this process */
PMR_API uint64_t pmr_size(const pmr_region *region);          /* data bytes mapped now */
PMR_API uint64_t pmr_data_offset(const pmr_region *region);   /* the header size */
PMR_API int pmr_is_direct(const pmr_region *region);          /* 1: DIRECT and mapped at its base */
PMR_API int pmr_addressing(const pmr_region *region);         /* PMR_ADDRESSING_*_MODE as created */
PMR_API void *pmr_base(const pmr_region *region);             /* where the mapping starts here */
PMR_API int pmr_attach_slot(const pmr_region *region);        /* -1 if not in the table */

/*
 * Catches up with growth (FORMAT.md §3): acquire-loads the current size, maps what was grown over
 * the kept reservation. PMR_CORRUPT_REGION if the backing is smaller than the header says.
 */
PMR_API int pmr_refresh(pmr_region *region, pmr_error *err);

/* Header fields as read now (immutable ones as validated at open; the rest with acquire loads). */
typedef struct pmr_info {
    uint32_t layout_version, header_size, attach_capacity, addressing, permissions, flags;
    uint64_t region_size_at_creation, data_size_at_creation, base_address, reserved_span;
    uint64_t current_size, generation, created_millis, creator_start;
    int32_t creator_pid;
    uint64_t lock_holder, lock_holder_start, lock_acquisitions, lock_stale_recoveries, lock_last_stale;
    int lock_held_elsewhere;     /* 1: some open file description holds the writer lock's byte */
} pmr_info;
PMR_API int pmr_get_info(pmr_region *region, pmr_info *info, pmr_error *err);

typedef struct pmr_process {
    int slot;
    int32_t pid;
    uint64_t stamp, start_time, attached_millis;
    int alive;                   /* whether the slot's OFD lock byte is held (by anyone, this handle included) */
} pmr_process;
/* Fills up to max entries with the non-empty slots; returns their count (>= 0) or a PMR_* code. */
PMR_API int pmr_attached(pmr_region *region, pmr_process *out, int max, pmr_error *err);

/* ---- references (FORMAT.md §4) --------------------------------------------------------------------- */
/* The 8-byte reference to store for data-area offset OFFSET: an address (DIRECT) or a distance from
 * the region start (OFFSET). */
PMR_API uint64_t pmr_ref(const pmr_region *region, uint64_t offset);
/* Follows a stored reference to LENGTH bytes, checked against the mapped data area: NULL (and
 * PMR_INVALID_ARGUMENT, or PMR_CORRUPT_REGION with the reference in the text) for 0 or outside. */
PMR_API void *pmr_follow(const pmr_region *region, uint64_t ref, uint64_t length, pmr_error *err);

/* ---- writer lock (FORMAT.md §3.3) ---------------------------------------------------------------- */
/* Takes the lock if it is free now: PMR_OK, PMR_WOULD_BLOCK, or a failure. Records a dead previous
 * holder's stamp (stale recovery) as the Java side does. */
PMR_API int pmr_lock_try(pmr_region *region, pmr_error *err);
/* Takes the lock, waiting up to timeout_ms (< 0: forever). PMR_WOULD_BLOCK when the time ran out. */
PMR_API int pmr_lock(pmr_region *region, long timeout_ms, pmr_error *err);
/* Clears the holder word (release), then the OFD lock. PMR_INVALID_ARGUMENT if not held by this thread. */
PMR_API int pmr_unlock(pmr_region *region, pmr_error *err);
PMR_API int pmr_lock_held(const pmr_region *region);          /* 1: the calling thread holds it via this handle */

/* ---- SeqRecord (FORMAT.md §5) ---------------------------------------------------------------------- */
typedef struct pmr_record {
    pmr_region *region;
    unsigned char *at;        /* the record in this process */
    uint64_t offset;          /* its data-area offset */
    uint32_t payload_size;
    uint32_t stride;
    int writing;              /* slot being written since pmr_record_begin, or -1 */
} pmr_record;

/* Attaches to a record at data-area OFFSET: PMR_INCOMPATIBLE_REGION (no record there, or another
 * version), PMR_CORRUPT_REGION (inconsistent sizes), PMR_INVALID_ARGUMENT (misaligned, outside). */
PMR_API int pmr_record_attach(pmr_region *region, uint64_t offset, pmr_record *record, pmr_error *err);
/* Lays out a new, all-zero record (once, while nobody uses that place); needs a writable region. */
PMR_API int pmr_record_format(pmr_region *region, uint64_t offset, uint32_t payload_size, pmr_record *record, pmr_error *err);
/*
 * Copies a consistent payload (payload_size bytes) into INTO and its version into *VERSION (if not
 * NULL); never a mix of two writes. No lock, no system call while it succeeds; it retries while a
 * writer laps it. Bounded against damage (FORMAT.md §5): if the published slot's sequence stays odd
 * (no writer ever leaves it so) and no process holds the writer lock, the record is damaged and this
 * returns PMR_CORRUPT_REGION instead of spinning; while a writer holds the lock it keeps trying.
 */
PMR_API int pmr_record_read(const pmr_record *record, void *into, uint64_t *version, pmr_error *err);
/* The same, giving up after timeout_ms (< 0: never) with PMR_WOULD_BLOCK: for a writer, live and
 * holding the lock, that keeps the record changing faster than a copy completes, or never finishes. */
PMR_API int pmr_record_read_timed(const pmr_record *record, void *into, long timeout_ms, uint64_t *version, pmr_error *err);
PMR_API uint64_t pmr_record_version(const pmr_record *record);   /* published writes so far */
PMR_API uint64_t pmr_record_repaired(const pmr_record *record);  /* interrupted writes found and repaired */
/* Writes payload_size bytes from FROM and publishes them. Needs the writer lock (PMR_INVALID_ARGUMENT). */
PMR_API int pmr_record_write(pmr_record *record, const void *from, pmr_error *err);
/* In-place writing: begin returns the unpublished slot's payload (it holds the previous-but-one
 * version: write every byte), publish makes it the current version. */
PMR_API void *pmr_record_begin(pmr_record *record, pmr_error *err);
PMR_API int pmr_record_publish(pmr_record *record, pmr_error *err);

/* ---- structures, read side (FORMAT.md §6) ------------------------------------------------------------
 * The structures Java's dev.panmap.structures writes, read here with no lock: a NodeList walked, a
 * HashIndex and a SkipList looked up. Nodes and keys are int64_t (Java's long); node handles are
 * references (FORMAT.md §4). Every reference read from the region is checked to be an 8-aligned
 * reference to a whole node inside the mapped data area before it is followed, every loop is bounded
 * (a hash probe by the capacity, a walk by the most nodes the data area holds), and what fails either
 * check is PMR_CORRUPT_REGION naming the structure and the place. Attaching refuses another magic or
 * version (PMR_INCOMPATIBLE_REGION) and a damaged root (PMR_CORRUPT_REGION). The handles are plain
 * values: copy them freely; they stay valid while the region is open (a growth does not move it). */
#define PMR_STRUCTURE_ALIGNMENT        8
#define PMR_STRUCTURE_MAGIC_OFFSET     0
#define PMR_STRUCTURE_VERSION_OFFSET   8
#define PMR_HEAP_MAGIC                 UINT64_C(0x0000504145484D50) /* "PMHEAP" */
#define PMR_HEAP_VERSION               1
#define PMR_HEAP_START_OFFSET          16
#define PMR_HEAP_END_OFFSET            24
#define PMR_HEAP_BUMP_OFFSET           32
#define PMR_HEAP_SIZE                  64
#define PMR_LIST_MAGIC                 UINT64_C(0x00005453494C4D50) /* "PMLIST" */
#define PMR_LIST_VERSION               1
#define PMR_LIST_NODE_SIZE_OFFSET      12
#define PMR_LIST_FIRST_OFFSET          16
#define PMR_LIST_LAST_OFFSET           24
#define PMR_LIST_COUNT_OFFSET          32
#define PMR_LIST_HEAP_OFFSET           40
#define PMR_LIST_SIZE                  64
#define PMR_LIST_NODE_NEXT_OFFSET      0
#define PMR_LIST_NODE_PAYLOAD_OFFSET   8
#define PMR_LIST_MIN_NODE_SIZE         16
#define PMR_HASH_MAGIC                 UINT64_C(0x0000485341484D50) /* "PMHASH" */
#define PMR_HASH_VERSION               1
#define PMR_HASH_CAPACITY_OFFSET       16
#define PMR_HASH_COUNT_OFFSET          24
#define PMR_HASH_TABLE_OFFSET          32
#define PMR_HASH_SIZE                  64
#define PMR_HASH_SLOT_KEY_OFFSET       0
#define PMR_HASH_SLOT_VALUE_OFFSET     8
#define PMR_HASH_SLOT_SIZE             16
#define PMR_SKIP_MAGIC                 UINT64_C(0x000050494B534D50) /* "PMSKIP" */
#define PMR_SKIP_VERSION               1
#define PMR_SKIP_MAX_LEVEL_OFFSET      12
#define PMR_SKIP_COUNT_OFFSET          16
#define PMR_SKIP_HEAD_OFFSET           24
#define PMR_SKIP_HEAP_OFFSET           32
#define PMR_SKIP_RANDOM_OFFSET         40
#define PMR_SKIP_TOP_LEVEL_OFFSET      48
#define PMR_SKIP_SIZE                  64
#define PMR_SKIP_NODE_KEY_OFFSET       0
#define PMR_SKIP_NODE_VALUE_OFFSET     8
#define PMR_SKIP_NODE_LEVEL_OFFSET     16
#define PMR_SKIP_NODE_NEXT_OFFSET      24
#define PMR_SKIP_MAX_LEVEL             24

typedef struct pmr_list {
    const pmr_region *region;
    uint64_t root;             /* data offset */
    uint32_t node_size;
    uint64_t max_nodes;        /* the most nodes the data area holds: a longer walk is a cycle */
} pmr_list;
/* Attaches to the NodeList at data offset ROOT. */
PMR_API int pmr_list_attach(const pmr_region *region, uint64_t root, pmr_list *list, pmr_error *err);
/* *COUNT = the count the list's header gives (a hint while a writer appends). */
PMR_API uint64_t pmr_list_count(const pmr_list *list);
/* *NODE = the first node's reference, 0 when empty. */
PMR_API int pmr_list_first(const pmr_list *list, uint64_t *node, pmr_error *err);
/* *NEXT = the reference after NODE (a reference this list gave), 0 at the end. */
PMR_API int pmr_list_next(const pmr_list *list, uint64_t node, uint64_t *next, pmr_error *err);
/* *VALUE = the node's value (its payload's first 8 bytes); PAYLOAD (if not NULL) = the payload's
 * node_size - 8 bytes in this process. */
PMR_API int pmr_list_value(const pmr_list *list, uint64_t node, int64_t *value, const void **payload, pmr_error *err);
/* Walks the whole list, calling VISIT (if not NULL) for each node until it returns non-zero; *COUNT
 * (if not NULL) = the nodes visited, *SUM (if not NULL) = the sum of their values (wrapping, like
 * Java's NodeList.sum()). A list longer than the data area can hold is a cycle: PMR_CORRUPT_REGION. */
PMR_API int pmr_list_walk(const pmr_list *list, int (*visit)(void *context, uint64_t node, int64_t value), void *context,
                          uint64_t *count, int64_t *sum, pmr_error *err);

typedef struct pmr_hash {
    const pmr_region *region;
    uint64_t root;
    uint64_t capacity;         /* slots, a power of two, as validated at attach */
    uint64_t table;            /* the table's data offset */
} pmr_hash;
PMR_API int pmr_hash_attach(const pmr_region *region, uint64_t root, pmr_hash *hash, pmr_error *err);
/* The hash the probe starts from (MurmurHash3's 64-bit finaliser, FORMAT.md §6.3). */
PMR_API uint64_t pmr_hash_of(int64_t key);
/* *FOUND = 1 and *VALUE = its value if KEY is present, *FOUND = 0 otherwise. Key 0 is
 * PMR_INVALID_ARGUMENT (it marks an empty slot). A probe that meets neither the key nor an empty slot
 * in all the capacity's slots (a table kept at most 3/4 full always has one) is PMR_CORRUPT_REGION. */
PMR_API int pmr_hash_get(const pmr_hash *hash, int64_t key, int64_t *value, int *found, pmr_error *err);
PMR_API uint64_t pmr_hash_count(const pmr_hash *hash);

typedef struct pmr_skip {
    const pmr_region *region;
    uint64_t root;
    uint64_t head;             /* the head node's reference */
    int max_level;
    uint64_t max_nodes;
} pmr_skip;
PMR_API int pmr_skip_attach(const pmr_region *region, uint64_t root, pmr_skip *skip, pmr_error *err);
/* *FOUND, *VALUE: the value of KEY. */
PMR_API int pmr_skip_get(const pmr_skip *skip, int64_t key, int64_t *value, int *found, pmr_error *err);
/* The greatest key at most KEY (floor) or the least at least KEY (ceiling): *FOUND, *KEY_OUT, *VALUE
 * (each output may be NULL but FOUND). */
PMR_API int pmr_skip_floor(const pmr_skip *skip, int64_t key, int *found, int64_t *key_out, int64_t *value, pmr_error *err);
PMR_API int pmr_skip_ceiling(const pmr_skip *skip, int64_t key, int *found, int64_t *key_out, int64_t *value, pmr_error *err);
/* In-order walk from the first key at least FROM: VISIT for each (key, value) until it returns
 * non-zero; *COUNT = the nodes visited. Bounded like pmr_list_walk. */
PMR_API int pmr_skip_walk(const pmr_skip *skip, int64_t from, int (*visit)(void *context, int64_t key, int64_t value),
                          void *context, uint64_t *count, pmr_error *err);
PMR_API uint64_t pmr_skip_count(const pmr_skip *skip);

/* ---- rings, the consuming side (FORMAT.md §10, ring layout version 2) ---------------------------------------
 * A message ring's consumer and a broadcast buffer's receiver, as Java's dev.panmap.ipc writes them.
 * Bounded like the structures: a record's length and type are checked before a handler sees it and
 * before any position moves (a damaged record is PMR_CORRUPT_REGION, and the head stays at it), a
 * receiver's positions are checked against each other and its laps and padding records in a row are
 * counted against a limit (64), so forged positions or a flood of padding end a read, never spin it. */

/* A handler: TYPE >= 1, LENGTH payload bytes at PAYLOAD (valid during the call). Non-zero stops the read
 * after this message. */
typedef int (*pmr_message_handler)(void *context, int32_t type, const void *payload, uint32_t length);

typedef struct pmr_ring_consumer pmr_ring_consumer;
/*
 * Registers this handle as the consumer of the message ring at data offset ROOT (a writable region):
 * takes the consumer's lock byte (2^61 + ROOT + 272; PMR_WOULD_BLOCK while a live consumer holds it),
 * finishes a dead consumer's batch, and goes on from the ring's head. PMR_INCOMPATIBLE_REGION (no ring
 * there, another ring version, a broadcast buffer), PMR_CORRUPT_REGION (damaged sizes, a dead
 * consumer's batch that cannot be). GRACE_MS: how long a claim may stay unfinished at the head before
 * its producer's liveness is asked (Java's default is 10).
 */
PMR_API int pmr_ring_consumer_open(pmr_region *region, uint64_t root, long grace_ms, pmr_ring_consumer **out, pmr_error *err);
/* Hands up to LIMIT messages to HANDLER in order; *COUNT = how many. Never blocks: 0 on an empty ring.
 * Resolves claims of dead producers as Java does (padding, counted). */
PMR_API int pmr_ring_read(pmr_ring_consumer *consumer, pmr_message_handler handler, void *context, int limit, int *count, pmr_error *err);
/* The ring's head (consumed up to) and consumed count as this consumer last stored them. */
PMR_API uint64_t pmr_ring_position(const pmr_ring_consumer *consumer);
PMR_API uint64_t pmr_ring_consumed(const pmr_ring_consumer *consumer);
/* Gives the consumer's place back (clears its stamp, then unlocks). NULL is ignored. */
PMR_API void pmr_ring_consumer_close(pmr_ring_consumer *consumer);

typedef struct pmr_broadcast_receiver {
    const pmr_region *region;
    uint64_t root, capacity, cursor;
    int64_t expected;          /* the next sequence number, -1 when unknown */
    uint64_t lapped, lost, received;
    uint32_t max_message;
    unsigned char *scratch;    /* a private copy of a payload (malloc'd, at most the largest payload) */
} pmr_broadcast_receiver;
/* Attaches a receiver to the broadcast buffer at ROOT (any region, read-only too): it receives what is
 * transmitted from now on. */
PMR_API int pmr_broadcast_receiver_open(const pmr_region *region, uint64_t root, pmr_broadcast_receiver *receiver, pmr_error *err);
/* Receives up to LIMIT messages, each copied out and validated before HANDLER sees it; *COUNT = how
 * many. A receiver a lap behind jumps to the latest message (lapped, lost count them). */
PMR_API int pmr_broadcast_receive(pmr_broadcast_receiver *receiver, pmr_message_handler handler, void *context, int limit, int *count,
                                  pmr_error *err);
PMR_API void pmr_broadcast_receiver_close(pmr_broadcast_receiver *receiver);

/* ---- process stamps (FORMAT.md §3.2) ----------------------------------------------------------------- */
static inline int32_t pmr_stamp_pid(uint64_t stamp) { return (int32_t) (uint32_t) stamp; }
static inline uint32_t pmr_stamp_start_tag(uint64_t stamp) { return (uint32_t) (stamp >> 32); }
/* CRC32C (Castagnoli) of LENGTH bytes: the header checksum. */
PMR_API uint32_t pmr_crc32c(const void *bytes, size_t length);

#ifdef __cplusplus
}
#endif
#endif
