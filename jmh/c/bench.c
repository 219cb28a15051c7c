/*
 * The physical limit for ListBench and ScanBench: the same work in C (gcc -O2) on the same kind of
 * mapping (a POSIX shm object, MAP_SHARED). Each 64-byte node holds its next node both as an
 * absolute pointer (offset 0) and as an offset from the mapping's start (offset 8), linked in one
 * random order, so both modes chase the same pages. Like the Java benchmarks, the chase wraps to the
 * first node at the end, and the scan sums a 32 KiB window that moves on through the region.
 *
 * usage: bench SIZE... ; prints one JSON object per line:
 *   {"bench":"list","impl":"c-pointer","size":262144,"ns_per_op":1.52}
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define NODE 64
#define STEPS 4096
#define WORDS 4096
#define REPS 7

static volatile uint64_t sink;

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static uint64_t xorshift(uint64_t x) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static char *map_shm(size_t size, char *name) {
    snprintf(name, 64, "/panmap-cbench-%d", (int) getpid());
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ftruncate(fd, (off_t) size) != 0) {
        perror("shm_open/ftruncate");
        exit(1);
    }
    char *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    shm_unlink(name); /* the mapping keeps it; nothing is left behind if the run is cut short */
    if (base == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    return base;
}

/* one invocation = STEPS hops, like ListBench.chase */
__attribute__((noinline)) static char *chase_pointer(char *n, char *first) {
    for (int i = 0; i < STEPS; i++) {
        n = *(char **) n;
        if (n == NULL) n = first;
    }
    return n;
}

__attribute__((noinline)) static uint64_t chase_offset(const char *base, uint64_t n, uint64_t first) {
    for (int i = 0; i < STEPS; i++) {
        n = *(const uint64_t *) (base + n + 8);
        if (n == 0) n = first;
    }
    return n;
}

__attribute__((noinline)) static uint64_t scan(const uint64_t *w) {
    uint64_t sum = 0;
    for (int i = 0; i < WORDS; i++) sum += w[i];
    return sum;
}

static void report(const char *bench, const char *impl, size_t size, double *reps) {
    qsort(reps, REPS, sizeof(double), cmp);
    printf("{\"bench\":\"%s\",\"impl\":\"%s\",\"size\":%zu,\"ns_per_op\":%.4f}\n", bench, impl, size, reps[REPS / 2]);
    fflush(stdout);
}

/* each repetition runs invocations in batches of 16 until budget_ns have passed (CBENCH_BUDGET_MS, default 100) */
static double budget_ns = 100e6;

static void list(size_t size) {
    char name[64];
    size_t nodes = size / NODE, total = size + NODE;
    char *base = map_shm(total, name);
    uint64_t *order = malloc(nodes * sizeof(uint64_t));
    for (size_t i = 0; i < nodes; i++) order[i] = NODE + i * NODE; /* offset 0 stays null */
    uint64_t r = 1;
    for (size_t i = nodes - 1; i > 0; i--) {
        r = xorshift(r);
        size_t j = r % (i + 1);
        uint64_t t = order[i]; order[i] = order[j]; order[j] = t;
    }
    for (size_t i = 0; i < nodes; i++) {
        char *node = base + order[i];
        uint64_t next = i + 1 < nodes ? order[i + 1] : 0;
        *(char **) node = next ? base + next : NULL;
        *(uint64_t *) (node + 8) = next;
        *(uint64_t *) (node + 16) = i;
    }
    char *firstp = base + order[0];
    uint64_t firsto = order[0];
    double reps[REPS];
    char *p = firstp;
    for (int warm = 0; warm < 2; warm++) {
        for (int k = 0; k < REPS; k++) {
            double t0 = now_ns(), t;
            long inv = 0;
            do {
                for (int i = 0; i < 16; i++) p = chase_pointer(p, firstp);
                inv += 16;
            } while ((t = now_ns() - t0) < budget_ns);
            reps[k] = t / ((double) inv * STEPS);
        }
    }
    sink = (uint64_t) p;
    report("list", "c-pointer", size, reps);
    uint64_t o = firsto;
    for (int warm = 0; warm < 2; warm++) {
        for (int k = 0; k < REPS; k++) {
            double t0 = now_ns(), t;
            long inv = 0;
            do {
                for (int i = 0; i < 16; i++) o = chase_offset(base, o, firsto);
                inv += 16;
            } while ((t = now_ns() - t0) < budget_ns);
            reps[k] = t / ((double) inv * STEPS);
        }
    }
    sink = o;
    report("list", "c-offset", size, reps);
    free(order);
    munmap(base, total);
}

static void scan_bench(size_t size) {
    char name[64];
    char *base = map_shm(size, name);
    uint64_t *w = (uint64_t *) base;
    for (size_t i = 0; i < size / 8; i++) w[i] = i;
    size_t windows = size / (WORDS * 8), c = 0;
    double reps[REPS];
    uint64_t sum = 0;
    for (int warm = 0; warm < 2; warm++) {
        for (int k = 0; k < REPS; k++) {
            double t0 = now_ns(), t;
            long inv = 0;
            do {
                for (int i = 0; i < 16; i++) {
                    sum += scan(w + c * WORDS);
                    if (++c == windows) c = 0;
                }
                inv += 16;
            } while ((t = now_ns() - t0) < budget_ns);
            reps[k] = t / ((double) inv * WORDS);
        }
    }
    sink = sum;
    report("scan", "c", size, reps);
    munmap(base, size);
}

int main(int argc, char **argv) {
    const char *budget = getenv("CBENCH_BUDGET_MS");
    if (budget != NULL && atof(budget) > 0) budget_ns = atof(budget) * 1e6;
    for (int i = 1; i < argc; i++) {
        size_t size = strtoull(argv[i], NULL, 10);
        list(size);
        scan_bench(size);
    }
    return 0;
}
