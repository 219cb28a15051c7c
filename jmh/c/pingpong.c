/*
 * Cross-process ping-pong through one cache line of a POSIX shm mapping: the C-C reference for
 * dev.panmap.bench.PingPong, which does the same in Java.
 *
 * The parent stores a sequence number in word 0 of a 64-byte line (release); the child, spinning on
 * it (acquire), answers with the same number in word 1 of the same line. One round trip is one store
 * and one answer. The clock (CLOCK_MONOTONIC, as Java's System.nanoTime) costs about as much as a
 * round trip, so the round trips are timed two ways:
 *   - "batch": BATCH round trips (default 1000) between two clock reads, giving ns per round trip for
 *     that batch; percentiles over the batches, and the mean over all of them. The clock's cost is
 *     spread over BATCH round trips: these are the figures to compare.
 *   - "per-sample": each round trip between two clock reads, percentiles from the sorted samples.
 *     Every sample includes the cost of about one clock read, which is measured too ("clock_ns": the
 *     median of back-to-back reads) and printed in both records; the pause the clock reads put
 *     between the round trips also slows the round trips themselves (by more than the clock's cost).
 * Only the two spinning processes are pinned, the parent to the first CPU it may run on and the child
 * to the second (sched_setaffinity), when it may run on two or more; "pinned":false says otherwise.
 *
 * usage: pingpong BATCHED SAMPLED
 *   BATCHED  round trips timed in batches (rounded up to whole batches)
 *   SAMPLED  round trips timed one by one, after the batched ones
 * Before both, PINGPONG_WARMUP_MS (default 1000) ms of round trips, not recorded. Each measured
 * phase stops early (at the end of a batch, or of 1024 samples), with "truncated":true, once it has
 * run PINGPONG_CAP_MS (default 15000) ms.
 * PINGPONG_BATCH sets the batch size. Prints two JSON objects, one a line:
 *   {"bench":"pingpong","impl":"c-c","timing":"batch","batch":1000,"count":N,"batches":N/1000,
 *    "mean_ns":..,"p50_ns":..,"p99_ns":..,"p999_ns":..,"max_ns":..,"clock_ns":..,"clock_mean_ns":..,
 *    "warmup_ms":1000,"pinned":true,"cpus":[0,1],"truncated":false}
 *   {"bench":"pingpong","impl":"c-c","timing":"per-sample","batch":1,"count":N, ...the same fields}
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"

#define STOP UINT64_MAX /* the parent's last store: the child exits */

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t) t.tv_sec * 1000000000u + (uint64_t) t.tv_nsec;
}

static long env_long(const char *name, long fallback) {
    const char *v = getenv(name);
    return v && *v ? atol(v) : fallback;
}

/* Pins the calling process (one thread) to cpu and checks that it took; cpu < 0: does nothing. */
static int pin(int cpu) {
    if (cpu < 0) return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) { perror("sched_setaffinity"); return 0; }
    cpu_set_t now;
    return sched_getaffinity(0, sizeof now, &now) == 0 && CPU_COUNT(&now) == 1 && CPU_ISSET(cpu, &now);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* nearest rank: the index of the smallest value with at least per_mille / 1000 of the n values at or
 * below it (no libm: the Makefile links without -lm) */
static long rank(long n, long per_mille) {
    long r = (n * per_mille + 999) / 1000 - 1;
    return r < 0 ? 0 : r >= n ? n - 1 : r;
}

static volatile uint64_t *line; /* word 0: ping, word 1: pong; line + 8 (the next line): the child's status */

/* A round trip that has spun this often (a fraction of a millisecond: the other side is not running)
 * looks at the clock, and gives up if the phase's deadline has passed: a busy machine cannot make a
 * phase overrun its cap by much. Round trips that do not stall never read the clock. */
#define STALL_SPINS 4096
static uint64_t deadline;

static inline int round_trip(uint64_t seq) {
    __atomic_store_n(&line[0], seq, __ATOMIC_RELEASE);
    unsigned spins = 0;
    while (__atomic_load_n(&line[1], __ATOMIC_ACQUIRE) != seq) {
        SPIN_HINT();
        if (++spins == STALL_SPINS) {
            if (now_ns() > deadline) return 0;
            spins = 0;
        }
    }
    return 1;
}

/* Median and mean of back-to-back clock reads, in ns. */
static void clock_cost(double *median, double *mean) {
    enum { READS = 1000000, BUCKETS = 4096 };
    static uint64_t counts[BUCKETS];
    memset(counts, 0, sizeof counts);
    uint64_t first = now_ns(), prev = first;
    for (int i = 0; i < READS; i++) {
        uint64_t t = now_ns(), d = t - prev;
        counts[d < BUCKETS ? d : BUCKETS - 1]++;
        prev = t;
    }
    uint64_t seen = 0;
    for (int d = 0; d < BUCKETS; d++) {
        if ((seen += counts[d]) * 2 >= READS) { *median = d; break; }
    }
    *mean = (double) (prev - first) / READS;
}

/* one value, or null when there is none */
static void field(const char *name, int have, double v, const char *format) {
    printf(",\"%s\":", name);
    if (have) printf(format, v); else printf("null");
}

/* sorted: count values; the record's statistics (null when count is 0) */
static void print_record(const char *timing, long batch, long round_trips, long batches, double total_ns,
                         const double *sorted, long count, double clock_median, double clock_mean, long warmup_ms,
                         int pinned, int cpu0, int cpu1, int truncated) {
    int have = count > 0;
    printf("{\"bench\":\"pingpong\",\"impl\":\"c-c\",\"timing\":\"%s\",\"batch\":%ld,\"count\":%ld", timing, batch,
           round_trips);
    if (batches >= 0) printf(",\"batches\":%ld", batches);
    field("mean_ns", have, have ? total_ns / (double) round_trips : 0, "%.1f");
    field("p50_ns", have, have ? sorted[rank(count, 500)] : 0, "%.1f");
    field("p99_ns", have, have ? sorted[rank(count, 990)] : 0, "%.1f");
    field("p999_ns", have, have ? sorted[rank(count, 999)] : 0, "%.1f");
    field("max_ns", have, have ? sorted[count - 1] : 0, "%.1f");
    printf(",\"clock_ns\":%.0f,\"clock_mean_ns\":%.1f,\"warmup_ms\":%ld,\"pinned\":%s,\"cpus\":", clock_median,
           clock_mean, warmup_ms, pinned ? "true" : "false");
    if (pinned) printf("[%d,%d]", cpu0, cpu1); else printf("[]");
    printf(",\"truncated\":%s}\n", truncated ? "true" : "false");
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: pingpong BATCHED SAMPLED\n");
        return 2;
    }
    long batch = env_long("PINGPONG_BATCH", 1000), warmup_ms = env_long("PINGPONG_WARMUP_MS", 1000);
    long cap_ms = env_long("PINGPONG_CAP_MS", 15000);
    long batches = (atol(argv[1]) + batch - 1) / batch, sampled = atol(argv[2]);
    if (batch < 1 || batches < 1 || sampled < 1) { fprintf(stderr, "pingpong: counts must be positive\n"); return 2; }

    /* the two CPUs: the first two this process may run on */
    int cpus[2] = {-1, -1}, found = 0;
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
        for (int c = 0; c < CPU_SETSIZE && found < 2; c++) {
            if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
        }
    }
    if (found < 2) {
        fprintf(stderr, "pingpong: fewer than two CPUs to run on: unpinned, both processes may share one\n");
        cpus[0] = cpus[1] = -1;
    }

    char name[64];
    snprintf(name, sizeof name, "/panmap-cpingpong-%d", (int) getpid());
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ftruncate(fd, 4096) != 0) { perror("shm"); return 1; }
    line = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (line == MAP_FAILED) { perror("mmap"); return 1; }
    close(fd);
    shm_unlink(name); /* the forked child inherits the mapping; nothing is left behind */
    volatile uint64_t *status = line + 8; /* 1: the child is pinned, 2: it is not */

    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        __atomic_store_n(status, pin(cpus[1]) ? 1 : 2, __ATOMIC_RELEASE);
        uint64_t last = 0, v;
        for (;;) {
            while ((v = __atomic_load_n(&line[0], __ATOMIC_ACQUIRE)) == last) SPIN_HINT();
            if (v == STOP) _exit(0);
            __atomic_store_n(&line[1], v, __ATOMIC_RELEASE);
            last = v;
        }
    }
    int pinned = pin(cpus[0]);
    uint64_t child_status;
    while ((child_status = __atomic_load_n(status, __ATOMIC_ACQUIRE)) == 0) SPIN_HINT();
    pinned = pinned && child_status == 1;
    if (!pinned && found >= 2) fprintf(stderr, "pingpong: pinning failed: running unpinned\n");

    uint64_t seq = 0, cap_ns = (uint64_t) cap_ms * 1000000u;
    /* warm-up: round trips for warmup_ms, timed both ways, recorded nowhere */
    uint64_t start = now_ns(), warm_end = start + (uint64_t) warmup_ms * 1000000u;
    deadline = warm_end;
    int alive = 1;
    while (alive && now_ns() < warm_end) {
        for (int k = 0; k < 100 && alive; k++) {
            uint64_t t0 = now_ns();
            alive = round_trip(++seq);
            volatile uint64_t t = now_ns() - t0;
            (void) t;
        }
        for (int k = 0; k < 1000 && alive; k++) alive = round_trip(++seq);
    }

    double clock_median = 0, clock_mean = 0;
    clock_cost(&clock_median, &clock_mean);

    double *per_batch = malloc(batches * sizeof(double));
    double *samples = malloc(sampled * sizeof(double));
    uint64_t *raw = malloc(sampled * sizeof(uint64_t));
    if (!per_batch || !samples || !raw) { perror("malloc"); return 1; }

    /* batches of round trips, one clock pair each; a batch cut short by the deadline is dropped */
    start = now_ns();
    deadline = start + cap_ns;
    uint64_t batch_total = 0;
    long done_batches = 0;
    int truncated_batches = 0;
    while (done_batches < batches) {
        uint64_t t0 = now_ns();
        long k = 0;
        while (k < batch && round_trip(++seq)) k++;
        uint64_t t1 = now_ns();
        if (k < batch) { truncated_batches = 1; break; }
        batch_total += t1 - t0;
        per_batch[done_batches++] = (double) (t1 - t0) / (double) batch;
        if (t1 > deadline && done_batches < batches) { truncated_batches = 1; break; }
    }

    /* round trips one by one, checking the deadline after every 1024 */
    start = now_ns();
    deadline = start + cap_ns;
    uint64_t sample_total = 0;
    long done_samples = 0;
    int truncated_samples = 0;
    while (done_samples < sampled) {
        uint64_t t0 = now_ns();
        if (!round_trip(++seq)) { truncated_samples = 1; break; }
        uint64_t t1 = now_ns();
        sample_total += t1 - t0;
        raw[done_samples++] = t1 - t0;
        if ((done_samples & 1023) == 0 && t1 > deadline && done_samples < sampled) { truncated_samples = 1; break; }
    }

    __atomic_store_n(&line[0], STOP, __ATOMIC_RELEASE);
    waitpid(child, NULL, 0);

    qsort(per_batch, done_batches, sizeof(double), cmp_double);
    qsort(raw, done_samples, sizeof(uint64_t), cmp_u64);
    for (long i = 0; i < done_samples; i++) samples[i] = (double) raw[i];
    print_record("batch", batch, done_batches * batch, done_batches, (double) batch_total, per_batch, done_batches,
                 clock_median, clock_mean, warmup_ms, pinned, cpus[0], cpus[1], truncated_batches);
    print_record("per-sample", 1, done_samples, -1, (double) sample_total, samples, done_samples, clock_median,
                 clock_mean, warmup_ms, pinned, cpus[0], cpus[1], truncated_samples);
    munmap((void *) line, 4096);
    return 0;
}
