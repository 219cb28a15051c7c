/*
 * The C limit for ListBench.chase on the very list the Java harness built: the harness creates one
 * POSIX shm object holding a NodeList of 64-byte nodes in random order, each node's first 8 bytes
 * being the ABSOLUTE address (valid at BASE) of the next node, 0 at the end, and starts this program
 * on it. We map the object read-only twice, once at exactly BASE and once wherever the kernel
 * likes, and chase the same pages in the same order four ways, in paired rounds:
 *
 *   c-pointer       n = *(uint64_t *) n                 through the BASE mapping
 *   c-offset        n = *(uint64_t *) (delta + n)       through the other mapping; gcc folds the add
 *                                                       into the load: mov (%rdx,%rax),%rax
 *                                                       (aarch64: ldr x0, [x0, x2])
 *   c-offset-add    p = delta + n; n = *(uint64_t *) p  the add kept apart from the load (add; mov),
 *                                                       as C2 emits Java's off-heap offset access
 *   c-pointer-cmov  n = *(uint64_t *) n, wrapping with the old `if (n == 0) n = first`, which gcc -O2
 *                   compiles to a cmov on the load chain (aarch64: a csel): what the old reference
 *                   (bench.c) measured
 *
 * delta = (other mapping - BASE). The first three wrap to the first node through a real, predicted
 * branch, off the load chain: the wrap's body is an empty volatile asm, which gcc cannot if-convert
 * into a cmov whatever the flags (check with disasm.sh). Each variant is a noinline function doing
 * HOPS hops and returning the node reached; the next call goes on from there.
 *
 * Variant v starts v/4 of the way along the list (the list is walked once first, to check it), so
 * that in a round the variants do not chase the same nodes one after the other.
 * After a warm-up of about 200 ms of all variants, round r (0..ROUNDS-1) runs every variant once,
 * in the r-th rotation of their order, and prints one JSON object per sample:
 *   {"bench":"chase","lang":"c","variant":"c-pointer","size":SIZE,"round":r,"ns_per_hop":x,"cs":n}
 * where cs counts this thread's context switches during the sample (getrusage, outside the timed
 * part): on a busy machine a sample with cs > 0 includes time the CPU spent on another task. Keep
 * HOPS_PER_SAMPLE short (well under a scheduler slice, e.g. ~1 ms of hops) when the machine is shared.
 *
 * With a second list (NAME2 ... SIZE2: the same list built in a huge-page object, a file on hugetlbfs),
 * each round runs the variants on both lists, the lists in alternating order, and the second list's
 * variants are named with "-huge": 4 KiB vs huge pages paired round by round, as the variants are.
 * A NAME with a '/' after the first character is a file (open), else a POSIX shm object (shm_open).
 *
 * usage: chase NAME BASE_HEX FIRST_HEX SIZE_BYTES ROUNDS HOPS_PER_SAMPLE [NAME2 BASE2_HEX FIRST2_HEX SIZE2_BYTES]
 * build: gcc -O2 -Wall -o chase chase.c
 * Exits 1 with one line on stderr on any failure (arguments, shm, mappings, a bad list).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux >= 4.17; older kernels take it as a hint, caught below */
#endif

#define WARMUP_NS 200000000.0

static volatile uint64_t sink;

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("chase: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* context switches of this thread so far: a sample during which the CPU went to another task has cs > 0 */
static long switches(void) {
    struct rusage u;
    if (getrusage(RUSAGE_THREAD, &u) != 0) return 0;
    return u.ru_nvcsw + u.ru_nivcsw;
}

static uint64_t parse(const char *what, const char *s, int base) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-') fail("bad %s: '%s'", what, s);
    return v;
}

/*
 * The wrap to the first node: a branch the predictor learns (taken once per list length), off the
 * load chain. The body is a volatile asm (it only moves first into n's register), which no pass
 * may execute speculatively, so gcc keeps a jump here instead of a cmov.
 */
#define WRAP(n, first)                                               \
    do {                                                             \
        if (__builtin_expect((n) == 0, 0)) {                         \
            __asm__ volatile("" : "=r"(n) : "0"(first));             \
        }                                                            \
    } while (0)

typedef uint64_t (*chase_fn)(uint64_t n, uint64_t first, uint64_t delta, long hops);

__attribute__((noinline)) static uint64_t chase_pointer(uint64_t n, uint64_t first, uint64_t delta, long hops) {
    (void) delta;
    for (long i = 0; i < hops; i++) {
        n = *(const uint64_t *) n;
        WRAP(n, first);
    }
    return n;
}

__attribute__((noinline)) static uint64_t chase_offset(uint64_t n, uint64_t first, uint64_t delta, long hops) {
    for (long i = 0; i < hops; i++) {
        n = *(const uint64_t *) (delta + n); /* one load, base + index */
        WRAP(n, first);
    }
    return n;
}

__attribute__((noinline)) static uint64_t chase_offset_add(uint64_t n, uint64_t first, uint64_t delta, long hops) {
    for (long i = 0; i < hops; i++) {
        uint64_t p = delta + n;
        __asm__("" : "+r"(p)); /* p must exist in a register: the add stays a separate instruction */
        n = *(const uint64_t *) p;
        WRAP(n, first);
    }
    return n;
}

/*
 * The old reference's wrap, as gcc compiles it by default at -O2: a cmov between each load and the
 * next. The attribute keeps it so under other flags: -fno-if-conversion would make it a branch, and
 * so would -O3's -fsplit-paths (gcc 12).
 */
__attribute__((noinline, optimize("if-conversion", "if-conversion2", "no-split-paths")))
static uint64_t chase_pointer_cmov(uint64_t n, uint64_t first, uint64_t delta, long hops) {
    (void) delta;
    for (long i = 0; i < hops; i++) {
        n = *(const uint64_t *) n;
        if (n == 0) n = first;
    }
    return n;
}

/*
 * Every variant carries the BASE-valid value of its node from call to call. The order alternates the
 * two mappings (BASE, other, BASE, other): a rotation keeps each variant's predecessor, and a variant
 * that follows one reading through the other mapping finds the TLB and the paging-structure caches
 * less ready (~2% per hop at 4 and 64 MiB when c-pointer, c-offset, c-offset-add, c-pointer-cmov
 * ran in this order). Alternated, every variant follows the other mapping except when it opens a round.
 */
static const struct {
    const char *name;
    chase_fn fn;
} VARIANTS[] = {
    {"c-pointer", chase_pointer},
    {"c-offset", chase_offset},
    {"c-pointer-cmov", chase_pointer_cmov},
    {"c-offset-add", chase_offset_add},
};
#define NV ((int) (sizeof VARIANTS / sizeof VARIANTS[0]))

/* one list: the object mapped at BASE and anywhere, each variant's position in it */
struct list {
    const char *name;
    const char *suffix;
    uint64_t base, first, size, delta, nodes;
    void *at, *other;
    uint64_t pos[NV];
};

static void open_list(struct list *l, long page) {
    const char *name = l->name;
    uint64_t base = l->base, first = l->first, size = l->size;
    if (base == 0 || base % (uint64_t) page != 0) fail("BASE 0x%" PRIx64 " is not a non-zero multiple of the page size %ld", base, page);
    if (size < 8) fail("SIZE_BYTES %" PRIu64 " is too small", size);
    if (base + size < base) fail("BASE 0x%" PRIx64 " + SIZE_BYTES %" PRIu64 " overflows", base, size);

    int file = strchr(name + 1, '/') != NULL;
    int fd = file ? open(name, O_RDONLY | O_CLOEXEC) : shm_open(name, O_RDONLY, 0);
    if (fd < 0) fail("%s(%s, O_RDONLY): %s", file ? "open" : "shm_open", name, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) fail("fstat(%s): %s", name, strerror(errno));
    if ((uint64_t) st.st_size < size)
        fail("object %s has %lld bytes, fewer than SIZE_BYTES %" PRIu64, name, (long long) st.st_size, size);

    /* populated up front, so that no page fault lands in a timed sample */
    void *at = mmap((void *) (uintptr_t) base, size, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_POPULATE, fd, 0);
    if (at == MAP_FAILED) {
        if (errno == EEXIST) fail("BASE 0x%" PRIx64 ": the range of %" PRIu64 " bytes there is taken in this process", base, size);
        fail("mmap at BASE 0x%" PRIx64 ": %s", base, strerror(errno));
    }
    if ((uint64_t) (uintptr_t) at != base) {
        munmap(at, size);
        fail("mmap at BASE 0x%" PRIx64 " returned %p (kernel without MAP_FIXED_NOREPLACE?)", base, at);
    }
    void *other = mmap(NULL, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (other == MAP_FAILED) fail("mmap (anywhere): %s", strerror(errno));
    close(fd);
    uint64_t delta = (uint64_t) (uintptr_t) other - base; /* mod 2^64: delta + n is n's address in `other` */

    /* the list must lie inside the mapping, 8-aligned, and end (no cycle): a wrong argument fails here, not with SIGSEGV */
    uint64_t end = base + size - 8, nodes = 0;
    for (uint64_t n = first;; nodes++) {
        if (n < base || n > end || n % 8 != 0) {
            if (n == first) fail("FIRST 0x%" PRIx64 " is not an 8-aligned address in [0x%" PRIx64 ", 0x%" PRIx64 "]", first, base, end);
            fail("node %" PRIu64 " links to 0x%" PRIx64 ", outside [0x%" PRIx64 ", 0x%" PRIx64 "] or unaligned", nodes, n, base, end);
        }
        if (nodes > size / 8) fail("the list from FIRST 0x%" PRIx64 " has a cycle", first);
        uint64_t next = *(const uint64_t *) n;
        if (next == 0) break;
        n = next;
    }
    nodes++;
    if (*(const uint64_t *) (delta + first) != *(const uint64_t *) first) fail("the two mappings differ");

    /*
     * Variant v starts v/NV of the way along the list. All variants do the same number of hops, so
     * started together they would chase the same nodes in each round, and all but the round's first
     * would find them in the cache. Spread out, each chases its own stretch, and between two visits
     * of a node the four of them make `nodes` hops in all: the reuse distance of one chase going
     * round the list, as in ListBench.
     */
    uint64_t node = first;
    for (uint64_t i = 0, v = 0; v < NV; i++, node = *(const uint64_t *) node) {
        while (v < NV && i == v * nodes / NV) l->pos[v++] = node;
    }
    l->at = at;
    l->other = other;
    l->delta = delta;
    l->nodes = nodes;
}

int main(int argc, char **argv) {
    if (argc != 7 && argc != 11)
        fail("usage: chase NAME BASE_HEX FIRST_HEX SIZE_BYTES ROUNDS HOPS_PER_SAMPLE [NAME2 BASE2_HEX FIRST2_HEX SIZE2_BYTES]");
    struct list lists[2];
    int nl = argc == 11 ? 2 : 1;
    for (int i = 0; i < nl; i++) {
        int a = i == 0 ? 1 : 7;
        lists[i].name = argv[a];
        lists[i].suffix = i == 0 ? "" : "-huge";
        lists[i].base = parse("BASE_HEX", argv[a + 1], 16);
        lists[i].first = parse("FIRST_HEX", argv[a + 2], 16);
        lists[i].size = parse("SIZE_BYTES", argv[a + 3], 10);
    }
    uint64_t rounds = parse("ROUNDS", argv[5], 10);
    uint64_t hops = parse("HOPS_PER_SAMPLE", argv[6], 10);
    if (rounds < 1 || hops < 1 || hops > (uint64_t) 1 << 40) fail("ROUNDS and HOPS_PER_SAMPLE must be positive");
    long page = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < nl; i++) open_list(&lists[i], page);

    /* warm-up: all variants in turn, at least once each, for about 200 ms */
    double t0 = now_ns();
    do {
        for (int i = 0; i < nl; i++) {
            struct list *l = &lists[i];
            for (int v = 0; v < NV; v++) l->pos[v] = VARIANTS[v].fn(l->pos[v], l->first, l->delta, (long) hops);
        }
    } while (now_ns() - t0 < WARMUP_NS);

    for (uint64_t r = 0; r < rounds; r++) {
        for (int j = 0; j < nl; j++) { /* the lists in alternating order, round by round */
            struct list *l = &lists[(r + (uint64_t) j) % (uint64_t) nl];
            double ns[NV];
            long cs[NV];
            for (int k = 0; k < NV; k++) { /* round r: the r-th rotation of the variants' order */
                int v = (int) ((r + (uint64_t) k) % NV);
                long before = switches();
                double a = now_ns();
                l->pos[v] = VARIANTS[v].fn(l->pos[v], l->first, l->delta, (long) hops);
                ns[v] = (now_ns() - a) / (double) hops;
                cs[v] = switches() - before;
            }
            for (int k = 0; k < NV; k++) { /* printed after the round, in the order it ran */
                int v = (int) ((r + (uint64_t) k) % NV);
                printf("{\"bench\":\"chase\",\"lang\":\"c\",\"variant\":\"%s%s\",\"size\":%" PRIu64 ",\"round\":%" PRIu64
                       ",\"ns_per_hop\":%.4f,\"cs\":%ld}\n", VARIANTS[v].name, l->suffix, l->size, r, ns[v], cs[v]);
            }
        }
        fflush(stdout);
    }
    uint64_t s = 0;
    for (int i = 0; i < nl; i++) {
        for (int v = 0; v < NV; v++) s += lists[i].pos[v];
        munmap(lists[i].other, lists[i].size);
        munmap(lists[i].at, lists[i].size);
    }
    sink = s;
    return 0;
}
