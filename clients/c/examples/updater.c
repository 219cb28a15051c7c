/*
 * updater: rewrites a text in a panmap region. The first run creates the region and the text's
 * SeqRecord; every run replaces the text under the writer lock (so it excludes Java writers too).
 *
 *   ./updater /greeting "hello"        # creates /greeting if needed, writes "hello"
 *   ./updater /greeting "hello again"  # a reader started once sees it change
 *
 * The region is an ordinary panmap region: a Java program reads the same text with
 * SeqRecord.attach(SharedRegion.open("/greeting"), 0).read(...), Python with
 * python3 -m panmap_region read /greeting 0 --text.
 */
#include "../panmap_region.h"

#include <stdio.h>
#include <string.h>

#define TEXT_BYTES 256

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s NAME TEXT\n", argv[0]);
        return 2;
    }
    pmr_region *region;
    pmr_record record;
    pmr_error e;
    pmr_create_options options = {.size = 4096};
    int rc = pmr_create(argv[1], &options, &region, &e);
    if (rc == PMR_OK) {
        rc = pmr_record_format(region, 0, TEXT_BYTES, &record, &e);
    } else if (rc == PMR_ALREADY_EXISTS) {
        rc = pmr_open(argv[1], PMR_READ_WRITE, &region, &e);
        if (rc == PMR_OK) {
            rc = pmr_record_attach(region, 0, &record, &e);
        }
    }
    if (rc != PMR_OK) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    char text[TEXT_BYTES] = {0};
    strncpy(text, argv[2], TEXT_BYTES - 1);
    if ((rc = pmr_lock(region, 5000, &e)) == PMR_OK) {
        rc = pmr_record_write(&record, text, &e);
        pmr_unlock(region, NULL);
    }
    if (rc != PMR_OK) {
        fprintf(stderr, "%s\n", e.message);
    } else {
        printf("version %llu: %s\n", (unsigned long long) pmr_record_version(&record), text);
    }
    pmr_close(region);
    return rc == PMR_OK ? 0 : 1;
}
