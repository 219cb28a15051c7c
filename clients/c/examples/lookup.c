/*
 * lookup: reads the structures a Java program keeps in a panmap region, with no lock.
 *
 *   ./lookup NAME list ROOT           walks the NodeList at data offset ROOT: its node count and the sum of its values
 *   ./lookup NAME hash ROOT KEY...    looks KEYs up in the HashIndex at ROOT
 *   ./lookup NAME skip ROOT KEY...    looks KEYs up in the SkipList at ROOT: the value, the floor and the ceiling
 *
 * Built against the installed library: cc lookup.c $(pkg-config --cflags --libs panmap-region).
 */
#include <panmap_region.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s NAME list|hash|skip ROOT [KEY...]\n", argv[0]);
        return 2;
    }
    int major;
    pmr_version(&major, NULL, NULL);
    if (major != PMR_VERSION_MAJOR) { /* the header compiled against and the library run with disagree */
        fprintf(stderr, "built against panmap-region %s, running with %s\n", PMR_VERSION_STRING, pmr_version(NULL, NULL, NULL));
        return 1;
    }
    pmr_region *region;
    pmr_error e;
    if (pmr_open(argv[1], PMR_READ_ONLY | PMR_ALLOW_OFFSET_FALLBACK, &region, &e) != PMR_OK) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    uint64_t root = strtoull(argv[3], NULL, 10);
    int rc = PMR_OK;
    if (strcmp(argv[2], "list") == 0) {
        pmr_list list;
        uint64_t count;
        int64_t sum;
        if ((rc = pmr_list_attach(region, root, &list, &e)) == PMR_OK && (rc = pmr_list_walk(&list, NULL, NULL, &count, &sum, &e)) == PMR_OK) {
            printf("nodes %" PRIu64 ", sum %" PRId64 "\n", count, sum);
        }
    } else if (strcmp(argv[2], "hash") == 0) {
        pmr_hash hash;
        rc = pmr_hash_attach(region, root, &hash, &e);
        for (int i = 4; i < argc && rc == PMR_OK; i++) {
            int64_t key = strtoll(argv[i], NULL, 10), value;
            int found;
            if ((rc = pmr_hash_get(&hash, key, &value, &found, &e)) == PMR_OK) {
                found ? printf("%" PRId64 " -> %" PRId64 "\n", key, value) : printf("%" PRId64 " absent\n", key);
            }
        }
    } else if (strcmp(argv[2], "skip") == 0) {
        pmr_skip skip;
        rc = pmr_skip_attach(region, root, &skip, &e);
        for (int i = 4; i < argc && rc == PMR_OK; i++) {
            int64_t key = strtoll(argv[i], NULL, 10), value, floor_key = 0, ceiling_key = 0;
            int found, has_floor, has_ceiling;
            if ((rc = pmr_skip_get(&skip, key, &value, &found, &e)) == PMR_OK
                && (rc = pmr_skip_floor(&skip, key, &has_floor, &floor_key, NULL, &e)) == PMR_OK
                && (rc = pmr_skip_ceiling(&skip, key, &has_ceiling, &ceiling_key, NULL, &e)) == PMR_OK) {
                printf("%" PRId64 ": ", key);
                found ? printf("%" PRId64, value) : printf("absent");
                has_floor ? printf(", floor %" PRId64, floor_key) : printf(", no floor");
                has_ceiling ? printf(", ceiling %" PRId64 "\n", ceiling_key) : printf(", no ceiling\n");
            }
        }
    } else {
        fprintf(stderr, "unknown structure %s\n", argv[2]);
        rc = PMR_INVALID_ARGUMENT;
        e.message[0] = '\0';
    }
    if (rc != PMR_OK && e.message[0] != '\0') {
        fprintf(stderr, "%s\n", e.message);
    }
    pmr_close(region);
    return rc == PMR_OK ? 0 : 1;
}
