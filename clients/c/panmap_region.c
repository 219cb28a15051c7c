/*
 * panmap_region.c: the C client of panmap regions. See panmap_region.h and docs/FORMAT.md.
 *
 * Every shared 8-byte word is accessed through C11 atomics with the ordering FORMAT.md gives for it;
 * SeqRecord payloads are copied with relaxed atomic word accesses bracketed by fences (the C11
 * formulation of a sequence lock: Boehm, "Can seqlocks get along with programming language memory
 * models?", 2012), so the protocol is free of data races in C11 terms and ThreadSanitizer checks it.
 */
#define _GNU_SOURCE
#define PMR_BUILDING_LIBRARY
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
#include <linux/futex.h>
#include <sys/syscall.h>

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

#define ATTACH_TIMEOUT_MS PMR_ATTACH_TIMEOUT_MS

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
/* isb, as HotSpot's Thread.onSpinWait on Neoverse and Ampere cores (and jmh/c/arch.h): those cores
 * complete yield as a nop */
#define cpu_relax() __asm__ __volatile__("isb")
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
    int anywhere;                /* the span was placed by the system (not at a chosen base) */
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

const char *pmr_version(int *major, int *minor, int *patch) {
    if (major != NULL) {
        *major = PMR_VERSION_MAJOR;
    }
    if (minor != NULL) {
        *minor = PMR_VERSION_MINOR;
    }
    if (patch != NULL) {
        *patch = PMR_VERSION_PATCH;
    }
    return PMR_VERSION_STRING;
}

/* The portable kind of an errno: the table of FORMAT.md §7.1, which is the Java side's Errno. */
static int kind_of(int e) {
    switch (e) {
    case ENOENT: case ESRCH: case ENXIO: case ENOTDIR: return PMR_NOT_FOUND;
    case EEXIST: return PMR_ALREADY_EXISTS;
    case EACCES: case EPERM: case EROFS: return PMR_PERMISSION_DENIED;
    case ENOSPC: case EDQUOT: case EFBIG: return PMR_NO_SPACE;
    case ENOMEM: return PMR_NO_MEMORY;
    case EMFILE: case ENFILE: case ENOLCK: return PMR_LIMIT_REACHED;
    case EINVAL: case ENAMETOOLONG: case EBADF: case EFAULT: case EISDIR: case ESPIPE: case ELOOP: case EOVERFLOW:
        return PMR_INVALID_ARGUMENT;
    case EAGAIN: case EBUSY: case ETXTBSY: case EDEADLK: return PMR_WOULD_BLOCK;
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
#define PMR_CREATED_FILE 0x100 /* a handle flag of its own: this handle created a file region */

static long page_size(void) {
    return sysconf(_SC_PAGESIZE);
}

/*
 * Reads /proc/self/maps for ADDRESS: the line that covers it into LINE (CAP bytes; "" if none), and the run
 * of adjacent mappings that holds it into [*FROM, *TO) when FROM is not NULL. {@return 1 if a mapping covers it}
 */
static int maps_at(uint64_t address, char *line, size_t cap, uint64_t *from, uint64_t *to) {
    if (cap > 0) {
        line[0] = '\0';
    }
    FILE *f = fopen("/proc/self/maps", "re");
    if (f == NULL) {
        return 0;
    }
    char text[512];
    uint64_t lo = 0, hi = 0;
    int found = 0;
    while (fgets(text, sizeof text, f) != NULL) {
        unsigned long long a, b;
        if (sscanf(text, "%llx-%llx", &a, &b) != 2) {
            continue;
        }
        if (a != hi && found) {
            break; /* the run that holds ADDRESS ended */
        }
        lo = a == hi ? lo : a;
        hi = b;
        if (!found && address >= a && address < b) {
            found = 1;
            text[strcspn(text, "\n")] = '\0';
            snprintf(line, cap, "%s", text);
        }
    }
    fclose(f);
    if (from != NULL) {
        *from = lo;
        *to = hi;
    }
    return found;
}

/* ---- the address ranges this process keeps (FORMAT.md §8, "close") ------------------------------------------
 * A closed region's span stays mapped as a read-only zero reservation (MAP_NORESERVE: no memory), so a
 * thread still reading through a pointer into it reads zeros instead of faulting. The book below lists
 * those ranges so that later regions reuse them: a DIRECT region maps over a kept range at its base
 * (MAP_FIXED_NOREPLACE would refuse our own reservation), and a region mapped anywhere takes the first
 * kept "anywhere" range that fits. The address space held so stays bounded by what was open at once.
 * A spin lock guards the book: its critical sections are a few compares and, at most, mmap calls. */
#define BOOK_MAX 256
typedef struct kept {
    uint64_t start, end;
    int anywhere; /* placed by the system (an OFFSET mapping), not at a chosen base */
} kept;
static kept book[BOOK_MAX];
static int book_used;
static atomic_flag book_busy = ATOMIC_FLAG_INIT;

static void book_lock(void) {
    while (atomic_flag_test_and_set_explicit(&book_busy, memory_order_acquire)) {
        cpu_relax();
    }
}

static void book_unlock(void) {
    atomic_flag_clear_explicit(&book_busy, memory_order_release);
}

/* Adds [start, end) (caller holds the lock); a full book forgets the range (the reservation stays). */
static void book_add(uint64_t start, uint64_t end, int anywhere) {
    if (start < end && book_used < BOOK_MAX) {
        book[book_used++] = (kept) {start, end, anywhere};
    }
}

static void book_remove(int i) {
    book[i] = book[--book_used];
}

/* Takes [start, end) out of the book where it overlaps kept ranges (caller holds the lock); {@return
 * 1 if the whole range was kept} */
static int book_take(uint64_t start, uint64_t end) {
    uint64_t covered = 0;
    for (int i = 0; i < book_used;) {
        kept k = book[i];
        if (k.end <= start || k.start >= end) {
            i++;
            continue;
        }
        book_remove(i);
        covered += (k.end < end ? k.end : end) - (k.start > start ? k.start : start);
        book_add(k.start, start > k.start ? start : k.start, k.anywhere); /* what is left on either side */
        book_add(end < k.end ? end : k.end, k.end, k.anywhere);
    }
    return covered == end - start;
}

/* {@return 1 if [start, end) lies wholly in kept ranges, or overlaps some and this call reserved the
 * free gaps between them (so that the whole range is ours now)} (caller holds the lock) */
static int book_covers(uint64_t start, uint64_t end) {
    uint64_t covered = 0;
    for (int i = 0; i < book_used; i++) {
        if (book[i].end > start && book[i].start < end) {
            covered += (book[i].end < end ? book[i].end : end) - (book[i].start > start ? book[i].start : start);
        }
    }
    if (covered == 0 || covered == end - start) {
        return covered != 0;
    }
    /* part kept, part free: reserve each free gap (NOREPLACE: only free space), in address order */
    uint64_t at = start, made[BOOK_MAX][2];
    int n = 0;
    while (at < end) {
        uint64_t next_kept = end, kept_end = end;
        for (int i = 0; i < book_used; i++) {
            if (book[i].end > at && book[i].start < next_kept) {
                next_kept = book[i].start > at ? book[i].start : at;
                kept_end = book[i].end;
            }
        }
        if (next_kept > at) {
            void *p = mmap((void *) (uintptr_t) at, next_kept - at, PROT_READ, RESERVATION | MAP_FIXED_NOREPLACE, -1, 0);
            if (p == MAP_FAILED || p != (void *) (uintptr_t) at || n == BOOK_MAX) {
                if (p != MAP_FAILED) {
                    munmap(p, next_kept - at);
                }
                for (int i = 0; i < n; i++) {
                    munmap((void *) (uintptr_t) made[i][0], made[i][1]);
                }
                return 0;
            }
            made[n][0] = at;
            made[n++][1] = next_kept - at;
        }
        at = kept_end < end ? kept_end : end;
    }
    return 1;
}

/* Replaces [at, at + span) with a read-only zero reservation and books it for reuse. */
static void keep_span(void *at, uint64_t span, int anywhere) {
    book_lock();
    if (mmap(at, span, PROT_READ, RESERVATION | MAP_FIXED, -1, 0) != MAP_FAILED) {
        book_add((uint64_t) (uintptr_t) at, (uint64_t) (uintptr_t) at + span, anywhere);
    }
    book_unlock();
}

/* ---- sanitizers (FORMAT.md §8) ---------------------------------------------------------------------------------
 * Noticed at run time through their runtimes' entry points, weak so that an ordinary program links. */
extern void __asan_init(void) __attribute__((weak));
extern void __tsan_init(void) __attribute__((weak));
extern void __asan_get_shadow_mapping(size_t *shadow_scale, size_t *shadow_offset) __attribute__((weak));

/*
 * Where ASan keeps its shadow and its allocator depends on the architecture and the runtime's version
 * (x86_64 with GCC 12: shadow up to 0x10007fff8000, allocator at 0x600000000000; aarch64 with GCC 14: up
 * to 0x101000000000 or 0x201000000000, allocator at 0x500000000000). Both are reserved when ASan starts,
 * so they are read once, from this process's mappings: the shadow's from the offset ASan reports up, the
 * allocator's around a chunk malloc returns.
 */
static struct {
    uint64_t shadow_end, heap_from, heap_to;
} asan;

/* Run when the library is loaded, after ASan's own start (its runtime initialises first): no thread of
 * the program can call in before, so the ranges need no lock. */
__attribute__((constructor)) static void read_asan_ranges(void) {
    if (__asan_init == NULL) {
        return;
    }
    size_t scale = 3, offset = 0;
    uint64_t shadow_from = 0;
    char line[512];
    if (__asan_get_shadow_mapping != NULL) {
        __asan_get_shadow_mapping(&scale, &offset);
    }
    if (offset == 0 || !maps_at(offset, line, sizeof line, &shadow_from, &asan.shadow_end)) {
        asan.shadow_end = UINT64_C(0x10007fff8000); /* x86_64's, for a runtime without the query */
    }
    void *chunk = malloc(16);
    if (chunk == NULL || !maps_at((uint64_t) (uintptr_t) chunk, line, sizeof line, &asan.heap_from, &asan.heap_to)) {
        asan.heap_from = asan.heap_to = 0;
    }
    free(chunk);
}

/* {@return NULL if [start, end) may hold a fixed mapping under the running sanitizer, else why not} */
static const char *sanitizer_conflict(uint64_t start, uint64_t end, char *why, size_t cap) {
    if (__asan_init != NULL) {
        if (start < asan.shadow_end || (start < asan.heap_to && end > asan.heap_from)) {
            snprintf(why, cap, "this program runs under AddressSanitizer, which keeps its shadow memory below 0x%llx and "
                     "its allocator at [0x%llx, 0x%llx)", (unsigned long long) asan.shadow_end, (unsigned long long) asan.heap_from,
                     (unsigned long long) asan.heap_to);
            return why;
        }
    } else if (__tsan_init != NULL) {
#if defined(__x86_64__)
        /* GCC's ThreadSanitizer on x86_64 lets an application map only these ranges and dies on any other */
        static const uint64_t app[][2] = {{UINT64_C(0x1000), UINT64_C(0x8000000000)},
                                          {UINT64_C(0x550000000000), UINT64_C(0x568000000000)},
                                          {UINT64_C(0x7e8000000000), UINT64_C(0x800000000000)}};
        for (size_t i = 0; i < sizeof app / sizeof app[0]; i++) {
            if (start >= app[i][0] && end <= app[i][1]) {
                return NULL;
            }
        }
        snprintf(why, cap, "this program runs under ThreadSanitizer, which allows application mappings only in [0x1000, "
                 "0x8000000000), [0x550000000000, 0x568000000000) and [0x7e8000000000, 0x800000000000)");
        return why;
#endif
    }
    return NULL;
}

/* The first base pmr_create() tries for a DIRECT region: Java's default, or one the sanitizer leaves free
 * for the 64 slots tried from it (Java's default, then 16 and 32 TiB below it). */
static uint64_t default_base(void) {
    if (__asan_init != NULL) {
        char why[300];
        for (uint64_t below = 0; below <= UINT64_C(0x200000000000); below += UINT64_C(0x100000000000)) {
            uint64_t base = PMR_DEFAULT_DIRECT_BASE - below;
            if (sanitizer_conflict(base, base + (UINT64_C(64) << 36), why, sizeof why) == NULL) {
                return base;
            }
        }
    }
#if defined(__x86_64__)
    if (__tsan_init != NULL) {
        return UINT64_C(0x7e8000000000);
    }
#endif
    return PMR_DEFAULT_DIRECT_BASE;
}

/* Keeps SPAN bytes of address space (at FIXED, or anywhere if 0) and maps SIZE bytes of the object
 * over its start. A range this process kept from a closed region is reused. */
static int map_region(pmr_region *r, uint64_t size, uint64_t span, uint64_t fixed, int prot, pmr_error *err) {
    void *want = (void *) (uintptr_t) fixed;
    void *at = MAP_FAILED;
    char why[300];
    if (fixed != 0 && (fixed > PMR_USER_SPACE_END || span > PMR_USER_SPACE_END - fixed)) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "mmap", "%s: base 0x%llx + %llu bytes passes the end of user address space",
                    r->name, (unsigned long long) fixed, (unsigned long long) span);
    }
    if (fixed != 0 && sanitizer_conflict(fixed, fixed + span, why, sizeof why) != NULL) {
        return fail(err, PMR_ADDRESS_IN_USE, 0, "mmap", "%s is a DIRECT region at base 0x%llx (%llu bytes kept), and %s: open it with "
                    "PMR_ALLOW_OFFSET_FALLBACK (or PMR_OFFSET_MODE) to map it elsewhere, or create it at another base",
                    r->name, (unsigned long long) fixed, (unsigned long long) span, why);
    }
    book_lock();
    if (fixed != 0 && book_covers(fixed, fixed + span)) { /* our own reservation: map over it */
        at = mmap(want, span, PROT_READ, RESERVATION | MAP_FIXED, -1, 0);
        if (at != MAP_FAILED) {
            book_take(fixed, fixed + span);
        }
    } else if (fixed == 0) {
        for (int i = 0; i < book_used; i++) {
            if (book[i].anywhere && book[i].end - book[i].start >= span) {
                uint64_t start = book[i].start;
                at = mmap((void *) (uintptr_t) start, span, PROT_READ, RESERVATION | MAP_FIXED, -1, 0);
                if (at != MAP_FAILED) {
                    book_take(start, start + span);
                }
                break;
            }
        }
    }
    book_unlock();
    if (at == MAP_FAILED) {
        at = mmap(want, span, PROT_READ, RESERVATION | (fixed != 0 ? MAP_FIXED_NOREPLACE : 0), -1, 0);
    }
    if (at == MAP_FAILED) {
        int e = errno;
        if (fixed != 0 && e == EEXIST) {
            char line[512];
            maps_at(fixed, line, sizeof line, NULL, NULL);
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
    r->anywhere = fixed == 0;
    if (mmap(at, size, prot, MAP_SHARED | MAP_FIXED, r->fd, 0) == MAP_FAILED) {
        int e = errno;
        keep_span(at, span, fixed == 0);
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
    } else if (v->span < v->region_size || v->span > PMR_MAX_RESERVED_SPAN || v->span % page != 0) {
        snprintf(bad, sizeof bad, "reserved span %llu is smaller than the region (%llu), not whole pages, or more than %llu bytes",
                 (unsigned long long) v->span, (unsigned long long) v->region_size, (unsigned long long) PMR_MAX_RESERVED_SPAN);
    } else if (v->current < v->region_size || v->current > v->span || v->current % page != 0) {
        snprintf(bad, sizeof bad, "current size %llu is not whole pages between the size at creation (%llu) and the span (%llu)",
                 (unsigned long long) v->current, (unsigned long long) v->region_size, (unsigned long long) v->span);
    } else if (v->addressing != PMR_ADDRESSING_OFFSET_MODE && v->addressing != PMR_ADDRESSING_DIRECT_MODE) {
        snprintf(bad, sizeof bad, "unknown addressing mode %u", v->addressing);
    } else if (v->addressing == PMR_ADDRESSING_DIRECT_MODE
               && (v->base < PMR_MIN_DIRECT_BASE || v->base % page != 0 || v->base > PMR_USER_SPACE_END - v->span)) {
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
            /* The creator holds the writer lock from before it stores its pid until after the magic (FORMAT.md
             * §3.1): a pid with the lock free means the creator died, unless it published and let go since our
             * look at the magic (so look again after the lock). No pid is compared. */
            int dead = 0;
            if (magic == 0 && creator != 0) {
                int held = ofd_held_elsewhere(r->fd, PMR_WRITER_LOCK_BYTE);
                if (held < 0) {
                    int e = errno;
                    munmap(peek, peek_size);
                    errno = e;
                    return sys_fail(err, "fcntl", "F_OFD_GETLK on the writer lock byte");
                }
                dead = !held && load_acquire(peek, PMR_MAGIC_OFFSET) == 0;
            }
            munmap(peek, peek_size);
            if (magic != 0) {
                return fail(err, PMR_INCOMPATIBLE_REGION, 0, "validate", "%s is not a panmap region (its first 8 bytes are 0x%llx, "
                            "a panmap header starts with 0x%llx)", r->name, (unsigned long long) magic,
                            (unsigned long long) PMR_MAGIC);
            }
            if (dead) {
                return fail(err, PMR_CORRUPT_REGION, 0, "validate", "%s was never finished: its creator (pid %d) died during "
                            "creation (the writer lock it holds while creating is free); remove it and create it again", r->name, creator);
            }
            snprintf(waiting, sizeof waiting, "%s has no panmap header yet (creator pid %d)", r->name, creator);
        }
        if (fstat(r->fd, &st) == 0 && st.st_nlink == 0) { /* removed: a failed creation, or someone, unlinked it */
            return fail(err, PMR_NOT_FOUND, 0, "validate", "%s was removed while this process waited for its header", r->name);
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
    /* O_NONBLOCK: a FIFO must not hang the open (its type is refused right after); O_NOFOLLOW: a symbolic
     * link is refused, never followed (glibc's shm_open adds O_NOFOLLOW itself). FORMAT.md §7. */
    r->fd = shm ? shm_open(path, oflags | O_CLOEXEC | O_NONBLOCK, mode)
                : open(path, oflags | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW, mode);
    if (r->fd < 0) {
        int e = errno;
        return fail(err, kind_of(e), e, shm ? "shm_open" : "open", "opening %s%s", path,
                    e == ELOOP ? ": it is a symbolic link, which a region is never opened through" : "");
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
    if (span > PMR_MAX_RESERVED_SPAN) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "create", "creating %s: a reserved span of %llu bytes is more than %llu", r->name,
                    (unsigned long long) span, (unsigned long long) PMR_MAX_RESERVED_SPAN);
    }
    /* the writer lock, before the object has a size and until its header is published: it tells a waiting
     * attacher that the creator is alive (FORMAT.md §3.1); no holder is recorded */
    if (ofd_try(r->fd, PMR_WRITER_LOCK_BYTE) != 1) {
        return sys_fail(err, "fcntl", "F_OFD_SETLK on the writer lock byte of a new object");
    }
    if (fchmod(r->fd, o->mode == 0 ? 0600 : o->mode) != 0) {
        return sys_fail(err, "fchmod", r->name);
    }
    if (ftruncate(r->fd, (off_t) size) != 0) {
        return sys_fail(err, "ftruncate", r->name);
    }
    uint64_t base = 0;
    int rc;
    if (!o->direct) {
        rc = map_region(r, size, span, 0, PROT_READ | PROT_WRITE, err);
    } else if (o->base != 0) {
        base = o->base;
        rc = map_region(r, size, span, base, PROT_READ | PROT_WRITE, err);
    } else { /* as Java: the first free of 64 slots 64 GiB apart (or span-sized, if larger) */
        uint64_t step = span > (UINT64_C(1) << 36) ? (span + (UINT64_C(1) << 36) - 1) & ~((UINT64_C(1) << 36) - 1) : UINT64_C(1) << 36;
        rc = PMR_ADDRESS_IN_USE;
        for (int i = 0; i < 64 && rc == PMR_ADDRESS_IN_USE; i++) {
            base = default_base() + (uint64_t) i * step;
            rc = map_region(r, size, span, base, PROT_READ | PROT_WRITE, err);
        }
    }
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
    if (r->flags & PMR_CREATED_FILE) { /* a new file region survives a power loss from here on */
        msync(h, header, MS_SYNC);
        fsync(r->fd);
    }
    ofd(r->fd, F_OFD_SETLK, F_UNLCK, PMR_WRITER_LOCK_BYTE);
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
    if (!shm) {
        r->flags |= PMR_CREATED_FILE;
    }
    rc = create_common(r, o, err);
    if (rc != PMR_OK) { /* remove the object, and only it: the name may name another object by now */
        struct stat mine, named;
        char dev_shm[300];
        snprintf(dev_shm, sizeof dev_shm, "/dev/shm%s", path);
        if (fstat(r->fd, &mine) == 0 && lstat(shm ? dev_shm : path, &named) == 0 && mine.st_dev == named.st_dev
            && mine.st_ino == named.st_ino) {
            if (shm) {
                shm_unlink(path);
            } else {
                unlink(path);
            }
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
        keep_span(r->map, r->span, r->anywhere); /* zeros, not a fault, for a reader still holding a pointer */
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

/*
 * The reader of FORMAT.md §5, bounded against damage: a published slot whose sequence is odd is never
 * left so by a writer (a writer writes only the other slot), so when the same published word keeps
 * naming an odd slot, the reader asks the kernel whether anyone holds the writer lock. Nobody: the
 * record is damaged (PMR_CORRUPT_REGION). Somebody: a live writer may yet repair it, so the reader
 * waits for it, pausing, until its deadline (none for pmr_record_read).
 */
#define READ_SPINS 1024 /* retries before a look at the writer lock */

static int record_read(const pmr_record *rec, void *into, long timeout_ms, uint64_t *version, pmr_error *err) {
    const unsigned char *at = rec->at;
    uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : monotonic_ms() + (uint64_t) timeout_ms;
    uint64_t stuck = UINT64_MAX; /* the published word last seen naming an odd slot */
    long pause = 1000;
    for (uint64_t tries = 1;; tries++) {
        uint64_t published = load_acquire(at, PMR_RECORD_PUBLISHED_OFFSET);
        uint64_t slot = PMR_RECORD_SLOTS_OFFSET + (published & 1) * rec->stride;
        uint64_t before = load_acquire(at, slot + PMR_RECORD_SLOT_SEQUENCE_OFFSET);
        if ((before & 1) == 0) {
            copy_out(at + slot + PMR_RECORD_SLOT_PAYLOAD_OFFSET, into, rec->payload_size);
            atomic_thread_fence(memory_order_acquire); /* the copy's loads before the re-checks */
            uint64_t after = load_relaxed(at, slot + PMR_RECORD_SLOT_SEQUENCE_OFFSET);
            if (before == after && load_relaxed(at, PMR_RECORD_PUBLISHED_OFFSET) == published) {
                if (version != NULL) {
                    *version = published >> 1;
                }
                return PMR_OK;
            }
            stuck = UINT64_MAX;
        } else if (published != stuck) {
            stuck = published;
            tries = 1;
        }
        if (tries % READ_SPINS == 0) {
            if (monotonic_ms() >= deadline) {
                return fail(err, PMR_WOULD_BLOCK, 0, "read", "the SeqRecord at offset %llu of %s gave no consistent copy within %ld ms "
                            "(a writer keeps changing it)", (unsigned long long) rec->offset, rec->region->name, timeout_ms);
            }
            if (stuck != UINT64_MAX) {
                int held = ofd_held_elsewhere(rec->region->fd, PMR_WRITER_LOCK_BYTE);
                if (held == 0 && load_acquire(at, PMR_RECORD_PUBLISHED_OFFSET) == stuck
                    && (load_acquire(at, slot + PMR_RECORD_SLOT_SEQUENCE_OFFSET) & 1) != 0
                    && atomic_load_explicit(&rec->region->lock_owner, memory_order_acquire) == 0) {
                    return fail(err, PMR_CORRUPT_REGION, 0, "read", "the SeqRecord at offset %llu of %s is damaged: its published slot %llu "
                                "has the odd sequence %llu (being written) and no process holds the writer lock", (unsigned long long) rec->offset,
                                rec->region->name, (unsigned long long) (stuck & 1),
                                (unsigned long long) load_relaxed(at, slot + PMR_RECORD_SLOT_SEQUENCE_OFFSET));
                }
                pause_ns(pause); /* a live writer holds the lock: wait for it without burning a core */
                pause = pause * 2 > 1000000 ? 1000000 : pause * 2;
            }
        }
        cpu_relax();
    }
}

int pmr_record_read(const pmr_record *rec, void *into, uint64_t *version, pmr_error *err) {
    return record_read(rec, into, -1, version, err);
}

int pmr_record_read_timed(const pmr_record *rec, void *into, long timeout_ms, uint64_t *version, pmr_error *err) {
    return record_read(rec, into, timeout_ms, version, err);
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

/* ---- structures, read side (FORMAT.md §6) ------------------------------------------------------------------
 * A reference is followed only after node_at() has checked it: 8-aligned, and a whole node of FOOTPRINT
 * bytes inside the data area mapped now. Loops count their hops against the most nodes the data area
 * holds (a longer walk can only be a cycle) or, for a hash probe, against the capacity. */
CHECK_OFFSET(pmr_list, root, 8); /* the handles are part of the ABI: keep their layout */

static int structure_root(const pmr_region *r, uint64_t root, uint64_t magic, uint32_t version, const char *what, pmr_error *err) {
    uint64_t size = pmr_size(r);
    if (root % PMR_STRUCTURE_ALIGNMENT != 0 || root > size || size - root < 64) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, what, "a %s root must be an 8-aligned data offset with 64 bytes inside the %llu-byte "
                    "data area of %s: root=%llu", what, (unsigned long long) size, r->name, (unsigned long long) root);
    }
    const unsigned char *at = (const unsigned char *) pmr_data(r) + root;
    uint64_t found = load_acquire(at, PMR_STRUCTURE_MAGIC_OFFSET);
    if (found != magic) {
        return fail(err, PMR_INCOMPATIBLE_REGION, 0, what, "no %s at data offset %llu of %s: magic 0x%llx, expected 0x%llx", what,
                    (unsigned long long) root, r->name, (unsigned long long) found, (unsigned long long) magic);
    }
    uint32_t v = u32(at, PMR_STRUCTURE_VERSION_OFFSET);
    if (v != version) {
        return fail(err, PMR_INCOMPATIBLE_REGION, 0, what, "the %s at data offset %llu of %s has layout version %u; this client reads "
                    "version %u", what, (unsigned long long) root, r->name, v, version);
    }
    return PMR_OK;
}

/* {@return the node a reference denotes in this process, or NULL (the reference is damaged: err filled)} */
static const unsigned char *node_at(const pmr_region *r, uint64_t ref, uint64_t footprint, const char *what, uint64_t root,
                                    const char *where, pmr_error *err) {
    uint64_t offset = ref - r->stored_data_base; /* wraps for a reference below the data area: caught below */
    uint64_t size = pmr_size(r);
    if (offset % 8 != 0 || offset > size || footprint > size - offset) {
        fail(err, PMR_CORRUPT_REGION, 0, what, "the %s at data offset %llu of %s is damaged: %s holds 0x%llx, which is not an "
             "8-aligned reference to %llu bytes inside the %llu-byte data area", what, (unsigned long long) root, r->name, where,
             (unsigned long long) ref, (unsigned long long) footprint, (unsigned long long) size);
        return NULL;
    }
    return r->map + r->header_size + offset;
}

static int cycle(const pmr_region *r, const char *what, uint64_t root, uint64_t hops, pmr_error *err) {
    return fail(err, PMR_CORRUPT_REGION, 0, what, "the %s at data offset %llu of %s is damaged: it goes on for more than %llu nodes, "
                "more than the data area holds (a cycle)", what, (unsigned long long) root, r->name, (unsigned long long) hops);
}

static const unsigned char *root_at(const pmr_region *r, uint64_t root) {
    return (const unsigned char *) pmr_data(r) + root;
}

int pmr_list_attach(const pmr_region *r, uint64_t root, pmr_list *list, pmr_error *err) {
    int rc = structure_root(r, root, PMR_LIST_MAGIC, PMR_LIST_VERSION, "node list", err);
    if (rc != PMR_OK) {
        return rc;
    }
    uint32_t node_size = u32(root_at(r, root), PMR_LIST_NODE_SIZE_OFFSET);
    if (node_size < PMR_LIST_MIN_NODE_SIZE || node_size % PMR_STRUCTURE_ALIGNMENT != 0 || node_size > pmr_size(r)) {
        return fail(err, PMR_CORRUPT_REGION, 0, "node list", "the node list at data offset %llu of %s is damaged: node size %u",
                    (unsigned long long) root, r->name, node_size);
    }
    list->region = r;
    list->root = root;
    list->node_size = node_size;
    list->max_nodes = pmr_size(r) / node_size;
    return PMR_OK;
}

uint64_t pmr_list_count(const pmr_list *list) {
    return load_acquire(root_at(list->region, list->root), PMR_LIST_COUNT_OFFSET);
}

int pmr_list_first(const pmr_list *list, uint64_t *node, pmr_error *err) {
    uint64_t first = load_acquire(root_at(list->region, list->root), PMR_LIST_FIRST_OFFSET);
    if (first != 0 && node_at(list->region, first, list->node_size, "node list", list->root, "its first reference", err) == NULL) {
        return PMR_CORRUPT_REGION;
    }
    *node = first;
    return PMR_OK;
}

int pmr_list_next(const pmr_list *list, uint64_t node, uint64_t *next, pmr_error *err) {
    const unsigned char *n = node_at(list->region, node, list->node_size, "node list", list->root, "the node passed", err);
    if (n == NULL) {
        err != NULL ? (void) (err->code = PMR_INVALID_ARGUMENT) : (void) 0;
        return PMR_INVALID_ARGUMENT;
    }
    uint64_t ref = load_acquire(n, PMR_LIST_NODE_NEXT_OFFSET);
    if (ref != 0 && node_at(list->region, ref, list->node_size, "node list", list->root, "a next reference", err) == NULL) {
        return PMR_CORRUPT_REGION;
    }
    *next = ref;
    return PMR_OK;
}

int pmr_list_value(const pmr_list *list, uint64_t node, int64_t *value, const void **payload, pmr_error *err) {
    const unsigned char *n = node_at(list->region, node, list->node_size, "node list", list->root, "the node passed", err);
    if (n == NULL) {
        err != NULL ? (void) (err->code = PMR_INVALID_ARGUMENT) : (void) 0;
        return PMR_INVALID_ARGUMENT;
    }
    if (value != NULL) {
        *value = (int64_t) load_relaxed(n, PMR_LIST_NODE_PAYLOAD_OFFSET);
    }
    if (payload != NULL) {
        *payload = n + PMR_LIST_NODE_PAYLOAD_OFFSET;
    }
    return PMR_OK;
}

int pmr_list_walk(const pmr_list *list, int (*visit)(void *, uint64_t, int64_t), void *context, uint64_t *count, int64_t *sum,
                  pmr_error *err) {
    uint64_t node, hops = 0;
    uint64_t total = 0;
    int rc = pmr_list_first(list, &node, err);
    while (rc == PMR_OK && node != 0) {
        if (++hops > list->max_nodes) {
            rc = cycle(list->region, "node list", list->root, list->max_nodes, err);
            break;
        }
        const unsigned char *n = list->region->map + list->region->header_size + (node - list->region->stored_data_base);
        int64_t value = (int64_t) load_relaxed(n, PMR_LIST_NODE_PAYLOAD_OFFSET);
        total += (uint64_t) value;
        if (visit != NULL && visit(context, node, value) != 0) {
            break;
        }
        uint64_t next = load_acquire(n, PMR_LIST_NODE_NEXT_OFFSET);
        if (next != 0 && node_at(list->region, next, list->node_size, "node list", list->root, "a next reference", err) == NULL) {
            rc = PMR_CORRUPT_REGION;
        }
        node = next;
    }
    if (count != NULL) {
        *count = hops;
    }
    if (sum != NULL) {
        *sum = (int64_t) total;
    }
    return rc;
}

uint64_t pmr_hash_of(int64_t key) {
    uint64_t h = (uint64_t) key;
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

int pmr_hash_attach(const pmr_region *r, uint64_t root, pmr_hash *hash, pmr_error *err) {
    int rc = structure_root(r, root, PMR_HASH_MAGIC, PMR_HASH_VERSION, "hash index", err);
    if (rc != PMR_OK) {
        return rc;
    }
    const unsigned char *at = root_at(r, root);
    uint64_t capacity = load_relaxed(at, PMR_HASH_CAPACITY_OFFSET);
    uint64_t ref = load_relaxed(at, PMR_HASH_TABLE_OFFSET);
    uint64_t size = pmr_size(r);
    uint64_t table = ref - r->stored_data_base;
    if (capacity < 4 || (capacity & (capacity - 1)) != 0 || capacity > size / PMR_HASH_SLOT_SIZE || table % 8 != 0 || table > size
        || table > size - capacity * PMR_HASH_SLOT_SIZE) {
        return fail(err, PMR_CORRUPT_REGION, 0, "hash index", "the hash index at data offset %llu of %s is damaged: capacity %llu, "
                    "table reference 0x%llx", (unsigned long long) root, r->name, (unsigned long long) capacity, (unsigned long long) ref);
    }
    hash->region = r;
    hash->root = root;
    hash->capacity = capacity;
    hash->table = table;
    return PMR_OK;
}

uint64_t pmr_hash_count(const pmr_hash *hash) {
    return load_acquire(root_at(hash->region, hash->root), PMR_HASH_COUNT_OFFSET);
}

int pmr_hash_get(const pmr_hash *hash, int64_t key, int64_t *value, int *found, pmr_error *err) {
    if (key == 0) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "hash index", "key 0 is reserved: it marks an empty slot of a HashIndex");
    }
    const unsigned char *table = root_at(hash->region, hash->table);
    uint64_t mask = hash->capacity - 1;
    uint64_t i = pmr_hash_of(key) & mask;
    for (uint64_t probes = 0; probes < hash->capacity; probes++, i = (i + 1) & mask) {
        uint64_t k = load_acquire(table, i * PMR_HASH_SLOT_SIZE + PMR_HASH_SLOT_KEY_OFFSET); /* value after key: acquire */
        if (k == (uint64_t) key) {
            *found = 1;
            if (value != NULL) {
                *value = (int64_t) load_relaxed(table, i * PMR_HASH_SLOT_SIZE + PMR_HASH_SLOT_VALUE_OFFSET);
            }
            return PMR_OK;
        }
        if (k == 0) {
            *found = 0;
            return PMR_OK;
        }
    }
    *found = 0;
    return fail(err, PMR_CORRUPT_REGION, 0, "hash index", "the hash index at data offset %llu of %s is damaged: all %llu slots hold "
                "other keys, and a table is kept at most 3/4 full", (unsigned long long) hash->root, hash->region->name,
                (unsigned long long) hash->capacity);
}

static uint64_t skip_node_size(int level) {
    return PMR_SKIP_NODE_NEXT_OFFSET + 8u * (uint64_t) level;
}

int pmr_skip_attach(const pmr_region *r, uint64_t root, pmr_skip *skip, pmr_error *err) {
    int rc = structure_root(r, root, PMR_SKIP_MAGIC, PMR_SKIP_VERSION, "skip list", err);
    if (rc != PMR_OK) {
        return rc;
    }
    const unsigned char *at = root_at(r, root);
    int max_level = (int) u32(at, PMR_SKIP_MAX_LEVEL_OFFSET);
    uint64_t head = load_relaxed(at, PMR_SKIP_HEAD_OFFSET);
    if (max_level < 1 || max_level > PMR_SKIP_MAX_LEVEL) {
        return fail(err, PMR_CORRUPT_REGION, 0, "skip list", "the skip list at data offset %llu of %s is damaged: %d levels",
                    (unsigned long long) root, r->name, max_level);
    }
    if (node_at(r, head, skip_node_size(max_level), "skip list", root, "its head reference", err) == NULL) {
        return PMR_CORRUPT_REGION;
    }
    skip->region = r;
    skip->root = root;
    skip->head = head;
    skip->max_level = max_level;
    skip->max_nodes = pmr_size(r) / skip_node_size(1);
    return PMR_OK;
}

uint64_t pmr_skip_count(const pmr_skip *skip) {
    return load_acquire(root_at(skip->region, skip->root), PMR_SKIP_COUNT_OFFSET);
}

/* The level-LEVEL successor of a checked node (one with more than LEVEL levels), itself checked to have
 * more than LEVEL levels' room; 0 at the end. */
static int skip_next(const pmr_skip *s, uint64_t node, int level, uint64_t *next, pmr_error *err) {
    const unsigned char *n = s->region->map + s->region->header_size + (node - s->region->stored_data_base);
    uint64_t ref = load_acquire(n, PMR_SKIP_NODE_NEXT_OFFSET + 8u * (uint64_t) level);
    if (ref != 0) {
        char where[64];
        snprintf(where, sizeof where, "a level-%d reference", level);
        if (node_at(s->region, ref, skip_node_size(level + 1), "skip list", s->root, where, err) == NULL) {
            return PMR_CORRUPT_REGION;
        }
    }
    *next = ref;
    return PMR_OK;
}

static int64_t skip_field(const pmr_skip *s, uint64_t node, uint64_t field) {
    return (int64_t) load_relaxed(s->region->map + s->region->header_size + (node - s->region->stored_data_base), field);
}

/* The last node whose key is below KEY (at most KEY when INCLUSIVE), or the head: FORMAT.md §6.4. */
static int skip_lower(const pmr_skip *s, int64_t key, int inclusive, uint64_t *out, uint64_t *hops, pmr_error *err) {
    int top = (int) u32(root_at(s->region, s->root), PMR_SKIP_TOP_LEVEL_OFFSET);
    atomic_thread_fence(memory_order_acquire);
    top = top < 1 ? 1 : top > s->max_level ? s->max_level : top;
    uint64_t x = s->head;
    for (int i = top - 1; i >= 0; i--) {
        for (;;) {
            uint64_t n;
            int rc = skip_next(s, x, i, &n, err);
            if (rc != PMR_OK) {
                return rc;
            }
            if (n == 0) {
                break;
            }
            int64_t k = skip_field(s, n, PMR_SKIP_NODE_KEY_OFFSET);
            if (k > key || (k == key && !inclusive)) {
                break;
            }
            x = n;
            if (++*hops > s->max_nodes) {
                return cycle(s->region, "skip list", s->root, s->max_nodes, err);
            }
        }
    }
    *out = x;
    return PMR_OK;
}

/* The first node at or after KEY, walking level 0 on past nodes a writer linked meanwhile. */
static int skip_ceiling_node(const pmr_skip *s, int64_t key, uint64_t *out, uint64_t *hops, pmr_error *err) {
    uint64_t x, n = 0;
    int rc = skip_lower(s, key, 0, &x, hops, err);
    if (rc == PMR_OK) {
        rc = skip_next(s, x, 0, &n, err);
    }
    while (rc == PMR_OK && n != 0 && skip_field(s, n, PMR_SKIP_NODE_KEY_OFFSET) < key) {
        if (++*hops > s->max_nodes) {
            return cycle(s->region, "skip list", s->root, s->max_nodes, err);
        }
        rc = skip_next(s, n, 0, &n, err);
    }
    *out = n;
    return rc;
}

int pmr_skip_get(const pmr_skip *s, int64_t key, int64_t *value, int *found, pmr_error *err) {
    uint64_t n, hops = 0;
    *found = 0;
    int rc = skip_ceiling_node(s, key, &n, &hops, err);
    if (rc == PMR_OK && n != 0 && skip_field(s, n, PMR_SKIP_NODE_KEY_OFFSET) == key) {
        *found = 1;
        if (value != NULL) {
            *value = skip_field(s, n, PMR_SKIP_NODE_VALUE_OFFSET);
        }
    }
    return rc;
}

static int skip_answer(const pmr_skip *s, uint64_t n, int *found, int64_t *key_out, int64_t *value) {
    *found = n != 0;
    if (n != 0 && key_out != NULL) {
        *key_out = skip_field(s, n, PMR_SKIP_NODE_KEY_OFFSET);
    }
    if (n != 0 && value != NULL) {
        *value = skip_field(s, n, PMR_SKIP_NODE_VALUE_OFFSET);
    }
    return PMR_OK;
}

int pmr_skip_floor(const pmr_skip *s, int64_t key, int *found, int64_t *key_out, int64_t *value, pmr_error *err) {
    uint64_t n, hops = 0;
    *found = 0;
    int rc = skip_lower(s, key, 1, &n, &hops, err);
    return rc != PMR_OK ? rc : skip_answer(s, n == s->head ? 0 : n, found, key_out, value);
}

int pmr_skip_ceiling(const pmr_skip *s, int64_t key, int *found, int64_t *key_out, int64_t *value, pmr_error *err) {
    uint64_t n, hops = 0;
    *found = 0;
    int rc = skip_ceiling_node(s, key, &n, &hops, err);
    return rc != PMR_OK ? rc : skip_answer(s, n, found, key_out, value);
}

int pmr_skip_walk(const pmr_skip *s, int64_t from, int (*visit)(void *, int64_t, int64_t), void *context, uint64_t *count,
                  pmr_error *err) {
    uint64_t n, hops = 0, visited = 0;
    int rc = skip_ceiling_node(s, from, &n, &hops, err);
    while (rc == PMR_OK && n != 0) {
        if (++visited > s->max_nodes) {
            rc = cycle(s->region, "skip list", s->root, s->max_nodes, err);
            break;
        }
        if (visit != NULL && visit(context, skip_field(s, n, PMR_SKIP_NODE_KEY_OFFSET), skip_field(s, n, PMR_SKIP_NODE_VALUE_OFFSET)) != 0) {
            break;
        }
        rc = skip_next(s, n, 0, &n, err);
    }
    if (count != NULL) {
        *count = visited;
    }
    return rc;
}

/* ---- rings, the consuming side (FORMAT.md §10, ring layout version 2) -----------------------------------------
 * The numbers are FORMAT.md §10's (Java: dev.panmap.ipc.RingLayout); they stay private to this file:
 * the header's API takes a ring's root and nothing else of its layout. */
#define RING_MAGIC            UINT64_C(0x0000474E49524D50) /* "PMRING" */
#define BROADCAST_MAGIC       UINT64_C(0x0054534143424D50) /* "PMBCAST" */
#define RING_VERSION          2
#define RING_KIND_ONE_TO_ONE  1
#define RING_KIND_MANY_TO_ONE 2
#define RING_KIND_BROADCAST   3
#define RING_ROOT_ALIGNMENT   128
#define RING_MIN_CAPACITY     UINT64_C(1024)
#define RING_MAX_CAPACITY     (UINT64_C(1) << 62)
#define RING_MAX_PRODUCERS    4096
#define RING_VERSION_OFFSET   8
#define RING_KIND_OFFSET      12
#define RING_CAPACITY_OFFSET  16
#define RING_PRODUCERS_OFFSET 24
#define RING_TAIL_OFFSET      128
#define RING_HEAD_OFFSET      256
#define RING_HEAD_INTENT_OFFSET 264
#define RING_CONSUMER_OFFSET  272
#define RING_CONSUMED_OFFSET  280
#define RING_SKIPPED_CLAIMS_OFFSET 288
#define RING_SKIPPED_BYTES_OFFSET 296
#define RING_CONSUMED_INTENT_OFFSET 304
#define RING_SLEEPING_OFFSET  388
#define RING_SPACE_SIGNAL_OFFSET 400
#define RING_PRODUCERS_WAITING_OFFSET 404
#define RING_SPACE_WAKE_CALLS_OFFSET 408
#define RING_ENTRIES_OFFSET   640
#define RING_ENTRY_SIZE       128
#define RING_ENTRY_CLAIM_START_OFFSET 8
#define RING_ENTRY_CLAIM_END_OFFSET 16
#define RING_HEADER_LENGTH    8
#define RING_PADDING_TYPE     (-1)
#define RING_LOCK_BASE        (INT64_C(1) << 61)
#define BCAST_TRANSMITTER_OFFSET 40
#define BCAST_TAIL_INTENT_OFFSET 128
#define BCAST_TAIL_OFFSET     136
#define BCAST_LATEST_OFFSET   144
#define BCAST_TRANSMITTED_OFFSET 152
#define BCAST_BUFFER_OFFSET   256
#define BCAST_HEADER_LENGTH   16
#define BCAST_SEQUENCE_OFFSET 8
#define BCAST_MAX_SKIPS       64

struct pmr_ring_consumer {
    pmr_region *region;
    unsigned char *ring;       /* the root in this process */
    unsigned char *buffer;
    uint64_t root, capacity, mask, head, consumed, grace_ms;
    uint32_t producers, max_message;
    int64_t lock_byte;
    uint64_t stamp;
    uint64_t suspect_position, suspect_since, suspect_wait; /* a claim or gap unfinished at the head, and since when */
    uint32_t empty_reads;
};

static uint64_t align8(uint64_t n) {
    return (n + 7) & ~UINT64_C(7);
}

static int64_t header_length(uint64_t h) {
    return (int32_t) (uint32_t) h;
}

static int32_t header_type(uint64_t h) {
    return (int32_t) (uint32_t) (h >> 32);
}

static uint64_t make_header(int32_t length, int32_t type) {
    return ((uint64_t) (uint32_t) type << 32) | (uint32_t) length;
}

/* Checks the magic, version and place of a ring or broadcast buffer; {@return its kind, or a PMR_* code} */
static int ring_check(const pmr_region *r, uint64_t root, uint64_t magic, const char *what, pmr_error *err) {
    uint64_t size = pmr_size(r);
    if (root % RING_ROOT_ALIGNMENT != 0 || root > size || size - root < RING_ROOT_ALIGNMENT) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, what, "a %s must be at a 128-aligned data offset inside the data area of %s: "
                    "offset=%llu", what, r->name, (unsigned long long) root);
    }
    const unsigned char *at = root_at(r, root);
    uint64_t found = load_acquire(at, 0);
    if (found != magic) {
        return fail(err, PMR_INCOMPATIBLE_REGION, 0, what, "no %s at data offset %llu of %s: magic 0x%llx, expected 0x%llx", what,
                    (unsigned long long) root, r->name, (unsigned long long) found, (unsigned long long) magic);
    }
    uint32_t version = u32(at, RING_VERSION_OFFSET);
    if (version != RING_VERSION) {
        return fail(err, PMR_INCOMPATIBLE_REGION, 0, what, "the %s at data offset %llu of %s has layout version %u; this client "
                    "reads version %d", what, (unsigned long long) root, r->name, version, RING_VERSION);
    }
    return (int) u32(at, RING_KIND_OFFSET);
}

static uint64_t ring_buffer_offset(uint32_t producers) {
    return RING_ENTRIES_OFFSET + (uint64_t) RING_ENTRY_SIZE * producers; /* a multiple of 128 already */
}

int pmr_ring_consumer_open(pmr_region *r, uint64_t root, long grace_ms, pmr_ring_consumer **out, pmr_error *err) {
    *out = NULL;
    int kind = ring_check(r, root, RING_MAGIC, "message ring", err);
    if (kind < 0) {
        return kind;
    }
    if (kind != RING_KIND_ONE_TO_ONE && kind != RING_KIND_MANY_TO_ONE) {
        return fail(err, PMR_INCOMPATIBLE_REGION, 0, "ring", "the ring at data offset %llu of %s is of kind %d%s",
                    (unsigned long long) root, r->name, kind, kind == RING_KIND_BROADCAST ? " (a broadcast buffer)" : "");
    }
    unsigned char *ring = (unsigned char *) pmr_data(r) + root;
    uint64_t capacity = load_relaxed(ring, RING_CAPACITY_OFFSET);
    uint32_t producers = u32(ring, RING_PRODUCERS_OFFSET);
    uint64_t room = pmr_size(r) - root;
    if (capacity < RING_MIN_CAPACITY || capacity > RING_MAX_CAPACITY || (capacity & (capacity - 1)) != 0 || producers < 1
        || producers > RING_MAX_PRODUCERS || (kind == RING_KIND_ONE_TO_ONE && producers != 1) || ring_buffer_offset(producers) > room
        || capacity > room - ring_buffer_offset(producers)) {
        return fail(err, PMR_CORRUPT_REGION, 0, "ring", "the ring at data offset %llu of %s is damaged: capacity %llu, %u producer "
                    "entries, in a %llu-byte data area", (unsigned long long) root, r->name, (unsigned long long) capacity, producers,
                    (unsigned long long) pmr_size(r));
    }
    if (!writable(r)) {
        return fail(err, PMR_INVALID_ARGUMENT, 0, "ring", "consuming the ring at data offset %llu needs %s open for writing",
                    (unsigned long long) root, r->name);
    }
    int64_t lock = RING_LOCK_BASE + (int64_t) (root + RING_CONSUMER_OFFSET);
    int got = ofd_try(r->fd, lock);
    if (got < 0) {
        return sys_fail(err, "fcntl", "F_OFD_SETLK on the ring consumer's lock byte");
    }
    if (got == 0) {
        return fail(err, PMR_WOULD_BLOCK, 0, "ring", "the ring at data offset %llu of %s has a consumer already: pid %d, alive",
                    (unsigned long long) root, r->name, pmr_stamp_pid(load_acquire(ring, RING_CONSUMER_OFFSET)));
    }
    unsigned char *buffer = ring + ring_buffer_offset(producers);
    /* a dead consumer may have been zeroing a batch it had handled: finish it, count it, move the head */
    uint64_t head = load_acquire(ring, RING_HEAD_OFFSET), intent = load_acquire(ring, RING_HEAD_INTENT_OFFSET);
    if (intent != head) {
        uint64_t index = head & (capacity - 1), bytes = intent - head;
        if (intent < head || bytes > capacity - index || bytes % 8 != 0 || head > (UINT64_MAX >> 1)) {
            ofd(r->fd, F_OFD_SETLK, F_UNLCK, lock);
            return fail(err, PMR_CORRUPT_REGION, 0, "ring", "the ring at data offset %llu of %s is damaged: head %llu, head intent %llu (a "
                        "batch ends within the lap it starts in, 8-aligned)", (unsigned long long) root, r->name,
                        (unsigned long long) head, (unsigned long long) intent);
        }
        for (uint64_t i = 0; i < bytes; i += 8) {
            store_relaxed(buffer, index + i, 0);
        }
        atomic_store_explicit(word(ring, RING_CONSUMED_OFFSET), load_acquire(ring, RING_CONSUMED_INTENT_OFFSET), memory_order_relaxed);
        store_release(ring, RING_HEAD_OFFSET, intent);
    }
    atomic_store_explicit((_Atomic uint32_t *) (void *) (ring + RING_SLEEPING_OFFSET), 0, memory_order_seq_cst); /* a dead sleeper's */
    pmr_ring_consumer *c = calloc(1, sizeof *c);
    if (c == NULL) {
        ofd(r->fd, F_OFD_SETLK, F_UNLCK, lock);
        return fail(err, PMR_NO_MEMORY, ENOMEM, "calloc", "no memory for a ring consumer");
    }
    c->region = r;
    c->ring = ring;
    c->buffer = buffer;
    c->root = root;
    c->capacity = capacity;
    c->mask = capacity - 1;
    c->producers = producers;
    c->max_message = (uint32_t) (capacity / 8 - RING_HEADER_LENGTH > INT32_MAX - 16 ? INT32_MAX - 16 : capacity / 8 - RING_HEADER_LENGTH);
    c->lock_byte = lock;
    c->grace_ms = grace_ms < 0 ? 10 : (uint64_t) grace_ms;
    c->stamp = stamp_of(r->pid, r->start_time);
    c->suspect_position = UINT64_MAX;
    store_release(ring, RING_CONSUMER_OFFSET, c->stamp); /* over a dead consumer's stamp, if any */
    c->head = load_acquire(ring, RING_HEAD_OFFSET);
    c->consumed = load_acquire(ring, RING_CONSUMED_OFFSET);
    *out = c;
    return PMR_OK;
}

uint64_t pmr_ring_position(const pmr_ring_consumer *c) { return c->head; }
uint64_t pmr_ring_consumed(const pmr_ring_consumer *c) { return c->consumed; }

void pmr_ring_consumer_close(pmr_ring_consumer *c) {
    if (c == NULL) {
        return;
    }
    uint64_t mine = c->stamp;
    atomic_compare_exchange_strong_explicit(word(c->ring, RING_CONSUMER_OFFSET), &mine, 0, memory_order_acq_rel, memory_order_relaxed);
    ofd(c->region->fd, F_OFD_SETLK, F_UNLCK, c->lock_byte);
    free(c);
}

/* Producers said they wait for room: clear the flag, change the word, wake them all (no private flag). */
static void wake_producers(pmr_ring_consumer *c) {
    _Atomic uint32_t *waiting = (_Atomic uint32_t *) (void *) (c->ring + RING_PRODUCERS_WAITING_OFFSET);
    _Atomic uint32_t *space = (_Atomic uint32_t *) (void *) (c->ring + RING_SPACE_SIGNAL_OFFSET);
    atomic_store_explicit(waiting, 0, memory_order_seq_cst);
    atomic_fetch_add_explicit(space, 1, memory_order_seq_cst);
    syscall(SYS_futex, (uint32_t *) (void *) space, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
    atomic_fetch_add_explicit(word(c->ring, RING_SPACE_WAKE_CALLS_OFFSET), 1, memory_order_relaxed);
}

/* FORMAT.md §10.6: the count after the batch, then the head intent, before any byte is zeroed; then the
 * count, then the head. */
static void ring_release(pmr_ring_consumer *c, uint64_t h0, uint64_t index, uint64_t bytes, uint64_t count) {
    uint64_t h1 = h0 + bytes, c1 = c->consumed + count;
    atomic_store_explicit(word(c->ring, RING_CONSUMED_INTENT_OFFSET), c1, memory_order_relaxed);
    /* the intent before any zero: an exchange is a full barrier (and ThreadSanitizer knows no fences) */
    atomic_exchange_explicit(word(c->ring, RING_HEAD_INTENT_OFFSET), h1, memory_order_seq_cst);
    for (uint64_t i = 0; i < bytes; i += 8) {
        store_relaxed(c->buffer, index + i, 0);
    }
    atomic_store_explicit(word(c->ring, RING_CONSUMED_OFFSET), c1, memory_order_relaxed);
    store_release(c->ring, RING_HEAD_OFFSET, h1);
    c->consumed = c1;
    c->head = h1;
    c->suspect_position = UINT64_MAX;
    c->empty_reads = 0;
    if (atomic_load_explicit((_Atomic uint32_t *) (void *) (c->ring + RING_PRODUCERS_WAITING_OFFSET), memory_order_relaxed) != 0) {
        wake_producers(c);
    }
}

/* {@return whether the record at POSITION has stayed unfinished for the grace period, or the back-off after it} */
static int ring_suspect(pmr_ring_consumer *c, uint64_t position) {
    uint64_t now = monotonic_ms();
    if (c->suspect_position != position) {
        c->suspect_position = position;
        c->suspect_since = now;
        c->suspect_wait = c->grace_ms;
        return c->grace_ms == 0;
    }
    return now - c->suspect_since >= c->suspect_wait;
}

/* The holder is alive (or unknown): ask again twice as late, up to a second (a liveness check is a system call). */
static void ring_still_alive(pmr_ring_consumer *c) {
    c->suspect_since = monotonic_ms();
    c->suspect_wait = c->suspect_wait * 2 < 1 ? 1 : c->suspect_wait * 2 > 1000 ? 1000 : c->suspect_wait * 2;
}

/* {@return whether producer entry I's holder is alive} (its lock byte held by some open file description) */
static int entry_alive(pmr_ring_consumer *c, uint32_t i) {
    int held = ofd_held_elsewhere(c->region->fd, RING_LOCK_BASE + (int64_t) (c->root + ring_buffer_offset(0) + (uint64_t) RING_ENTRY_SIZE * i));
    return held != 0; /* a failed check counts as alive: never pad a claim on a doubt */
}

static void count_skipped(pmr_ring_consumer *c, uint64_t bytes) {
    atomic_fetch_add_explicit(word(c->ring, RING_SKIPPED_CLAIMS_OFFSET), 1, memory_order_acq_rel);
    atomic_fetch_add_explicit(word(c->ring, RING_SKIPPED_BYTES_OFFSET), bytes, memory_order_acq_rel);
}

/* Nothing was read at H0: an empty ring, a claim in progress, or one a dead producer left.
 * {@return 1 if the head record became padding (read on), 0 if not, or a PMR_* code} */
static int ring_resolve(pmr_ring_consumer *c, uint64_t h0, uint64_t index, pmr_error *err) {
    uint64_t h = load_acquire(c->buffer, index);
    int64_t length = header_length(h);
    if (length < 0) {
        int32_t tag = header_type(h);
        if (!ring_suspect(c, h0)) {
            return 0;
        }
        if (tag < 0 || (uint32_t) tag >= c->producers || -length < RING_HEADER_LENGTH || align8((uint64_t) -length) > c->capacity - index) {
            return fail(err, PMR_CORRUPT_REGION, 0, "ring", "the ring at data offset %llu of %s is damaged: the claim at position %llu "
                        "names producer entry %d of %u and %lld bytes (%llu to the end of the buffer)", (unsigned long long) c->root,
                        c->region->name, (unsigned long long) h0, tag, c->producers, (long long) -length,
                        (unsigned long long) (c->capacity - index));
        }
        if (load_acquire(c->ring, RING_TAIL_OFFSET) <= h0 || entry_alive(c, (uint32_t) tag)) {
            ring_still_alive(c); /* unpublished (never padded), or a live producer's: ask again later */
            return 0;
        }
        uint64_t expected = h; /* the dead producer's claim becomes padding */
        if (atomic_compare_exchange_strong_explicit(word(c->buffer, index), &expected, make_header((int32_t) -length, RING_PADDING_TYPE),
                                                    memory_order_seq_cst, memory_order_relaxed)) {
            count_skipped(c, align8((uint64_t) -length));
            return 1;
        }
        return 0;
    }
    if (length != 0) {
        return 0;
    }
    if (atomic_load_explicit((_Atomic uint32_t *) (void *) (c->ring + RING_PRODUCERS_WAITING_OFFSET), memory_order_relaxed) != 0) {
        wake_producers(c);
    }
    if ((++c->empty_reads & 63) != 0) {
        return 0;
    }
    uint64_t tail = load_acquire(c->ring, RING_TAIL_OFFSET);
    if (tail == h0) {
        c->suspect_position = UINT64_MAX; /* empty */
        return 0;
    }
    if (!ring_suspect(c, h0)) {
        return 0;
    }
    /* a zero header below the tail: padding up to the next record if every entry whose intent holds it is dead */
    int claimed = 0;
    uint64_t next_intent = UINT64_MAX;
    for (uint32_t i = 0; i < c->producers; i++) {
        const unsigned char *e = c->ring + ring_buffer_offset(0) + (uint64_t) RING_ENTRY_SIZE * i;
        if (load_acquire(e, 0) == 0) {
            continue;
        }
        uint64_t start = load_relaxed(e, RING_ENTRY_CLAIM_START_OFFSET), end = load_relaxed(e, RING_ENTRY_CLAIM_END_OFFSET);
        if (start <= h0 && h0 < end) {
            if (entry_alive(c, i)) {
                ring_still_alive(c);
                return 0;
            }
            claimed = 1;
        } else if (start > h0 && start < next_intent) {
            next_intent = start;
        }
    }
    if (!claimed) {
        ring_still_alive(c);
        return 0;
    }
    uint64_t limit = tail < h0 - index + c->capacity ? tail : h0 - index + c->capacity;
    limit = limit < next_intent ? limit : next_intent;
    uint64_t p = h0 + RING_HEADER_LENGTH;
    while (p < limit && load_acquire(c->buffer, p & c->mask) == 0) {
        p += 8;
    }
    uint64_t gap = p - h0;
    if (gap > (uint64_t) INT32_MAX - 8) {
        return fail(err, PMR_CORRUPT_REGION, 0, "ring", "the ring at data offset %llu of %s is damaged: an unwritten gap of %llu bytes at "
                    "position %llu", (unsigned long long) c->root, c->region->name, (unsigned long long) gap, (unsigned long long) h0);
    }
    uint64_t zero = 0;
    if (atomic_compare_exchange_strong_explicit(word(c->buffer, index), &zero, make_header((int32_t) gap, RING_PADDING_TYPE),
                                                memory_order_seq_cst, memory_order_relaxed)) {
        count_skipped(c, gap);
        return 1;
    }
    return 0;
}

int pmr_ring_read(pmr_ring_consumer *c, pmr_message_handler handler, void *context, int limit, int *count, pmr_error *err) {
    int total = 0, rc = PMR_OK, stop = 0, idle = 0;
    /* a batch goes at most to the end of the buffer; 64 batches in a row without a message (padding written
     * by a hostile writer as fast as it is consumed) end the read with what it has */
    while (total < limit && !stop && idle < BCAST_MAX_SKIPS) {
        uint64_t h0 = c->head, index = h0 & c->mask, contiguous = c->capacity - index, bytes = 0, damaged = 0;
        int n = 0;
        while (bytes < contiguous && total + n < limit && !stop) {
            uint64_t h = load_acquire(c->buffer, index + bytes);
            int64_t length = header_length(h);
            if (length <= 0) {
                break;
            }
            int32_t type = header_type(h);
            uint64_t aligned = align8((uint64_t) length);
            /* checked before the handler sees it and before any position moves (FORMAT.md §10.2) */
            if (length < RING_HEADER_LENGTH || aligned > contiguous - bytes
                || (type != RING_PADDING_TYPE && (type < 1 || (uint64_t) length - RING_HEADER_LENGTH > c->max_message))) {
                damaged = h;
                break;
            }
            if (type != RING_PADDING_TYPE) {
                n++;
                stop = handler != NULL && handler(context, type, c->buffer + index + bytes + RING_HEADER_LENGTH,
                                                   (uint32_t) (length - RING_HEADER_LENGTH)) != 0;
            }
            bytes += aligned;
        }
        if (bytes > 0) {
            ring_release(c, h0, index, bytes, (uint64_t) n);
        }
        total += n;
        idle = n == 0 ? idle + 1 : 0;
        if (damaged != 0) {
            rc = fail(err, PMR_CORRUPT_REGION, 0, "ring", "the ring at data offset %llu of %s is damaged: the record at position %llu has "
                      "length %lld and type %d (a record takes 8 to %u bytes, here at most %llu before the end of the buffer, and its type "
                      "is >= 1, or -1 for padding)", (unsigned long long) c->root, c->region->name, (unsigned long long) (h0 + bytes),
                      (long long) header_length(damaged), header_type(damaged), c->max_message + RING_HEADER_LENGTH,
                      (unsigned long long) (contiguous - bytes));
            break;
        }
        if (bytes == 0) {
            int resolved = ring_resolve(c, h0, index, err);
            if (resolved < 0) {
                rc = resolved;
            }
            if (resolved != 1) {
                break;
            }
        } else if (bytes < contiguous) {
            break; /* stopped before the end of the buffer: nothing more now, or the limit */
        }
    }
    if (count != NULL) {
        *count = total;
    }
    return rc;
}

int pmr_broadcast_receiver_open(const pmr_region *r, uint64_t root, pmr_broadcast_receiver *b, pmr_error *err) {
    memset(b, 0, sizeof *b);
    int kind = ring_check(r, root, BROADCAST_MAGIC, "broadcast buffer", err);
    if (kind < 0) {
        return kind;
    }
    const unsigned char *at = root_at(r, root);
    uint64_t capacity = load_relaxed(at, RING_CAPACITY_OFFSET), room = pmr_size(r) - root;
    if (kind != RING_KIND_BROADCAST || capacity < RING_MIN_CAPACITY || capacity > RING_MAX_CAPACITY || (capacity & (capacity - 1)) != 0
        || room < BCAST_BUFFER_OFFSET || capacity > room - BCAST_BUFFER_OFFSET) {
        return fail(err, PMR_CORRUPT_REGION, 0, "broadcast", "the broadcast buffer at data offset %llu of %s is damaged: kind %d, capacity "
                    "%llu", (unsigned long long) root, r->name, kind, (unsigned long long) capacity);
    }
    b->region = r;
    b->root = root;
    b->capacity = capacity;
    b->max_message = (uint32_t) (capacity / 8 - BCAST_HEADER_LENGTH > INT32_MAX - 16 ? INT32_MAX - 16 : capacity / 8 - BCAST_HEADER_LENGTH);
    b->scratch = malloc(align8(b->max_message) + 8);
    if (b->scratch == NULL) {
        return fail(err, PMR_NO_MEMORY, ENOMEM, "malloc", "no memory for a broadcast receiver's copy (%u bytes)", b->max_message);
    }
    b->expected = (int64_t) load_acquire(at, BCAST_TRANSMITTED_OFFSET);
    b->cursor = load_acquire(at, BCAST_TAIL_OFFSET);
    atomic_thread_fence(memory_order_acquire);
    if ((uint64_t) b->expected < load_acquire(at, BCAST_TRANSMITTED_OFFSET)) {
        b->expected = -1; /* a message went out between the two reads: count from the first one seen */
    }
    return PMR_OK;
}

void pmr_broadcast_receiver_close(pmr_broadcast_receiver *b) {
    free(b->scratch);
    b->scratch = NULL;
}

static int bcast_damaged(const pmr_broadcast_receiver *b, pmr_error *err, const char *what, uint64_t x, uint64_t y, uint64_t z) {
    return fail(err, PMR_CORRUPT_REGION, 0, "broadcast", "the broadcast buffer at data offset %llu of %s is damaged: %s (%llu, %llu, %llu)",
                (unsigned long long) b->root, b->region->name, what, (unsigned long long) x, (unsigned long long) y, (unsigned long long) z);
}

/* Lapped: jump to the latest record after checking the positions against each other in the order the
 * transmitter stores them, each read after the one it is compared with (FORMAT.md §10.7). */
static int bcast_lap(pmr_broadcast_receiver *b, const unsigned char *at, uint64_t tail_before, pmr_error *err) {
    uint64_t span = 2 * align8((uint64_t) b->max_message + BCAST_HEADER_LENGTH);
    b->lapped++;
    uint64_t intent = load_acquire(at, BCAST_TAIL_INTENT_OFFSET), tail = load_acquire(at, BCAST_TAIL_OFFSET);
    uint64_t latest = load_acquire(at, BCAST_LATEST_OFFSET), intent_after = load_acquire(at, BCAST_TAIL_INTENT_OFFSET);
    if ((int64_t) latest < 0 || tail_before > intent || tail + span < intent || latest + span < tail || latest > intent_after) {
        return bcast_damaged(b, err, "tail, tail intent and latest are not within two records of each other", tail, intent, latest);
    }
    b->cursor = latest;
    return PMR_OK;
}

int pmr_broadcast_receive(pmr_broadcast_receiver *b, pmr_message_handler handler, void *context, int limit, int *count, pmr_error *err) {
    const unsigned char *at = root_at(b->region, b->root);
    const unsigned char *buffer = at + BCAST_BUFFER_OFFSET;
    uint64_t mask = b->capacity - 1;
    int n = 0, skips = 0, rc = PMR_OK;
    while (n < limit && skips < BCAST_MAX_SKIPS) {
        uint64_t tail = load_acquire(at, BCAST_TAIL_OFFSET);
        if (b->cursor >= tail) {
            break;
        }
        uint64_t intent = load_acquire(at, BCAST_TAIL_INTENT_OFFSET);
        if (tail > intent) {
            rc = bcast_damaged(b, err, "the tail is past the tail intent read after it", tail, intent, 0);
            break;
        }
        if (b->cursor + b->capacity <= intent) {
            if ((rc = bcast_lap(b, at, tail, err)) != PMR_OK) {
                break;
            }
            skips++;
            continue;
        }
        uint64_t index = b->cursor & mask;
        uint64_t first = load_relaxed(buffer, index);
        int64_t length = (int32_t) (uint32_t) first;
        int32_t type = header_type(first);
        int padding = type == RING_PADDING_TYPE;
        uint64_t sequence = padding ? 0 : load_relaxed(buffer, index + BCAST_SEQUENCE_OFFSET < b->capacity - 8 ? index + BCAST_SEQUENCE_OFFSET
                                                                                                            : b->capacity - 8);
        int64_t payload = length - BCAST_HEADER_LENGTH;
        int sane = padding ? length >= 8 && (uint64_t) length <= b->capacity - index
                           : type >= 1 && payload >= 0 && payload <= (int64_t) b->max_message && align8((uint64_t) length) <= b->capacity - index;
        if (sane && !padding) {
            copy_out(buffer + index + BCAST_HEADER_LENGTH, b->scratch, (uint32_t) payload);
        }
        atomic_thread_fence(memory_order_acquire); /* the copy before the check of the transmitter's intent */
        if (b->cursor + b->capacity <= load_acquire(at, BCAST_TAIL_INTENT_OFFSET)) {
            if ((rc = bcast_lap(b, at, tail, err)) != PMR_OK) {
                break;
            }
            skips++;
            continue;
        }
        if (!sane) {
            rc = bcast_damaged(b, err, "a record with an impossible length or type at a position", (uint64_t) length, (uint64_t) (uint32_t) type,
                               b->cursor);
            break;
        }
        b->cursor += align8((uint64_t) length);
        if (padding) {
            skips++;
            continue;
        }
        skips = 0;
        if (b->expected >= 0 && (int64_t) sequence > b->expected) {
            b->lost += sequence - (uint64_t) b->expected;
        }
        b->expected = (int64_t) sequence + 1;
        n++;
        b->received++;
        if (handler != NULL && handler(context, type, b->scratch, (uint32_t) payload) != 0) {
            break;
        }
    }
    if (count != NULL) {
        *count = n;
    }
    return rc;
}
