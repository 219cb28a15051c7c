/*
 * close: what pmr_close() leaves behind (FORMAT.md §8, "After close"), in one process:
 *   - a pointer into a closed region still reads (zeros), no fault;
 *   - a DIRECT region reopened at the same base maps over the kept reservation (no PMR_ADDRESS_IN_USE);
 *   - 2000 opens and closes of a region with a 1 GiB span hold no more address space than one does;
 *   - a DIRECT region with a larger span at the base of a closed smaller one extends over free space.
 * Creates its own regions (removed at the end). Prints "OK ..." and exits 0, or what failed and exits 1.
 */
#define _GNU_SOURCE
#include "../panmap_region.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char small[64], big[64], wide[64];

static void die(const char *what, const pmr_error *e) {
    fprintf(stderr, "FAILED %s: %s\n", what, e != NULL ? e->message : "");
    pmr_remove(small, NULL);
    pmr_remove(big, NULL);
    pmr_remove(wide, NULL);
    exit(1);
}

/* The process's mapped address space, in kB (VmSize of /proc/self/status). */
static long vm_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmSize: %ld", &kb) == 1) {
            break;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return kb;
}

int main(int argc, char **argv) {
    /* 64 TiB and 2 GiB: free under AddressSanitizer on x86_64 and aarch64 alike (FORMAT.md §8) */
    uint64_t base = argc > 1 ? strtoull(argv[1], NULL, 16) : UINT64_C(0x400080000000);
    snprintf(small, sizeof small, "/pmr-close-%d-small", (int) getpid());
    snprintf(big, sizeof big, "/pmr-close-%d-big", (int) getpid());
    snprintf(wide, sizeof wide, "/pmr-close-%d-wide", (int) getpid());
    pmr_error e;
    pmr_region *r;
    pmr_create_options o = {.size = 1 << 16, .max_size = 1 << 20, .direct = 1, .base = base};
    if (pmr_create(small, &o, &r, &e) != PMR_OK) die("create", &e);
    volatile uint64_t *p = pmr_data(r);
    p[0] = 42;
    pmr_close(r);
    if (p[0] != 0) die("a closed region's address reads zeros", NULL); /* a fault here would end the test */
    for (int i = 0; i < 100; i++) {
        if (pmr_open(small, PMR_READ_ONLY, &r, &e) != PMR_OK) die("reopen at the same base", &e);
        if (pmr_is_direct(r) != 1 || (uint64_t) (uintptr_t) pmr_base(r) != base) die("reopened elsewhere", NULL);
        if (((volatile uint64_t *) pmr_data(r))[0] != 42) die("the value written before", NULL);
        pmr_close(r);
    }
    pmr_create_options ob = {.size = 1 << 16, .max_size = UINT64_C(1) << 30};
    if (pmr_create(big, &ob, &r, &e) != PMR_OK) die("create big", &e);
    pmr_close(r);
    long before = vm_kb();
    for (int i = 0; i < 2000; i++) {
        if (pmr_open(big, PMR_READ_ONLY, &r, &e) != PMR_OK) die("open big", &e);
        pmr_close(r);
    }
    long after = vm_kb();
    if (after - before > 4096) { /* 2000 spans of 1 GiB would be 2 TB */
        fprintf(stderr, "FAILED address space grew from %ld kB to %ld kB over 2000 opens and closes\n", before, after);
        die("bounded address space", NULL);
    }
    pmr_create_options ow = {.size = 1 << 16, .max_size = UINT64_C(1) << 24, .direct = 1, .base = base};
    if (pmr_create(wide, &ow, &r, &e) != PMR_OK) die("a wider DIRECT region over a kept smaller span", &e);
    pmr_close(r);
    pmr_remove(small, NULL);
    pmr_remove(big, NULL);
    pmr_remove(wide, NULL);
    printf("OK reopened=100 cycles=2000 vm_growth_kb=%ld\n", after - before);
    return 0;
}
