/*
 * reader: started once, prints the text of a panmap region's SeqRecord each time it changes. It
 * takes no lock and makes no system call per read; a read is never a mix of two texts.
 *
 *   ./reader /greeting 30     # for 30 seconds (0: until killed)
 */
#define _POSIX_C_SOURCE 200809L
#include "../panmap_region.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s NAME [SECONDS]\n", argv[0]);
        return 2;
    }
    long seconds = argc > 2 ? atol(argv[2]) : 0;
    pmr_region *region;
    pmr_record record;
    pmr_error e;
    struct timespec retry = {0, 100 * 1000 * 1000};
    int rc = PMR_NOT_FOUND;
    for (int tries = 0; tries < 100; tries++) { /* not created yet: wait up to 10 s for the first updater */
        rc = pmr_open(argv[1], PMR_READ_ONLY, &region, &e);
        if (rc == PMR_OK && (rc = pmr_record_attach(region, 0, &record, &e)) != PMR_OK) {
            pmr_close(region); /* the region is there, its record not yet */
        }
        if (rc != PMR_NOT_FOUND && rc != PMR_INCOMPATIBLE_REGION) {
            break;
        }
        nanosleep(&retry, NULL);
    }
    if (rc != PMR_OK) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    char *text = calloc(1, record.payload_size + 1);
    uint64_t seen = UINT64_MAX;
    struct timespec tick = {0, 20 * 1000 * 1000};
    for (long ticks = 0; seconds == 0 || ticks < seconds * 50; ticks++) {
        if (pmr_record_version(&record) != seen) {
            if (pmr_record_read(&record, text, &seen, &e) != PMR_OK) {
                fprintf(stderr, "%s\n", e.message);
                break;
            }
            printf("version %llu: %s\n", (unsigned long long) seen, text);
            fflush(stdout);
        }
        nanosleep(&tick, NULL);
    }
    free(text);
    pmr_close(region);
    return 0;
}
