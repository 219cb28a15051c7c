/*
 * The C limit for an attach: shm_open + mmap + munmap + close of an existing POSIX shm object, the
 * calls a C program makes to look at a region and leave. Driven by the Java harness (Attach.java)
 * over stdin, so that C's cycles run interleaved with Java's, round by round:
 *
 *   ro N   N cycles of shm_open(O_RDONLY) + mmap(PROT_READ, MAP_SHARED) + munmap + close
 *   rw N   the same with O_RDWR and PROT_READ|PROT_WRITE
 *
 * and answers each command with one line: the N cycle times in ns, space-separated. Each cycle also
 * reads the first byte of the mapping (as a caller would look at a header), so that the mapping is
 * used, as panmap's attach reads its header.
 *
 * usage: attach SHM_NAME SIZE_BYTES
 * build: gcc -O2 -Wall -o attach attach.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile uint8_t sink;

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: attach SHM_NAME SIZE_BYTES\n");
        return 1;
    }
    const char *name = argv[1];
    size_t size = strtoull(argv[2], NULL, 10);
    char mode[8];
    long n;
    static long times[1 << 20];
    while (scanf("%7s %ld", mode, &n) == 2) {
        if (n < 1 || n > (long) (sizeof times / sizeof times[0])) {
            fprintf(stderr, "attach: bad count %ld\n", n);
            return 1;
        }
        int rw = strcmp(mode, "rw") == 0;
        for (long i = 0; i < n; i++) {
            long t0 = now_ns();
            int fd = shm_open(name, rw ? O_RDWR : O_RDONLY, 0);
            if (fd < 0) {
                fprintf(stderr, "attach: shm_open(%s): %s\n", name, strerror(errno));
                return 1;
            }
            void *p = mmap(NULL, size, rw ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
            if (p == MAP_FAILED) {
                fprintf(stderr, "attach: mmap: %s\n", strerror(errno));
                return 1;
            }
            sink = *(volatile uint8_t *) p;
            munmap(p, size);
            close(fd);
            times[i] = now_ns() - t0;
        }
        for (long i = 0; i < n; i++) printf(i ? " %ld" : "%ld", times[i]);
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
