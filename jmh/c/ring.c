/*
 * The C twin of panmap's message ring (dev.panmap.ipc.Ring, layout in RingLayout): the same design
 * in the same bytes per record, to measure what the machine allows. An 8-byte header per record
 * (int length, > 0 committed, < 0 claimed; int type), records 8-aligned and never split across the
 * end (a padding record instead), the consumer zeroes what it read and then moves the head with a
 * release store; a one-to-one producer moves the tail with plain stores, a many-to-one producer
 * writes its intent (claim start and end) to its own entry and takes the range with one
 * compare-and-set of the tail; each commit is a compare-and-set of the header from the claim's (as
 * panmap's, ring layout version 2) and a count in the producer's entry. Tail, head and each producer
 * entry sit on their own 128-byte lines. The work per message is RingBench's: the producer writes
 * every 8-byte word of the payload (word k = sequence + k), the consumer reads every word into a sum
 * that is checked at the end ("checksum_ok").
 *
 * usage:
 *   ring tput one-to-one|many-to-one SIZE COUNT   producers (1 or 2 processes, forked) send COUNT
 *       messages of SIZE bytes in all; the consumer (this process) reads them. Prints one JSON line:
 *       {"bench":"ring-throughput","variant":"c",...,"msgs_per_s":..}
 *   ring lat SIZE COUNT   a ping ring and a pong ring: COUNT round trips, each timed by its own pair
 *       of CLOCK_MONOTONIC reads; prints {"bench":"ring-latency","variant":"c","p50_ns":..,...}
 *   ring wake COUNT   the kernel's own futex wake-up latency between two processes: the waker stores
 *       its clock, increments the word and calls FUTEX_WAKE every 2 ms; the sleeper in FUTEX_WAIT
 *       records its clock on return minus the stored one; prints {"bench":"ring-wake","variant":"c-futex",..}
 * The consumer is pinned to the first CPU it may run on, the producers (or the pong process) to the
 * second, when there are two; "pinned" says whether it took.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"

#define CAPACITY (256 * 1024)
#define MASK (CAPACITY - 1)
#define HEADER 8
#define PADDING (-1)

typedef struct {
    _Alignas(128) int64_t tail;
    _Alignas(128) int64_t head;
    /* each producer entry on its own 128-byte pair of lines, as panmap's (layout version 2): two
     * producers' intent stores never share a line */
    struct { _Alignas(128) int64_t start; int64_t end, committed; } entry[2];
    _Alignas(128) int64_t go;     /* the consumer's start signal */
    _Alignas(128) uint8_t buffer[CAPACITY];
} ring_t;
_Static_assert(offsetof(ring_t, entry[1]) - offsetof(ring_t, entry[0]) == 128, "a producer entry per 128-byte pair of lines");

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t) t.tv_sec * 1000000000u + (uint64_t) t.tv_nsec;
}

static int pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0;
}

static int cpus[2] = {-1, -1};

static void find_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return;
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++) {
        if (CPU_ISSET(c, &set)) cpus[n++] = c;
    }
    if (n < 2) cpus[0] = cpus[1] = -1;
}

static inline int64_t header(int32_t length, int32_t type) {
    return ((int64_t) type << 32) | (uint32_t) length;
}

static inline int64_t align8(int64_t n) { return (n + 7) & ~7L; }

/* claims room for a record of record_length bytes; returns the header's index or -1 when full */
static inline int64_t claim(ring_t *r, int id, int many, int64_t *tail_own, int64_t *head_cache, int32_t record_length) {
    int64_t aligned = align8(record_length), t, required;
    for (;;) {
        t = many ? __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) : *tail_own;
        int64_t to_end = CAPACITY - (t & MASK);
        required = aligned > to_end ? to_end + aligned : aligned;
        if (t + required - *head_cache > CAPACITY) {
            *head_cache = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
            if (t + required - *head_cache > CAPACITY) return -1;
        }
        r->entry[id].start = t;
        r->entry[id].end = t + required;
        if (!many) break;
        if (__atomic_compare_exchange_n(&r->tail, &t, t + required, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) break;
    }
    int64_t index = t & MASK;
    if (required != aligned) {
        __atomic_store_n((int64_t *) (r->buffer + index), header((int32_t) (required - aligned), PADDING), __ATOMIC_RELEASE);
        index = 0;
    }
    __atomic_store_n((int64_t *) (r->buffer + index), header(-record_length, id), __ATOMIC_RELEASE);
    if (!many) {
        *tail_own = t + required;
        __atomic_store_n(&r->tail, *tail_own, __ATOMIC_RELEASE);
    }
    /* (panmap's one-to-one producer stores the claim header before the tail and the wrap padding
     * after it: the order changes no cost) */
    return index;
}

/* as panmap's (layout version 2): a compare-and-set from the claim's header, so that a claim taken
 * meanwhile (unblocked) is refused; returns 0 then */
static inline int commit(ring_t *r, int id, int64_t index, int32_t record_length, int32_t type) {
    int64_t claimed = header(-record_length, id);
    if (!__atomic_compare_exchange_n((int64_t *) (r->buffer + index), &claimed, header(record_length, type), 0, __ATOMIC_RELEASE,
                                     __ATOMIC_RELAXED)) {
        return 0;
    }
    __atomic_store_n(&r->entry[id].committed, r->entry[id].committed + 1, __ATOMIC_RELAXED);
    return 1;
}

/* the producer's work, as RingBench's: every 8-byte word of the payload written, word k = seq + k */
static inline void fill(uint8_t *payload, int size, int64_t seq) {
    for (int k = 0; k < size / 8; k++) ((int64_t *) payload)[k] = seq + k;
}

/* the consumer's work, as RingBench's handler: every word of the payload read into the sum */
static inline int64_t payload_sum(const uint8_t *payload, int size) {
    int64_t s = 0;
    for (int k = 0; k < size / 8; k++) s += ((const int64_t *) payload)[k];
    return s;
}

/* what the consumer's sum must be after count messages of size bytes numbered 0 .. count - 1 */
static int64_t expected_sum(long count, int size) {
    int64_t w = size / 8;
    return w * ((int64_t) count * (count - 1) / 2) + (int64_t) count * (w * (w - 1) / 2);
}

static void produce(ring_t *r, int id, int many, int size, long count) {
    int64_t tail = 0, head_cache = 0;
    while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE)) {}
    for (long seq = 0; seq < count; seq++) {
        int64_t at;
        while ((at = claim(r, id, many, &tail, &head_cache, size + HEADER)) < 0) SPIN_HINT();
        fill(r->buffer + at + HEADER, size, seq);
        commit(r, id, at, size + HEADER, 1);
    }
}

/* reads up to limit messages; returns how many; sums every word of their payloads into *sum */
static inline int consume(ring_t *r, int64_t *head, int limit, int64_t *sum) {
    int64_t h0 = *head, index0 = h0 & MASK, contiguous = CAPACITY - index0, bytes = 0;
    int count = 0;
    while (bytes < contiguous && count < limit) {
        int64_t h = __atomic_load_n((int64_t *) (r->buffer + index0 + bytes), __ATOMIC_ACQUIRE);
        int32_t length = (int32_t) h;
        if (length <= 0) break;
        if ((int32_t) (h >> 32) != PADDING) {
            *sum += payload_sum(r->buffer + index0 + bytes + HEADER, length - HEADER);
            count++;
        }
        bytes += align8(length);
    }
    if (bytes > 0) {
        memset(r->buffer + index0, 0, bytes);
        *head = h0 + bytes;
        __atomic_store_n(&r->head, *head, __ATOMIC_RELEASE);
    }
    return count;
}

static ring_t *new_ring(void) {
    ring_t *r = mmap(NULL, sizeof(ring_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) { perror("mmap"); exit(1); }
    return r;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

static long rank(long n, long per_100k) {
    long k = (n * per_100k + 99999) / 100000 - 1;
    return k < 0 ? 0 : k >= n ? n - 1 : k;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: ring tput KIND SIZE COUNT | ring lat SIZE COUNT | ring wake COUNT\n"); return 2; }
    find_cpus();
    int pinned = cpus[0] >= 0;
    if (strcmp(argv[1], "tput") == 0 && argc == 5) {
        int many = strcmp(argv[2], "many-to-one") == 0;
        int size = atoi(argv[3]);
        long count = atol(argv[4]);
        int producers = many ? 2 : 1;
        ring_t *r = new_ring();
        pid_t kids[2];
        for (int p = 0; p < producers; p++) {
            if ((kids[p] = fork()) == 0) {
                if (pinned) pin(cpus[1]);
                produce(r, p, many, size, count / producers);
                _exit(0);
            }
        }
        if (pinned) pinned = pin(cpus[0]);
        int64_t head = 0, sum = 0;
        long got = 0, total = count / producers * producers;
        __atomic_store_n(&r->go, 1, __ATOMIC_RELEASE);
        uint64_t t0 = 0;
        long n0 = 0;
        while (got < total) {
            int n = consume(r, &head, 256, &sum);
            if (n > 0 && t0 == 0) { t0 = now_ns(); n0 = n; }
            got += n;
        }
        uint64_t t1 = now_ns();
        for (int p = 0; p < producers; p++) waitpid(kids[p], NULL, 0);
        int64_t expected = producers * expected_sum(total / producers, size);
        printf("{\"bench\":\"ring-throughput\",\"variant\":\"c\",\"kind\":\"%s\",\"size\":%d,\"count\":%ld,"
               "\"msgs_per_s\":%.0f,\"pinned\":%s,\"checksum_ok\":%s}\n", argv[2], size, total,
               (double) (got - n0) * 1e9 / (double) (t1 - t0), pinned ? "true" : "false", sum == expected ? "true" : "false");
        return sum == expected ? 0 : 1;
    }
    if (strcmp(argv[1], "lat") == 0 && argc == 4) {
        int size = atoi(argv[2]);
        long count = atol(argv[3]);
        ring_t *ping = new_ring(), *pong = new_ring();
        pid_t kid = fork();
        if (kid == 0) {
            if (pinned) pin(cpus[1]);
            int64_t head = 0, tail = 0, cache = 0, sum = 0;
            __atomic_store_n(&pong->go, 1, __ATOMIC_RELEASE);
            for (long i = 0; i < count; i++) {
                int64_t before = sum;
                while (consume(ping, &head, 1, &sum) == 0) SPIN_HINT();
                int64_t at;
                while ((at = claim(pong, 0, 0, &tail, &cache, size + HEADER)) < 0) SPIN_HINT();
                fill(pong->buffer + at + HEADER, size, sum - before);
                commit(pong, 0, at, size + HEADER, 1);
            }
            _exit(0);
        }
        if (pinned) pinned = pin(cpus[0]);
        while (!__atomic_load_n(&pong->go, __ATOMIC_ACQUIRE)) {}
        uint64_t *samples = malloc(sizeof(uint64_t) * count);
        int64_t head = 0, tail = 0, cache = 0, sum = 0;
        for (long i = 0; i < count; i++) {
            uint64_t t0 = now_ns();
            int64_t at;
            while ((at = claim(ping, 0, 0, &tail, &cache, size + HEADER)) < 0) SPIN_HINT();
            fill(ping->buffer + at + HEADER, size, i);
            commit(ping, 0, at, size + HEADER, 1);
            while (consume(pong, &head, 1, &sum) == 0) SPIN_HINT();
            samples[i] = now_ns() - t0;
        }
        waitpid(kid, NULL, 0);
        /* the pong of ping i carries the sum of ping i's words, w * i + w (w - 1) / 2, in its own words */
        int64_t w = size / 8, ok = sum == w * expected_sum(count, size) + (int64_t) count * (w * (w - 1) / 2);
        qsort(samples, count, sizeof *samples, cmp_u64);
        printf("{\"bench\":\"ring-latency\",\"variant\":\"c\",\"size\":%d,\"count\":%ld,\"p50_ns\":%lu,\"p99_ns\":%lu,"
               "\"p999_ns\":%lu,\"p9999_ns\":%lu,\"max_ns\":%lu,\"pinned\":%s,\"checksum_ok\":%s}\n", size, count,
               (unsigned long) samples[rank(count, 50000)], (unsigned long) samples[rank(count, 99000)],
               (unsigned long) samples[rank(count, 99900)], (unsigned long) samples[rank(count, 99990)],
               (unsigned long) samples[count - 1], pinned ? "true" : "false", ok ? "true" : "false");
        return ok ? 0 : 1;
    }
    if (strcmp(argv[1], "wake") == 0) { /* ring wake COUNT: futex wake-up latency, the waker every 2 ms */
        long count = atol(argv[2]);
        ring_t *r = new_ring();
        int *word = (int *) &r->go;
        volatile int64_t *stamp = &r->tail;
        pid_t kid = fork();
        if (kid == 0) {
            if (pinned) pin(cpus[1]);
            for (long i = 0; i < count; i++) {
                struct timespec gap = {0, 2000000};
                nanosleep(&gap, NULL);
                __atomic_store_n(stamp, (int64_t) now_ns(), __ATOMIC_SEQ_CST);
                __atomic_add_fetch(word, 1, __ATOMIC_SEQ_CST);
                syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
            }
            _exit(0);
        }
        if (pinned) pinned = pin(cpus[0]);
        uint64_t *samples = malloc(sizeof(uint64_t) * count);
        int seen = 0;
        long n = 0;
        while (seen < count) { /* two wakes may land before one wait: count what is seen */
            while (__atomic_load_n(word, __ATOMIC_SEQ_CST) == seen) {
                syscall(SYS_futex, word, FUTEX_WAIT, seen, NULL, NULL, 0);
            }
            uint64_t t = now_ns();
            seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
            samples[n++] = t - (uint64_t) __atomic_load_n(stamp, __ATOMIC_SEQ_CST);
        }
        count = n;
        waitpid(kid, NULL, 0);
        qsort(samples, count, sizeof *samples, cmp_u64);
        printf("{\"bench\":\"ring-wake\",\"variant\":\"c-futex\",\"count\":%ld,\"p50_ns\":%lu,\"p90_ns\":%lu,\"p99_ns\":%lu,"
               "\"max_ns\":%lu,\"pinned\":%s}\n", count, (unsigned long) samples[rank(count, 50000)],
               (unsigned long) samples[rank(count, 90000)], (unsigned long) samples[rank(count, 99000)],
               (unsigned long) samples[count - 1], pinned ? "true" : "false");
        return 0;
    }
    fprintf(stderr, "usage: ring tput KIND SIZE COUNT | ring lat SIZE COUNT | ring wake COUNT\n");
    return 2;
}
