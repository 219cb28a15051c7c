/*
 * panmap_region.c: the C client of panmap regions. See panmap_region.h and docs/FORMAT.md.
 *
 * Every shared 8-byte word is accessed through C11 atomics with the ordering FORMAT.md gives for it;
 * SeqRecord payloads are copied with relaxed atomic word accesses bracketed by fences (the C11
 * formulation of a sequence lock: Boehm, "Can seqlocks get along with programming language memory
 * models?", 2012), so the protocol is free of data races in C11 terms and ThreadSanitizer checks it.
 */
#define _GNU_SOURCE
#include "panmap_region.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

/* ---- the layout, checked at compile time ------------------------------------------------------------ */
#define CHECK_OFFSET(type, field, value) _Static_assert(offsetof(type, field) == (value), #type "." #field)
CHECK_OFFSET(pmr_header, magic, PMR_MAGIC_OFFSET);
CHECK_OFFSET(pmr_header, version, PMR_VERSION_OFFSET);
CHECK_OFFSET(pmr_header, header_size, PMR_HEADER_SIZE_OFFSET);
CHECK_OFFSET(pmr_header, region_size, PMR_REGION_SIZE_OFFSET);
CHECK_OFFSET(pmr_header, data_size, PMR_DATA_SIZE_OFFSET);
CHECK_OFFSET(pmr_header, addressing, PMR_ADDRESSING_OFFSET);
CHECK_OFFSET(pmr_header, permissions, PMR_PERMISSIONS_OFFSET);
CHECK_OFFSET(pmr_header, base_address, PMR_BASE_ADDRESS_OFFSET);
CHECK_OFFSET(pmr_header, reserved_span, PMR_RESERVED_SPAN_OFFSET);
CHECK_OFFSET(pmr_header, creator_pid, PMR_CREATOR_PID_OFFSET);
CHECK_OFFSET(pmr_header, attach_capacity, PMR_ATTACH_CAPACITY_OFFSET);
CHECK_OFFSET(pmr_header, creator_start, PMR_CREATOR_START_OFFSET);
CHECK_OFFSET(pmr_header, created_millis, PMR_CREATED_MILLIS_OFFSET);
CHECK_OFFSET(pmr_header, checksum, PMR_CHECKSUM_OFFSET);
CHECK_OFFSET(pmr_header, flags, PMR_FLAGS_OFFSET);
CHECK_OFFSET(pmr_header, current_size, PMR_CURRENT_SIZE_OFFSET);
CHECK_OFFSET(pmr_header, generation, PMR_GENERATION_OFFSET);
CHECK_OFFSET(pmr_header, lock_holder, PMR_LOCK_HOLDER_OFFSET);
CHECK_OFFSET(pmr_header, lock_holder_start, PMR_LOCK_HOLDER_START_OFFSET);
CHECK_OFFSET(pmr_header, lock_acquisitions, PMR_LOCK_ACQUISITIONS_OFFSET);
CHECK_OFFSET(pmr_header, lock_stale_recoveries, PMR_LOCK_STALE_RECOVERIES_OFFSET);
CHECK_OFFSET(pmr_header, lock_last_stale, PMR_LOCK_LAST_STALE_OFFSET);
CHECK_OFFSET(pmr_header, lock_last_stale_start, PMR_LOCK_LAST_STALE_START_OFFSET);
_Static_assert(sizeof(pmr_header) == PMR_ATTACH_TABLE_OFFSET, "the attach table follows the header");
_Static_assert(sizeof(pmr_header) == PMR_MIN_HEADER_SIZE, "min header size");
CHECK_OFFSET(pmr_slot, stamp, PMR_SLOT_STAMP_OFFSET);
CHECK_OFFSET(pmr_slot, start_time, PMR_SLOT_START_OFFSET);
CHECK_OFFSET(pmr_slot, attached_millis, PMR_SLOT_ATTACHED_MILLIS_OFFSET);
_Static_assert(sizeof(pmr_slot) == PMR_ATTACH_SLOT_SIZE, "attach slot size");
CHECK_OFFSET(pmr_record_header, magic_and_version, PMR_RECORD_MAGIC_OFFSET);
CHECK_OFFSET(pmr_record_header, payload_size, PMR_RECORD_PAYLOAD_SIZE_OFFSET);
CHECK_OFFSET(pmr_record_header, slot_stride, PMR_RECORD_SLOT_STRIDE_OFFSET);
CHECK_OFFSET(pmr_record_header, published, PMR_RECORD_PUBLISHED_OFFSET);
CHECK_OFFSET(pmr_record_header, repaired, PMR_RECORD_REPAIRED_OFFSET);
_Static_assert(sizeof(pmr_record_header) == PMR_RECORD_SLOTS_OFFSET, "record slots follow its header");
_Static_assert(sizeof(struct flock) == 32, "struct flock of Linux x86_64/aarch64 (FORMAT.md §3.3)");
_Static_assert(sizeof(_Atomic uint64_t) == 8 && ATOMIC_LLONG_LOCK_FREE == 2, "lock-free 8-byte atomics");

#define ATTACH_TIMEOUT_MS 5000

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void) 0)
#endif

struct pmr_region {
    int fd;
    int flags;
    char name[256];
    unsigned char *map;          /* mapping start (header at offset 0) */
    uint64_t span;               /* address space kept at map */
    _Atomic uint64_t mapped;     /* bytes of the object mapped now */
    uint64_t header_size;
    uint32_t capacity;           /* as validated; never re-read */
    uint32_t addressing;
    uint64_t stored_data_base;   /* what a reference to data offset 0 is: base+header (DIRECT) or header */
    int direct_here;             /* DIRECT and mapped at its base */
    int slot;                    /* attach slot, -1 if none */
    int broken;                  /* backing truncated under the mapping */
    int32_t pid;
    uint64_t start_time;
    _Atomic int lock_local;      /* 1 while a thread of this handle holds or is taking the writer lock */
    _Atomic long lock_owner;     /* the holding thread's tid, 0 if none */
};

/* ---- errors ------------------------------------------------------------------------------------------- */
static const char *const NAMES[] = {
    "PMR_NOT_FOUND", "PMR_ALREADY_EXISTS", "PMR_PERMISSION_DENIED", "PMR_ADDRESS_IN_USE", "PMR_NO_SPACE",
    "PMR_NO_MEMORY", "PMR_LIMIT_REACHED", "PMR_INVALID_ARGUMENT", "PMR_WOULD_BLOCK", "PMR_NOT_SUPPORTED",
    "PMR_INCOMPATIBLE_REGION", "PMR_CORRUPT_REGION", "PMR_IO_ERROR", "PMR_OTHER",
};

const char *pmr_code_name(int code) {
    if (code == PMR_OK) {
        return "PMR_OK";
    }
    if (code < PMR_NOT_FOUND || code > PMR_LAST_ERRCODE) {
        return "PMR_UNKNOWN";
    }
    return NAMES[code - PMR_NOT_FOUND];
}

const char *pmr_kind(int code) {
    const char *n = pmr_code_name(code);
    return strncmp(n, "PMR_", 4) == 0 ? n + 4 : n;
}

__attribute__((format(printf, 5, 6)))
static int fail(pmr_error *err, int code, int native, const char *function, const char *format, ...) {
    if (err != NULL) {
        err->code = code;
        err->native = native;
        snprintf(err->function, sizeof err->function, "%s", function);
        int n = snprintf(err->message, sizeof err->message, "%s: ", pmr_code_name(code));
        if (n < 0 || (size_t) n >= sizeof err->message) {
            n = 0;
        }
        va_list ap;
        va_start(ap, format);
        vsnprintf(err->message + n, sizeof err->message - (size_t) n, format, ap);
        va_end(ap);
        if (native != 0) {
            size_t used = strlen(err->message);
            snprintf(err->message + used, sizeof err->message - used, " (%s: %s)", function, strerror(native));
        }
    }
    return code;
}

/* The portable kind of an errno, as the Java side's Errno maps it. */
static int kind_of(int e) {
    switch (e) {
    case ENOENT: return PMR_NOT_FOUND;
    case EEXIST: return PMR_ALREADY_EXISTS;
    case EACCES: case EPERM: case EROFS: return PMR_PERMISSION_DENIED;
    case ENOSPC: case EDQUOT: return PMR_NO_SPACE;
    case ENOMEM: return PMR_NO_MEMORY;
    case EMFILE: case ENFILE: return PMR_LIMIT_REACHED;
    case EINVAL: case ENAMETOOLONG: return PMR_INVALID_ARGUMENT;
    case EAGAIN: return PMR_WOULD_BLOCK;
    case ENOSYS: case EOPNOTSUPP: case ENODEV: return PMR_NOT_SUPPORTED;
    case EIO: return PMR_IO_ERROR;
    default: return PMR_OTHER;
    }
}

static int sys_fail(pmr_error *err, const char *function, const char *what) {
    int e = errno;
    return fail(err, kind_of(e), e, function, "%s failed", what);
}

/* ---- shared words --------------------------------------------------------------------------------------- */
static inline _Atomic uint64_t *word(const void *base, uint64_t offset) {
    return (_Atomic uint64_t *) (void *) ((unsigned char *) base + offset);
}
static inline uint64_t load_acquire(const void *base, uint64_t offset) {
    return atomic_load_explicit(word(base, offset), memory_order_acquire);
}
static inline uint64_t load_relaxed(const void *base, uint64_t offset) {
    return atomic_load_explicit(word(base, offset), memory_order_relaxed);
}
static inline void store_release(void *base, uint64_t offset, uint64_t value) {
    atomic_store_explicit(word(base, offset), value, memory_order_release);
}
static inline void store_relaxed(void *base, uint64_t offset, uint64_t value) {
    atomic_store_explicit(word(base, offset), value, memory_order_relaxed);
}
static inline uint32_t u32(const void *base, uint64_t offset) {
    uint32_t v;
    memcpy(&v, (const unsigned char *) base + offset, 4);
    return v;
}

/* ---- CRC32C ----------------------------------------------------------------------------------------------- */
uint32_t pmr_crc32c(const void *bytes, size_t length) {
    static uint32_t table[256];
    static _Atomic int ready;
    if (!atomic_load_explicit(&ready, memory_order_acquire)) {
        uint32_t t[256];
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            }
            t[i] = c;
        }
        /* every thread computes the same table; writes of equal values, then one release */
        for (int i = 0; i < 256; i++) {
            __atomic_store_n(&table[i], t[i], __ATOMIC_RELAXED);
        }
        atomic_store_explicit(&ready, 1, memory_order_release);
    }
    const unsigned char *p = bytes;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < length; i++) {
        crc = __atomic_load_n(&table[(crc ^ p[i]) & 0xFF], __ATOMIC_RELAXED) ^ (crc >> 8);
    }
    return crc ^ 0xFFFFFFFFu;
}

/* ---- processes -------------------------------------------------------------------------------------------- */
/* Field 22 of /proc/PID/stat (clock ticks since boot), or 0 if it cannot be read. */
static uint64_t process_start_time(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL) {
        return 0;
    }
    p += 2; /* field 3 */
    for (int field = 3; field < 22 && p != NULL; field++) {
        p = strchr(p, ' ');
        if (p != NULL) {
            p++;
        }
    }
    return p == NULL ? 0 : strtoull(p, NULL, 10);
}

static uint64_t stamp_of(int32_t pid, uint64_t start) {
    return (start << 32) | (uint32_t) pid;
}

static uint64_t now_millis(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static uint64_t monotonic_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static void pause_ns(long ns) {
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}

/* ---- OFD locks (FORMAT.md §3.3) ---------------------------------------------------------------------------- */
static struct flock one_byte(short type, int64_t start) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = 1; /* l_pid stays 0, as F_OFD_* requires */
    return fl;
}

static int ofd(int fd, int cmd, short type, int64_t start) {
    struct flock fl = one_byte(type, start);
    int rc;
    do {
        rc = fcntl(fd, cmd, &fl);
    } while (rc != 0 && errno == EINTR);
    return rc;
}

/* 1: taken, 0: held elsewhere, -1: failed (errno) */
static int ofd_try(int fd, int64_t byte) {
    if (ofd(fd, F_OFD_SETLK, F_WRLCK, byte) == 0) {
        return 1;
    }
    return errno == EAGAIN || errno == EACCES ? 0 : -1;
}

/* 1: another open file description holds a lock on the byte, 0: none, -1: failed */
static int ofd_held_elsewhere(int fd, int64_t byte) {
    struct flock fl = one_byte(F_WRLCK, byte);
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0) {
        return -1;
    }
    return fl.l_type != F_UNLCK;
}

/* ---- mapping ---------------------------------------------------------------------------------------------- */
#define RESERVATION (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

static long page_size(void) {
    return sysconf(_SC_PAGESIZE);
}

/* The /proc/self/maps line that covers ADDRESS, or "" */
static void maps_line(uint64_t address, char *out, size_t cap) {
    out[0] = '\0';
    FILE *f = fopen("/proc/self/maps", "re");
    if (f == NULL) {
        return;
    }
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long lo, hi;
        if (sscanf(line, "%llx-%llx", &lo, &hi) == 2 && address < hi && address + 1 > lo) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(out, cap, "%s", line);
            break;
        }
    }
    fclose(f);
}

/* Keeps SPAN bytes of address space (at FIXED, or anywhere if 0) and maps SIZE bytes of the object
 * over its start. */
static int map_region(pmr_region *r, uint64_t size, uint64_t span, uint64_t fixed, int prot, pmr_error *err) {
    void *want = (void *) (uintptr_t) fixed;
    void *at = mmap(want, span, PROT_READ, RESERVATION | (fixed != 0 ? MAP_FIXED_NOREPLACE : 0), -1, 0);
    if (at == MAP_FAILED) {
        int e = errno;
        if (fixed != 0 && e == EEXIST) {
            char line[512];
            maps_line(fixed, line, sizeof line);
            return fail(err, PMR_ADDRESS_IN_USE, e, "mmap", "%s is a DIRECT region at base 0x%llx (%llu bytes kept), and that "
                "address range is taken in this process%s%s", r->name, (unsigned long long) fixed,
                (unsigned long long) span, line[0] ? ": " : "", line);
        }
        errno = e;
        return sys_fail(err, "mmap", "reserving the region's span");
    }
    if (fixed != 0 && at != want) { /* a kernel before 4.17 ignores MAP_FIXED_NOREPLACE */
        munmap(at, span);
        return fail(err, PMR_ADDRESS_IN_USE, EEXIST, "mmap", "%s: base 0x%llx is not free in this process", r->name,
                    (unsigned long long) fixed);
    }
    if (mmap(at, size, prot, MAP_SHARED | MAP_FIXED, r->fd, 0) == MAP_FAILED) {
        int e = errno;
        munmap(at, span);
        errno = e;
        return sys_fail(err, "mmap", "mapping the region");
    }
    r->map = at;
    r->span = span;
    atomic_store_explicit(&r->mapped, size, memory_order_release);
    return PMR_OK;
}

static int writable(const pmr_region *r) {
    return (r->flags & PMR_READ_WRITE) != 0;
}

/* ---- validation (FORMAT.md §7) --------------------------------------------------------------------------------- */
typedef struct validated {
    uint64_t header_size, region_size, current, span, base;
    uint32_t capacity, addressing;
} validated;

static int check_header(pmr_region *r, const unsigned char *h, uint64_t object_size, validated *v, pmr_error *err) {
    uint32_t version = u32(h, PMR_VERSION_OFFSET);
    if (version != PMR_LAYOUT_VERSION) {
        return fail(err, PMR_INCOMPATIBLE_REGION, 0, "validate", "%s has header layout version %u; this client reads version %d",
                    r->name, version, PMR_LAYOUT_VERSION);
    }
    uint32_t stored = u32(h, PMR_CHECKSUM_OFFSET);
    uint32_t actual = pmr_crc32c(h + PMR_CHECKSUMMED_FROM, PMR_CHECKSUM_OFFSET - PMR_CHECKSUMMED_FROM);
    if (stored != actual) {
        return fail(err, PMR_CORRUPT_REGION, 0, "validate", "%s has a damaged header: checksum 0x%x stored, 0x%x computed",
                    r->name, stored, actual);
    }
    uint64_t page = (uint64_t) page_size();
    v->header_size = u32(h, PMR_HEADER_SIZE_OFFSET);
    v->region_size = load_relaxed(h, PMR_REGION_SIZE_OFFSET);
    uint64_t data_size = load_relaxed(h, PMR_DATA_SIZE_OFFSET);
    v->capacity = u32(h, PMR_ATTACH_CAPACITY_OFFSET);
    v->addressing = u32(h, PMR_ADDRESSING_OFFSET);
    v->base = load_relaxed(h, PMR_BASE_ADDRESS_OFFSET);
    v->span = load_relaxed(h, PMR_RESERVED_SPAN_OFFSET);
    v->current = load_acquire(h, PMR_CURRENT_SIZE_OFFSET); /* mutable: grow() release-stores it */
    char bad[200] = "";
    uint64_t want_header = v->capacity >= 1 && v->capacity <= PMR_MAX_ATTACH_CAPACITY
        ? (PMR_ATTACH_TABLE_OFFSET + (uint64_t) v->capacity * PMR_ATTACH_SLOT_SIZE + page - 1) / page * page : 0;
    if (want_header == 0 || v->header_size != want_header) {
        snprintf(bad, sizeof bad, "header size %llu does not match its attach table of %u slots",
                 (unsigned long long) v->header_size, v->capacity);
    } else if (data_size == 0 || data_size > (uint64_t) INT64_MAX || data_size % page != 0
               || data_size > (uint64_t) INT64_MAX - v->header_size || v->region_size != v->header_size + data_size) {
        snprintf(bad, sizeof bad, "region size %llu is not header %llu + data %llu", (unsigned long long) v->region_size,
                 (unsigned long long) v->header_size, (unsigned long long) data_size);
    } else if (v->span < v->region_size || v->span > (uint64_t) INT64_MAX || v->span % page != 0) {
        snprintf(bad, sizeof bad, "reserved span %llu is smaller than the region (%llu) or not whole pages",
                 (unsigned long long) v->span, (unsigned long long) v->region_size);
    } else if (v->current < v->region_size || v->current > v->span || v->current % page != 0) {
        snprintf(bad, sizeof bad, "current size %llu is not whole pages between the size at creation (%llu) and the span (%llu)",
                 (unsigned long long) v->current, (unsigned long long) v->region_size, (unsigned long long) v->span);
    } else if (v->addressing != PMR_ADDRESSING_OFFSET_MODE && v->addressing != PMR_ADDRESSING_DIRECT_MODE) {
        snprintf(bad, sizeof bad, "unknown addressing mode %u", v->addressing);
    } else if (v->addressing == PMR_ADDRESSING_DIRECT_MODE
               && (v->base == 0 || v->base > (uint64_t) INT64_MAX - v->span || v->base % page != 0)) {
        snprintf(bad, sizeof bad, "DIRECT region with an unusable base address 0x%llx for %llu bytes",
                 (unsigned long long) v->base, (unsigned long long) v->region_size);
    }
    if (bad[0] != '\0') {
        return fail(err, PMR_CORRUPT_REGION, 0, "validate", "%s has an inconsistent header: %s", r->name, bad);
    }
    if (object_size < v->current) { /* stat again: the size read before may predate a grow that published since */
        struct stat st;
        if (fstat(r->fd, &st) != 0) {
            return sys_fail(err, "fstat", r->name);
        }
        object_size = (uint64_t) st.st_size;
    }
    if (object_size < v->current) {
        return fail(err, PMR_CORRUPT_REGION, 0, "validate", "%s is truncated: %llu bytes, its header says %llu", r->name,
                    (unsigned long long) object_size, (unsigned long long) v->current);
    }
    return PMR_OK;
}

/* Reads the header through a read-only peek mapping; waits (bounded) for a creator still writing it. */
static int validate(pmr_region *r, validated *v, pmr_error *err) {
    uint64_t deadline = monotonic_ms() + ATTACH_TIMEOUT_MS;
    long pause = 100000;
    long page = page_size();
    for (;;) {
        struct stat st;
        if (fstat(r->fd, &st) != 0) {
            return sys_fail(err, "fstat", r->name);
        }
        uint64_t size = (uint64_t) st.st_size;
        char waiting[400];
        if (size < PMR_MIN_HEADER_SIZE) {
            if (size != 0) {
                return fail(err, PMR_CORRUPT_REGION, 0, "validate", "%s is %llu bytes, smaller than a panmap header (%d): truncated, "
                            "or not a panmap region", r->name, (unsigned long long) size, PMR_MIN_HEADER_SIZE);
            }
            snprintf(waiting, sizeof waiting, "%s is empty (0 bytes): not a panmap region, or its creator has not sized it yet", r->name);
        } else {
            size_t peek_size = size < (uint64_t) page ? (size_t) size : (size_t) page;
            unsigned char *peek = mmap(NULL, peek_size, PROT_READ, MAP_SHARED, r->fd, 0);
            if (peek == MAP_FAILED) {
                return sys_fail(err, "mmap", "reading the header");
            }
            uint64_t magic = load_acquire(peek, PMR_MAGIC_OFFSET);
            int rc = PMR_OK;
            if (magic == PMR_MAGIC) {
                rc = check_header(r, peek, size, v, err);
                munmap(peek, peek_size);
                return rc;
            }
            int32_t creator = (int32_t) u32(peek, PMR_CREATOR_PID_OFFSET);
            munmap(peek, peek_size);
            if (magic != 0) {
                return fail(err, PMR_INCOMPATIBLE_REGION, 0, "validate", "%s is not a panmap region (its first 8 bytes are 0x%llx, "
                            "a panmap header starts with 0x%llx)", r->name, (unsigned long long) magic,
                            (unsigned long long) PMR_MAGIC);
            }
            if (creator > 0 && kill(creator, 0) != 0 && errno == ESRCH) {
                return fail(err, PMR_CORRUPT_REGION, 0, "validate", "%s was never finished: its creator (pid %d) died during "
                            "creation; remove it and create it again", r->name, creator);
            }
            snprintf(waiting, sizeof waiting, "%s has no panmap header yet (creator pid %d)", r->name, creator);
        }
        if (monotonic_ms() >= deadline) {
            return fail(err, PMR_INCOMPATIBLE_REGION, 0, "validate", "%s (waited %d ms)", waiting, ATTACH_TIMEOUT_MS);
        }
        pause_ns(pause);
        pause = pause * 2 > 10000000 ? 10000000 : pause * 2;
    }
}

/* ---- attach table (FORMAT.md §3.4) ---------------------------------------------------------------------- */
static int join_table(pmr_region *r, pmr_error *err) {
    uint64_t stamp = stamp_of(r->pid, r->start_time);
    for (uint32_t i = 0; i < r->capacity; i++) {
        int got = ofd_try(r->fd, PMR_SLOT_LOCK_BYTE + (int64_t) i);
        if (got < 0) {
            return sys_fail(err, "fcntl", "F_OFD_SETLK on an attach slot's lock byte");
        }
        if (got) { /* no live process holds slot i: it is ours */
            uint64_t slot = PMR_ATTACH_TABLE_OFFSET + (uint64_t) i * PMR_ATTACH_SLOT_SIZE;
            store_relaxed(r->map, slot + PMR_SLOT_START_OFFSET, r->start_time);
            store_relaxed(r->map, slot + PMR_SLOT_ATTACHED_MILLIS_OFFSET, now_millis());
            store_release(r->map, slot + PMR_SLOT_STAMP_OFFSET, stamp); /* over a dead process's stamp, if any */
            r->slot = (int) i;
            return PMR_OK;
        }
    }
    return fail(err, PMR_LIMIT_REACHED, 0, "attach", "the attach table of %s is full: all %u slots belong to live processes",
                r->name, r->capacity);
}

static void leave_table(pmr_region *r) {
    if (r->slot < 0) {
        return;
    }
    uint64_t slot = PMR_ATTACH_TABLE_OFFSET + (uint64_t) r->slot * PMR_ATTACH_SLOT_SIZE;
    uint64_t mine = stamp_of(r->pid, r->start_time);
    atomic_compare_exchange_strong_explicit(word(r->map, slot + PMR_SLOT_STAMP_OFFSET), &mine, 0,
                                            memory_order_acq_rel, memory_order_relaxed);
    ofd(r->fd, F_OFD_SETLK, F_UNLCK, PMR_SLOT_LOCK_BYTE + r->slot);
    r->slot = -1;
}

/* ---- open / create / close -------------------------------------------------------------------------------- */
static int shm_path(const char *name, char *out, size_t cap, pmr_error *err) {
    const char *bare = name[0] == '/' ? name + 1 : name;
    if (bare[0] == '\0' || strchr(bare, '/') != NULL || strcmp(bare, ".") == 0 || strcmp(bare, "..") == 0 || strlen(bare) > 250) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "name", "invalid region name \"%s\": one optional leading '/', then 1 to 250 "
                    "bytes without '/'", name);
    }
    snprintf(out, cap, "/%s", bare);
    return PMR_OK;
}

static pmr_region *new_region(const char *name, int flags) {
    pmr_region *r = calloc(1, sizeof *r);
    if (r == NULL) {
        return NULL;
    }
    r->fd = -1;
    r->flags = flags;
    r->slot = -1;
    snprintf(r->name, sizeof r->name, "%s", name);
    r->pid = (int32_t) getpid();
    r->start_time = process_start_time(getpid());
    return r;
}

static int open_common(pmr_region *r, pmr_error *err) {
    struct stat st;
    if (fstat(r->fd, &st) != 0) {
        return sys_fail(err, "fstat", r->name);
    }
    if (!S_ISREG(st.st_mode)) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "open", "%s is not a regular file or shared-memory object", r->name);
    }
    validated v = {0};
    int rc = validate(r, &v, err);
    if (rc != PMR_OK) {
        return rc;
    }
    r->header_size = v.header_size;
    r->capacity = v.capacity;
    r->addressing = v.addressing;
    int prot = writable(r) ? PROT_READ | PROT_WRITE : PROT_READ;
    int direct = v.addressing == PMR_ADDRESSING_DIRECT_MODE;
    if (direct && !(r->flags & PMR_OFFSET_MODE)) {
        rc = map_region(r, v.current, v.span, v.base, prot, err);
        if (rc == PMR_ADDRESS_IN_USE && (r->flags & PMR_ALLOW_OFFSET_FALLBACK)) {
            rc = map_region(r, v.current, v.span, 0, prot, err);
        } else if (rc == PMR_OK) {
            r->direct_here = 1;
        }
    } else {
        rc = map_region(r, v.current, v.span, 0, prot, err);
    }
    if (rc != PMR_OK) {
        return rc;
    }
    r->stored_data_base = direct ? v.base + v.header_size : v.header_size;
    if (writable(r)) {
        rc = join_table(r, err);
    }
    return rc;
}

static int finish_open(pmr_region *r, int rc, pmr_region **out) {
    if (rc != PMR_OK) {
        pmr_close(r);
        *out = NULL;
        return rc;
    }
    *out = r;
    return PMR_OK;
}

static int open_fd(pmr_region *r, const char *path, int shm, int oflags, unsigned mode, pmr_error *err) {
    r->fd = shm ? shm_open(path, oflags | O_CLOEXEC | O_NONBLOCK, mode) : open(path, oflags | O_CLOEXEC | O_NONBLOCK, mode);
    if (r->fd < 0) {
        int e = errno;
        return fail(err, kind_of(e), e, shm ? "shm_open" : "open", "opening %s", path);
    }
    return PMR_OK;
}

int pmr_open(const char *name, int flags, pmr_region **out, pmr_error *err) {
    char path[260];
    int rc = shm_path(name, path, sizeof path, err);
    if (rc != PMR_OK) {
        return rc;
    }
    pmr_region *r = new_region(path, flags);
    if (r == NULL) {
        return fail(err, PMR_NO_MEMORY, ENOMEM, "calloc", "no memory for a region handle");
    }
    rc = open_fd(r, path, 1, (flags & PMR_READ_WRITE) ? O_RDWR : O_RDONLY, 0, err);
    return finish_open(r, rc == PMR_OK ? open_common(r, err) : rc, out);
}

int pmr_open_file(const char *file, int flags, pmr_region **out, pmr_error *err) {
    pmr_region *r = new_region(file, flags);
    if (r == NULL) {
        return fail(err, PMR_NO_MEMORY, ENOMEM, "calloc", "no memory for a region handle");
    }
    int rc = open_fd(r, file, 0, (flags & PMR_READ_WRITE) ? O_RDWR : O_RDONLY, 0, err);
    return finish_open(r, rc == PMR_OK ? open_common(r, err) : rc, out);
}

static int create_common(pmr_region *r, const pmr_create_options *o, pmr_error *err) {
    uint64_t page = (uint64_t) page_size();
    uint32_t capacity = o->max_attached == 0 ? PMR_DEFAULT_ATTACH_CAPACITY : o->max_attached;
    if (o->size == 0 || o->size > (UINT64_C(1) << 50) || o->max_size > (UINT64_C(1) << 50) || capacity > PMR_MAX_ATTACH_CAPACITY) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "create", "creating %s needs a size in [1, 2^50] and at most %d attach slots",
                    r->name, PMR_MAX_ATTACH_CAPACITY);
    }
    uint64_t header = (PMR_ATTACH_TABLE_OFFSET + (uint64_t) capacity * PMR_ATTACH_SLOT_SIZE + page - 1) / page * page;
    uint64_t data = (o->size + page - 1) / page * page;
    uint64_t size = header + data;
    uint64_t span = o->max_size > o->size ? header + (o->max_size + page - 1) / page * page : size;
    if (fchmod(r->fd, o->mode == 0 ? 0600 : o->mode) != 0) {
        return sys_fail(err, "fchmod", r->name);
    }
    if (ftruncate(r->fd, (off_t) size) != 0) {
        return sys_fail(err, "ftruncate", r->name);
    }
    uint64_t base = o->direct ? (o->base != 0 ? o->base : PMR_DEFAULT_DIRECT_BASE) : 0;
    int rc = map_region(r, size, span, base, PROT_READ | PROT_WRITE, err);
    if (rc != PMR_OK) {
        return rc;
    }
    unsigned char *h = r->map;
    int32_t pid = r->pid;
    atomic_store_explicit((_Atomic int32_t *) (void *) (h + PMR_CREATOR_PID_OFFSET), pid, memory_order_release); /* first */
    uint32_t fields32[][2] = {
        {PMR_VERSION_OFFSET, PMR_LAYOUT_VERSION}, {PMR_HEADER_SIZE_OFFSET, (uint32_t) header},
        {PMR_ADDRESSING_OFFSET, o->direct ? PMR_ADDRESSING_DIRECT_MODE : PMR_ADDRESSING_OFFSET_MODE},
        {PMR_PERMISSIONS_OFFSET, o->mode == 0 ? 0600 : o->mode}, {PMR_ATTACH_CAPACITY_OFFSET, capacity}, {PMR_FLAGS_OFFSET, 0},
    };
    for (size_t i = 0; i < sizeof fields32 / sizeof fields32[0]; i++) {
        memcpy(h + fields32[i][0], &fields32[i][1], 4);
    }
    store_relaxed(h, PMR_REGION_SIZE_OFFSET, size);
    store_relaxed(h, PMR_DATA_SIZE_OFFSET, data);
    store_relaxed(h, PMR_BASE_ADDRESS_OFFSET, base);
    store_relaxed(h, PMR_RESERVED_SPAN_OFFSET, span);
    store_relaxed(h, PMR_CURRENT_SIZE_OFFSET, size);
    store_relaxed(h, PMR_GENERATION_OFFSET, 1);
    store_relaxed(h, PMR_CREATOR_START_OFFSET, r->start_time);
    store_relaxed(h, PMR_CREATED_MILLIS_OFFSET, now_millis());
    uint32_t crc = pmr_crc32c(h + PMR_CHECKSUMMED_FROM, PMR_CHECKSUM_OFFSET - PMR_CHECKSUMMED_FROM);
    memcpy(h + PMR_CHECKSUM_OFFSET, &crc, 4);
    store_release(h, PMR_MAGIC_OFFSET, PMR_MAGIC); /* published */
    r->header_size = header;
    r->capacity = capacity;
    r->addressing = o->direct ? PMR_ADDRESSING_DIRECT_MODE : PMR_ADDRESSING_OFFSET_MODE;
    r->direct_here = o->direct;
    r->stored_data_base = o->direct ? base + header : header;
    return join_table(r, err);
}

static int create_at(const char *path, int shm, const pmr_create_options *o, pmr_region **out, pmr_error *err) {
    pmr_region *r = new_region(path, PMR_READ_WRITE);
    if (r == NULL) {
        return fail(err, PMR_NO_MEMORY, ENOMEM, "calloc", "no memory for a region handle");
    }
    int rc = open_fd(r, path, shm, O_RDWR | O_CREAT | O_EXCL, o->mode == 0 ? 0600 : o->mode, err);
    if (rc != PMR_OK) {
        return finish_open(r, rc, out);
    }
    rc = create_common(r, o, err);
    if (rc != PMR_OK) {
        if (shm) {
            shm_unlink(path);
        } else {
            unlink(path);
        }
    }
    return finish_open(r, rc, out);
}

int pmr_create(const char *name, const pmr_create_options *o, pmr_region **out, pmr_error *err) {
    char path[260];
    int rc = shm_path(name, path, sizeof path, err);
    return rc != PMR_OK ? rc : create_at(path, 1, o, out, err);
}

int pmr_create_file(const char *path, const pmr_create_options *o, pmr_region **out, pmr_error *err) {
    return create_at(path, 0, o, out, err);
}

int pmr_remove(const char *name, pmr_error *err) {
    char path[260];
    int rc = shm_path(name, path, sizeof path, err);
    if (rc != PMR_OK) {
        return rc;
    }
    if (shm_unlink(path) != 0) {
        int e = errno;
        return fail(err, kind_of(e), e, "shm_unlink", "removing %s", path);
    }
    return PMR_OK;
}

void pmr_close(pmr_region *r) {
    if (r == NULL) {
        return;
    }
    if (r->map != NULL) {
        if (atomic_load_explicit(&r->lock_owner, memory_order_acquire) != 0) {
            store_release(r->map, PMR_LOCK_HOLDER_OFFSET, 0); /* the OS lock goes with the descriptor, after the unmap */
        }
        leave_table(r);
        munmap(r->map, r->span);
    }
    if (r->fd >= 0) {
        close(r->fd);
    }
    free(r);
}

/* ---- using ---------------------------------------------------------------------------------------------------- */
void *pmr_data(const pmr_region *r) { return r->map + r->header_size; }
uint64_t pmr_size(const pmr_region *r) { return atomic_load_explicit(&r->mapped, memory_order_acquire) - r->header_size; }
uint64_t pmr_data_offset(const pmr_region *r) { return r->header_size; }
int pmr_is_direct(const pmr_region *r) { return r->direct_here; }
int pmr_addressing(const pmr_region *r) { return (int) r->addressing; }
void *pmr_base(const pmr_region *r) { return r->map; }
int pmr_attach_slot(const pmr_region *r) { return r->slot; }

int pmr_refresh(pmr_region *r, pmr_error *err) {
    if (r->broken) {
        return fail(err, PMR_CORRUPT_REGION, 0, "refresh", "%s is truncated (found earlier)", r->name);
    }
    uint64_t size = load_acquire(r->map, PMR_CURRENT_SIZE_OFFSET);
    uint64_t mapped = atomic_load_explicit(&r->mapped, memory_order_acquire);
    struct stat st;
    if (fstat(r->fd, &st) != 0) {
        return sys_fail(err, "fstat", r->name);
    }
    uint64_t page = (uint64_t) page_size();
    uint64_t needed = size > mapped ? size : mapped;
    if ((uint64_t) st.st_size < needed) {
        uint64_t keep = ((uint64_t) st.st_size + page - 1) / page * page;
        if (keep < mapped) { /* zeros instead of SIGBUS for what is gone */
            mmap(r->map + keep, mapped - keep, PROT_READ, RESERVATION | MAP_FIXED, -1, 0);
        }
        r->broken = 1;
        return fail(err, PMR_CORRUPT_REGION, 0, "refresh", "%s is truncated: its backing is %llu bytes, the region %llu", r->name,
                    (unsigned long long) st.st_size, (unsigned long long) needed);
    }
    if (size > mapped) {
        if (size > r->span || size % page != 0) {
            return fail(err, PMR_CORRUPT_REGION, 0, "refresh", "%s has an inconsistent header: current size %llu is not whole pages "
                        "within its reserved span %llu", r->name, (unsigned long long) size, (unsigned long long) r->span);
        }
        int prot = writable(r) ? PROT_READ | PROT_WRITE : PROT_READ;
        if (mmap(r->map + mapped, size - mapped, prot, MAP_SHARED | MAP_FIXED, r->fd, (off_t) mapped) == MAP_FAILED) {
            int e = errno; /* a failed MAP_FIXED may have removed part of the reservation: lay it again */
            mmap(r->map + mapped, size - mapped, PROT_READ, RESERVATION | MAP_FIXED, -1, 0);
            errno = e;
            return sys_fail(err, "mmap", "mapping the grown part");
        }
        atomic_store_explicit(&r->mapped, size, memory_order_release);
    }
    return PMR_OK;
}

int pmr_get_info(pmr_region *r, pmr_info *i, pmr_error *err) {
    const unsigned char *h = r->map;
    memset(i, 0, sizeof *i);
    i->layout_version = u32(h, PMR_VERSION_OFFSET);
    i->header_size = u32(h, PMR_HEADER_SIZE_OFFSET);
    i->attach_capacity = r->capacity;
    i->addressing = u32(h, PMR_ADDRESSING_OFFSET);
    i->permissions = u32(h, PMR_PERMISSIONS_OFFSET);
    i->flags = u32(h, PMR_FLAGS_OFFSET);
    i->region_size_at_creation = load_relaxed(h, PMR_REGION_SIZE_OFFSET);
    i->data_size_at_creation = load_relaxed(h, PMR_DATA_SIZE_OFFSET);
    i->base_address = load_relaxed(h, PMR_BASE_ADDRESS_OFFSET);
    i->reserved_span = load_relaxed(h, PMR_RESERVED_SPAN_OFFSET);
    i->creator_pid = (int32_t) u32(h, PMR_CREATOR_PID_OFFSET);
    i->creator_start = load_relaxed(h, PMR_CREATOR_START_OFFSET);
    i->created_millis = load_relaxed(h, PMR_CREATED_MILLIS_OFFSET);
    i->generation = load_acquire(h, PMR_GENERATION_OFFSET);
    i->current_size = load_acquire(h, PMR_CURRENT_SIZE_OFFSET);
    i->lock_holder = load_acquire(h, PMR_LOCK_HOLDER_OFFSET);
    i->lock_holder_start = load_acquire(h, PMR_LOCK_HOLDER_START_OFFSET);
    i->lock_acquisitions = load_acquire(h, PMR_LOCK_ACQUISITIONS_OFFSET);
    i->lock_stale_recoveries = load_acquire(h, PMR_LOCK_STALE_RECOVERIES_OFFSET);
    i->lock_last_stale = load_acquire(h, PMR_LOCK_LAST_STALE_OFFSET);
    int held = ofd_held_elsewhere(r->fd, PMR_WRITER_LOCK_BYTE);
    if (held < 0) {
        return sys_fail(err, "fcntl", "F_OFD_GETLK on the writer lock byte");
    }
    i->lock_held_elsewhere = held || atomic_load_explicit(&r->lock_owner, memory_order_acquire) != 0;
    return PMR_OK;
}

int pmr_attached(pmr_region *r, pmr_process *out, int max, pmr_error *err) {
    int n = 0;
    for (uint32_t i = 0; i < r->capacity && n < max; i++) {
        uint64_t slot = PMR_ATTACH_TABLE_OFFSET + (uint64_t) i * PMR_ATTACH_SLOT_SIZE;
        uint64_t stamp = load_acquire(r->map, slot + PMR_SLOT_STAMP_OFFSET);
        if (stamp == 0) {
            continue;
        }
        int held = (int) i == r->slot ? 1 : ofd_held_elsewhere(r->fd, PMR_SLOT_LOCK_BYTE + (int64_t) i);
        if (held < 0) {
            return sys_fail(err, "fcntl", "F_OFD_GETLK on an attach slot's lock byte");
        }
        out[n].slot = (int) i;
        out[n].stamp = stamp;
        out[n].pid = pmr_stamp_pid(stamp);
        out[n].start_time = load_relaxed(r->map, slot + PMR_SLOT_START_OFFSET);
        out[n].attached_millis = load_relaxed(r->map, slot + PMR_SLOT_ATTACHED_MILLIS_OFFSET);
        out[n].alive = held;
        n++;
    }
    return n;
}

/* ---- references ---------------------------------------------------------------------------------------------- */
uint64_t pmr_ref(const pmr_region *r, uint64_t offset) {
    return r->stored_data_base + offset;
}

void *pmr_follow(const pmr_region *r, uint64_t ref, uint64_t length, pmr_error *err) {
    if (ref == 0) {
        fail(err, PMR_INVALID_ARGUMENT, 0, "follow", "the null reference of %s", r->name);
        return NULL;
    }
    uint64_t offset = ref - r->stored_data_base; /* wraps for a reference below the data area: caught below */
    uint64_t size = pmr_size(r);
    if (offset > size || length > size - offset) {
        fail(err, PMR_CORRUPT_REGION, 0, "follow", "reference 0x%llx (%llu bytes) is outside the %llu-byte data area of %s",
             (unsigned long long) ref, (unsigned long long) length, (unsigned long long) size, r->name);
        return NULL;
    }
    return r->map + r->header_size + offset;
}

/* ---- writer lock (FORMAT.md §3.3) ---------------------------------------------------------------------- */
int pmr_lock_held(const pmr_region *r) {
    return atomic_load_explicit(&((pmr_region *) r)->lock_owner, memory_order_acquire) == (long) gettid();
}

int pmr_lock_try(pmr_region *r, pmr_error *err) {
    if (!writable(r)) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "lock", "%s was opened read-only: only a writable region has a writer lock", r->name);
    }
    if (pmr_lock_held(r)) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "lock", "the writer lock of %s is already held by this thread (it is not reentrant)",
                    r->name);
    }
    int expected = 0;
    if (!atomic_compare_exchange_strong_explicit(&r->lock_local, &expected, 1, memory_order_acquire, memory_order_relaxed)) {
        return fail(err, PMR_WOULD_BLOCK, 0, "lock", "the writer lock of %s is held by another thread of this handle", r->name);
    }
    int got = ofd_try(r->fd, PMR_WRITER_LOCK_BYTE);
    if (got != 1) {
        int e = errno;
        atomic_store_explicit(&r->lock_local, 0, memory_order_release);
        if (got == 0) {
            return fail(err, PMR_WOULD_BLOCK, 0, "lock", "the writer lock of %s is held by another process or handle", r->name);
        }
        errno = e;
        return sys_fail(err, "fcntl", "F_OFD_SETLK on the writer lock byte");
    }
    unsigned char *h = r->map;
    /* The OS lock is ours, and a holder clears its word before it lets the lock go: a word found here was
     * left by a holder that died holding the lock. */
    uint64_t previous = load_acquire(h, PMR_LOCK_HOLDER_OFFSET);
    if (previous != 0) {
        store_relaxed(h, PMR_LOCK_LAST_STALE_START_OFFSET, load_relaxed(h, PMR_LOCK_HOLDER_START_OFFSET));
        store_release(h, PMR_LOCK_LAST_STALE_OFFSET, previous);
        atomic_fetch_add_explicit(word(h, PMR_LOCK_STALE_RECOVERIES_OFFSET), 1, memory_order_acq_rel);
    }
    store_relaxed(h, PMR_LOCK_HOLDER_START_OFFSET, r->start_time);
    store_release(h, PMR_LOCK_HOLDER_OFFSET, stamp_of(r->pid, r->start_time));
    atomic_fetch_add_explicit(word(h, PMR_LOCK_ACQUISITIONS_OFFSET), 1, memory_order_acq_rel);
    atomic_store_explicit(&r->lock_owner, (long) gettid(), memory_order_release);
    return PMR_OK;
}

int pmr_lock(pmr_region *r, long timeout_ms, pmr_error *err) {
    uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : monotonic_ms() + (uint64_t) timeout_ms;
    long pause = 1000;
    for (int spins = 0;; spins++) {
        int rc = pmr_lock_try(r, err);
        if (rc != PMR_WOULD_BLOCK) {
            return rc;
        }
        if (monotonic_ms() >= deadline) {
            return fail(err, PMR_WOULD_BLOCK, 0, "lock", "the writer lock of %s is still held after %ld ms", r->name, timeout_ms);
        }
        if (spins < 50) { /* watch the holder word and retry as soon as it clears */
            for (int i = 0; i < 64 && load_acquire(r->map, PMR_LOCK_HOLDER_OFFSET) != 0; i++) {
                cpu_relax();
            }
        } else {
            pause_ns(pause);
            pause = pause * 2 > 1000000 ? 1000000 : pause * 2;
        }
    }
}

int pmr_unlock(pmr_region *r, pmr_error *err) {
    if (!pmr_lock_held(r)) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "unlock", "the writer lock of %s is not held by this thread", r->name);
    }
    atomic_store_explicit(&r->lock_owner, 0, memory_order_relaxed);
    store_release(r->map, PMR_LOCK_HOLDER_OFFSET, 0); /* the word first, then the lock */
    int rc = ofd(r->fd, F_OFD_SETLK, F_UNLCK, PMR_WRITER_LOCK_BYTE);
    int e = errno;
    atomic_store_explicit(&r->lock_local, 0, memory_order_release);
    if (rc != 0) {
        errno = e;
        return sys_fail(err, "fcntl", "F_OFD_SETLK F_UNLCK on the writer lock byte");
    }
    return PMR_OK;
}

/* ---- SeqRecord (FORMAT.md §5) ---------------------------------------------------------------------------------- */
static int record_slice(pmr_region *r, uint64_t offset, uint64_t size, pmr_error *err) {
    if (offset % 8 != 0) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "record", "a SeqRecord needs an 8-byte aligned offset: offset=%llu",
                    (unsigned long long) offset);
    }
    uint64_t data = pmr_size(r);
    if (offset > data || size > data - offset) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "record", "a SeqRecord of %llu bytes at offset %llu does not fit the %llu-byte "
                    "data area of %s", (unsigned long long) size, (unsigned long long) offset, (unsigned long long) data, r->name);
    }
    return PMR_OK;
}

int pmr_record_attach(pmr_region *r, uint64_t offset, pmr_record *rec, pmr_error *err) {
    int rc = record_slice(r, offset, PMR_RECORD_SLOTS_OFFSET, err);
    if (rc != PMR_OK) {
        return rc;
    }
    unsigned char *at = (unsigned char *) pmr_data(r) + offset;
    uint64_t magic = load_acquire(at, PMR_RECORD_MAGIC_OFFSET);
    if ((magic & UINT64_C(0xFFFFFFFFFFFF)) != PMR_RECORD_MAGIC) {
        return fail(err, PMR_INCOMPATIBLE_REGION, 0, "record", "no SeqRecord at offset %llu of %s", (unsigned long long) offset, r->name);
    }
    if (magic != PMR_RECORD_MAGIC_AND_VERSION) {
        return fail(err, PMR_INCOMPATIBLE_REGION, 0, "record", "the SeqRecord at offset %llu of %s has layout version %llu; this "
                    "client reads version %d", (unsigned long long) offset, r->name, (unsigned long long) (magic >> 48),
                    PMR_RECORD_VERSION);
    }
    uint32_t payload = u32(at, PMR_RECORD_PAYLOAD_SIZE_OFFSET);
    if (payload < 1 || payload > PMR_RECORD_MAX_PAYLOAD || u32(at, PMR_RECORD_SLOT_STRIDE_OFFSET) != PMR_RECORD_SLOT_STRIDE(payload)) {
        return fail(err, PMR_CORRUPT_REGION, 0, "record", "the SeqRecord at offset %llu of %s has inconsistent sizes",
                    (unsigned long long) offset, r->name);
    }
    rc = record_slice(r, offset, PMR_RECORD_FOOTPRINT(payload), err);
    if (rc != PMR_OK) {
        return rc;
    }
    rec->region = r;
    rec->at = at;
    rec->offset = offset;
    rec->payload_size = payload;
    rec->stride = PMR_RECORD_SLOT_STRIDE(payload);
    rec->writing = -1;
    return PMR_OK;
}

int pmr_record_format(pmr_region *r, uint64_t offset, uint32_t payload, pmr_record *rec, pmr_error *err) {
    if (!writable(r)) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "record", "%s was opened read-only", r->name);
    }
    if (payload < 1 || payload > PMR_RECORD_MAX_PAYLOAD) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "record", "payload size must be in [1, %d]: payloadSize=%u", PMR_RECORD_MAX_PAYLOAD,
                    payload);
    }
    int rc = record_slice(r, offset, PMR_RECORD_FOOTPRINT(payload), err);
    if (rc != PMR_OK) {
        return rc;
    }
    unsigned char *at = (unsigned char *) pmr_data(r) + offset;
    memset(at, 0, PMR_RECORD_FOOTPRINT(payload));
    uint32_t stride = PMR_RECORD_SLOT_STRIDE(payload);
    memcpy(at + PMR_RECORD_PAYLOAD_SIZE_OFFSET, &payload, 4);
    memcpy(at + PMR_RECORD_SLOT_STRIDE_OFFSET, &stride, 4);
    store_release(at, PMR_RECORD_MAGIC_OFFSET, PMR_RECORD_MAGIC_AND_VERSION);
    return pmr_record_attach(r, offset, rec, err);
}

uint64_t pmr_record_version(const pmr_record *rec) {
    return load_acquire(rec->at, PMR_RECORD_PUBLISHED_OFFSET) >> 1;
}

uint64_t pmr_record_repaired(const pmr_record *rec) {
    return load_acquire(rec->at, PMR_RECORD_REPAIRED_OFFSET);
}

/* The payload is 8-aligned and its last word lies inside the slot (the stride rounds up to 64), so
 * it is copied in whole words with relaxed atomic loads and stores. */
static void copy_out(const unsigned char *payload, unsigned char *into, uint32_t size) {
    uint32_t i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t w = load_relaxed(payload, i);
        memcpy(into + i, &w, 8);
    }
    if (i < size) {
        uint64_t w = load_relaxed(payload, i);
        memcpy(into + i, &w, size - i);
    }
}

static void copy_in(unsigned char *payload, const unsigned char *from, uint32_t size) {
    uint32_t i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t w;
        memcpy(&w, from + i, 8);
        store_relaxed(payload, i, w);
    }
    if (i < size) { /* keep the slot's padding bytes as they are: only this writer writes the slot */
        uint64_t w = load_relaxed(payload, i);
        memcpy(&w, from + i, size - i);
        store_relaxed(payload, i, w);
    }
}

uint64_t pmr_record_read(const pmr_record *rec, void *into) {
    const unsigned char *at = rec->at;
    for (;;) {
        uint64_t published = load_acquire(at, PMR_RECORD_PUBLISHED_OFFSET);
        uint64_t slot = PMR_RECORD_SLOTS_OFFSET + (published & 1) * rec->stride;
        uint64_t before = load_acquire(at, slot + PMR_RECORD_SLOT_SEQUENCE_OFFSET);
        if ((before & 1) == 0) {
            copy_out(at + slot + PMR_RECORD_SLOT_PAYLOAD_OFFSET, into, rec->payload_size);
            atomic_thread_fence(memory_order_acquire); /* the copy's loads before the re-checks */
            uint64_t after = load_relaxed(at, slot + PMR_RECORD_SLOT_SEQUENCE_OFFSET);
            if (before == after && load_relaxed(at, PMR_RECORD_PUBLISHED_OFFSET) == published) {
                return published >> 1;
            }
        }
        cpu_relax();
    }
}

void *pmr_record_begin(pmr_record *rec, pmr_error *err) {
    if (!pmr_lock_held(rec->region)) {
        fail(err, PMR_INVALID_ARGUMENT, 0, "record", "writing a SeqRecord of %s needs its writer lock, held by this thread",
             rec->region->name);
        return NULL;
    }
    if (rec->writing >= 0) {
        fail(err, PMR_INVALID_ARGUMENT, 0, "record", "a write of this SeqRecord is already in progress: publish it first");
        return NULL;
    }
    unsigned char *at = rec->at;
    uint64_t published = load_acquire(at, PMR_RECORD_PUBLISHED_OFFSET);
    int target = (int) (published & 1) ^ 1;
    uint64_t slot = PMR_RECORD_SLOTS_OFFSET + (uint64_t) target * rec->stride;
    uint64_t sequence = load_acquire(at, slot + PMR_RECORD_SLOT_SEQUENCE_OFFSET);
    if (sequence & 1) { /* a writer died here mid-write; it was never published */
        atomic_fetch_add_explicit(word(at, PMR_RECORD_REPAIRED_OFFSET), 1, memory_order_acq_rel);
        sequence++;
    }
    store_relaxed(at, slot + PMR_RECORD_SLOT_SEQUENCE_OFFSET, sequence + 1); /* odd: being written */
    atomic_thread_fence(memory_order_release);                             /* ...before any payload byte changes */
    rec->writing = target;
    return at + slot + PMR_RECORD_SLOT_PAYLOAD_OFFSET;
}

int pmr_record_publish(pmr_record *rec, pmr_error *err) {
    if (rec->writing < 0 || !pmr_lock_held(rec->region)) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "record", "no write of this SeqRecord is in progress under the writer lock");
    }
    unsigned char *at = rec->at;
    uint64_t slot = PMR_RECORD_SLOTS_OFFSET + (uint64_t) rec->writing * rec->stride;
    uint64_t published = load_acquire(at, PMR_RECORD_PUBLISHED_OFFSET);
    store_release(at, slot + PMR_RECORD_SLOT_SEQUENCE_OFFSET, load_relaxed(at, slot + PMR_RECORD_SLOT_SEQUENCE_OFFSET) + 1);
    store_release(at, PMR_RECORD_PUBLISHED_OFFSET, (((published >> 1) + 1) << 1) | (uint64_t) rec->writing);
    rec->writing = -1;
    return PMR_OK;
}

int pmr_record_write(pmr_record *rec, const void *from, pmr_error *err) {
    unsigned char *payload = pmr_record_begin(rec, err);
    if (payload == NULL) {
        return err != NULL ? err->code : PMR_INVALID_ARGUMENT;
    }
    copy_in(payload, from, rec->payload_size);
    return pmr_record_publish(rec, err);
}
