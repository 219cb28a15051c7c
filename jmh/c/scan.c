/*
 * The C limit for ScanBench: the sum of a 32 KiB window (4096 words) that moves on through SIZE
 * bytes of a POSIX shm mapping (MAP_SHARED, word i = i, as ScanBench fills it) and wraps, in four
 * ways on the same mapping, in paired rounds:
 *
 *   c-scan-1      one scalar accumulator: the old reference's loop (add (%rdi),%rax), a 1-cycle add chain
 *   c-scan-4      four scalar accumulators, not vectorized
 *   c-scan-vec    gcc's auto-vectorized loop (optimize("O3")). x86-64: for AVX2 (target("avx2")),
 *                 vpaddq on one ymm accumulator; without AVX2 (checked at run time) the same source
 *                 compiled for the baseline ISA (SSE2) runs instead. aarch64: for the baseline ISA,
 *                 Advanced SIMD (NEON: add v.2d on one 128-bit accumulator); no SVE variant. The
 *                 "isa" field says which ran: avx2, sse2 or neon
 *   c-scan-vec-4  four vector accumulators written out with vector extensions: what the core can
 *                 load when no add chain limits it. x86-64: four ymm (AVX2; else four xmm);
 *                 aarch64: four 128-bit NEON registers
 *
 * After a warm-up of about 200 ms of all impls, each of ROUNDS rounds (SCAN_ROUNDS, default 101)
 * runs every impl once in the round's rotation of their order, one sample being 32 windows (2^17
 * words, short enough to run mostly between two preemptions on a busy machine); each impl keeps its
 * own window position, impl v starting v/4 of the way through the windows. Prints, per size and
 * impl, the median over the rounds in the format (ns per 8-byte word), which summary.py reads,
 * with the number of samples during which this thread was switched out (getrusage; such a sample
 * includes another task's time):
 *   {"bench":"scan","impl":"c-scan-4","size":262144,"ns_per_op":0.1234,"isa":"avx2","rounds":101,"preempted":3}
 *
 * usage: scan SIZE...    (each a multiple of 32768, as in ScanBench)
 * build: gcc -O2 -Wall -o scan scan.c     (x86-64 or aarch64; any other stops the build)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define WORDS 4096
#define WINDOW (WORDS * 8)
#define WORDS_PER_SAMPLE (1 << 17) /* 1 MiB read: ~0.1-0.3 ms, shorter than a scheduler slice */
#define WARMUP_NS 200000000.0

static volatile uint64_t sink;

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

/* context switches of this thread so far */
static long switches(void) {
    struct rusage u;
    if (getrusage(RUSAGE_THREAD, &u) != 0) return 0;
    return u.ru_nvcsw + u.ru_nivcsw;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* the scalar ones stay scalar whatever the flags */
__attribute__((noinline, optimize("no-tree-vectorize"))) static uint64_t scan_1(const uint64_t *w) {
    uint64_t sum = 0;
    for (int i = 0; i < WORDS; i++) sum += w[i];
    return sum;
}

__attribute__((noinline, optimize("no-tree-vectorize"))) static uint64_t scan_4(const uint64_t *w) {
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (int i = 0; i < WORDS; i += 4) {
        a += w[i];
        b += w[i + 1];
        c += w[i + 2];
        d += w[i + 3];
    }
    return a + b + c + d;
}

#if defined(__x86_64__)
__attribute__((noinline, target("avx2"), optimize("O3"))) static uint64_t scan_vec_avx2(const uint64_t *w) {
    uint64_t sum = 0;
    for (int i = 0; i < WORDS; i++) sum += w[i];
    return sum;
}
#endif

/* the same loop for the baseline ISA: x86-64's fallback (SSE2), aarch64's only variant (NEON) */
__attribute__((noinline, optimize("O3"))) static uint64_t scan_vec_base(const uint64_t *w) {
    uint64_t sum = 0;
    for (int i = 0; i < WORDS; i++) sum += w[i];
    return sum;
}

#if defined(__x86_64__)
typedef uint64_t v4 __attribute__((vector_size(32), aligned(8))); /* unaligned loads allowed */

__attribute__((noinline, target("avx2"))) static uint64_t scan_vec4_avx2(const uint64_t *w) {
    v4 a = {0}, b = {0}, c = {0}, d = {0};
    for (int i = 0; i < WORDS; i += 16) {
        a += *(const v4 *) (w + i);
        b += *(const v4 *) (w + i + 4);
        c += *(const v4 *) (w + i + 8);
        d += *(const v4 *) (w + i + 12);
    }
    v4 s = a + b + c + d;
    return s[0] + s[1] + s[2] + s[3];
}
#endif

typedef uint64_t v2 __attribute__((vector_size(16), aligned(8)));

/* four 128-bit accumulators: x86-64's fallback (SSE2; a generic 32-byte vector would be split and
 * spilled), aarch64's only variant (NEON) */
__attribute__((noinline)) static uint64_t scan_vec4_base(const uint64_t *w) {
    v2 a = {0}, b = {0}, c = {0}, d = {0};
    for (int i = 0; i < WORDS; i += 8) {
        a += *(const v2 *) (w + i);
        b += *(const v2 *) (w + i + 2);
        c += *(const v2 *) (w + i + 4);
        d += *(const v2 *) (w + i + 6);
    }
    v2 s = a + b + c + d;
    return s[0] + s[1];
}

typedef uint64_t (*scan_fn)(const uint64_t *);

static struct {
    const char *name;
    scan_fn fn;
    const char *isa;
} IMPLS[] = {
    {"c-scan-1", scan_1, "base"},
    {"c-scan-4", scan_4, "base"},
#if defined(__x86_64__)
    {"c-scan-vec", scan_vec_avx2, "avx2"},
    {"c-scan-vec-4", scan_vec4_avx2, "avx2"},
#elif defined(__aarch64__)
    {"c-scan-vec", scan_vec_base, "neon"},
    {"c-scan-vec-4", scan_vec4_base, "neon"},
#else
#error "scan.c: vector variants for x86-64 and aarch64 only"
#endif
};
#define NI ((int) (sizeof IMPLS / sizeof IMPLS[0]))

static uint64_t *map_shm(size_t size) {
    char name[64];
    snprintf(name, sizeof name, "/panmap-cscan-%d", (int) getpid());
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ftruncate(fd, (off_t) size) != 0) {
        perror("scan: shm_open/ftruncate");
        exit(1);
    }
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    shm_unlink(name); /* the mapping keeps it; nothing is left behind if the run is cut short */
    if (base == MAP_FAILED) {
        perror("scan: mmap");
        exit(1);
    }
    return base;
}

/* `windows` windows from *cursor on, wrapping at `count`; returns the sum */
static uint64_t run(scan_fn fn, const uint64_t *w, size_t *cursor, size_t count, size_t windows) {
    uint64_t sum = 0;
    size_t c = *cursor;
    for (size_t k = 0; k < windows; k++) {
        sum += fn(w + c * WORDS);
        if (++c == count) c = 0;
    }
    *cursor = c;
    return sum;
}

static void bench(size_t size, int rounds) {
    uint64_t *w = map_shm(size);
    for (size_t i = 0; i < size / 8; i++) w[i] = i;
    size_t count = size / WINDOW, windows = WORDS_PER_SAMPLE / WORDS;
    uint64_t expect = run(scan_1, w, &(size_t) {0}, count, count); /* one pass: every impl must agree */
    /*
     * Impl v starts v/NI of the way through the windows. All impls read the same amount per round,
     * so started together they would read the same windows one after the other, and all but the
     * round's first would find them in the cache; spread out, between two reads of a window the
     * impls read SIZE bytes in all, as one ScanBench loop going round.
     */
    size_t cursor[NI];
    for (int v = 0; v < NI; v++) {
        cursor[v] = (size_t) v * count / NI;
        if (run(IMPLS[v].fn, w, &cursor[v], count, count) != expect) {
            fprintf(stderr, "scan: %s sums differently from c-scan-1\n", IMPLS[v].name);
            exit(1);
        }
    }
    double t0 = now_ns();
    uint64_t sum = 0;
    do {
        for (int v = 0; v < NI; v++) sum += run(IMPLS[v].fn, w, &cursor[v], count, windows);
    } while (now_ns() - t0 < WARMUP_NS);
    double *ns = malloc(sizeof(double) * (size_t) rounds * NI);
    int preempted[NI] = {0};
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < NI; k++) {
            int v = (r + k) % NI;
            long before = switches();
            double a = now_ns();
            sum += run(IMPLS[v].fn, w, &cursor[v], count, windows);
            ns[(size_t) v * rounds + r] = (now_ns() - a) / ((double) windows * WORDS);
            preempted[v] += switches() != before;
        }
    }
    sink = sum;
    for (int v = 0; v < NI; v++) {
        double *x = ns + (size_t) v * rounds;
        qsort(x, rounds, sizeof(double), cmp);
        printf("{\"bench\":\"scan\",\"impl\":\"%s\",\"size\":%zu,\"ns_per_op\":%.4f,\"isa\":\"%s\",\"rounds\":%d,\"preempted\":%d}\n",
               IMPLS[v].name, size, x[rounds / 2], IMPLS[v].isa, rounds, preempted[v]);
    }
    fflush(stdout);
    free(ns);
    munmap(w, size);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: scan SIZE...   (SCAN_ROUNDS=101: rounds per size)\n");
        return 1;
    }
    int rounds = 101;
    const char *r = getenv("SCAN_ROUNDS");
    if (r != NULL && atoi(r) > 0) rounds = atoi(r);
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2")) {
        fprintf(stderr, "scan: no AVX2 on this CPU: c-scan-vec and c-scan-vec-4 run the baseline (SSE2) code\n");
        IMPLS[2].fn = scan_vec_base;
        IMPLS[3].fn = scan_vec4_base;
        IMPLS[2].isa = IMPLS[3].isa = "sse2";
    }
#endif
    for (int i = 1; i < argc; i++) {
        char *end;
        unsigned long long size = strtoull(argv[i], &end, 10);
        if (end == argv[i] || *end != '\0' || size == 0 || size % WINDOW != 0) {
            fprintf(stderr, "scan: size '%s' must be a positive multiple of %d\n", argv[i], WINDOW);
            return 1;
        }
        bench((size_t) size, rounds);
    }
    return 0;
}
