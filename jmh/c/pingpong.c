/*
 * Cross-process ping-pong through one cache line of a POSIX shm mapping: the C-C reference for
 * dev.panmap.bench.PingPong. The parent stores a sequence number (release), the child, spinning on
 * it (acquire), answers with the same number in the next word of the same 64-byte line; the parent
 * times each round trip with CLOCK_MONOTONIC (as Java's System.nanoTime). Each process is pinned to
 * its own CPU when there are two. Prints one JSON object:
 *   {"bench":"pingpong","impl":"c-c","count":N,"median_ns":..,"p99_ns":..,"p999_ns":..,"max_ns":..}
 * usage: pingpong ROUNDS WARMUP
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t) t.tv_sec * 1000000000u + (uint64_t) t.tv_nsec;
}

static void pin(int cpu) {
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

static int cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 1000000, warmup = argc > 2 ? atol(argv[2]) : 100000;
    char name[64];
    snprintf(name, sizeof name, "/panmap-cpingpong-%d", (int) getpid());
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ftruncate(fd, 4096) != 0) { perror("shm"); return 1; }
    uint64_t *line = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (line == MAP_FAILED) { perror("mmap"); return 1; }
    shm_unlink(name); /* the forked child inherits the mapping; nothing is left behind */
    long total = rounds + warmup;
    pid_t child = fork();
    if (child == 0) {
        pin(1);
        for (uint64_t i = 1; i <= (uint64_t) total; i++) {
            while (__atomic_load_n(&line[0], __ATOMIC_ACQUIRE) != i) __builtin_ia32_pause();
            __atomic_store_n(&line[1], i, __ATOMIC_RELEASE);
        }
        _exit(0);
    }
    pin(0);
    uint64_t *samples = malloc(rounds * sizeof(uint64_t));
    for (uint64_t i = 1; i <= (uint64_t) total; i++) {
        uint64_t t0 = now_ns();
        __atomic_store_n(&line[0], i, __ATOMIC_RELEASE);
        while (__atomic_load_n(&line[1], __ATOMIC_ACQUIRE) != i) __builtin_ia32_pause();
        uint64_t t = now_ns() - t0;
        if (i > (uint64_t) warmup) samples[i - warmup - 1] = t;
    }
    waitpid(child, NULL, 0);
    qsort(samples, rounds, sizeof(uint64_t), cmp);
    printf("{\"bench\":\"pingpong\",\"impl\":\"c-c\",\"count\":%ld,\"median_ns\":%llu,\"p99_ns\":%llu,\"p999_ns\":%llu,\"max_ns\":%llu}\n",
           rounds, (unsigned long long) samples[rounds / 2], (unsigned long long) samples[(long) (rounds * 0.99)],
           (unsigned long long) samples[(long) (rounds * 0.999)], (unsigned long long) samples[rounds - 1]);
    munmap(line, 4096);
    return 0;
}
