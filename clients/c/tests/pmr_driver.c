/*
 * pmr_driver: the C side of the cross-language tests (src/test/java/dev/panmap/clients). Reads one
 * command per line on stdin and answers on stdout, like the Java RegionChild:
 *
 *   open shm|file NAME ro|rw [offset|fallback]  -> OPENED base=HEX direct=0|1 size=N slot=S
 *   create shm|file NAME SIZE MAXSIZE offset|direct [BASEHEX] -> CREATED base=HEX size=N
 *   close | exit                                -> CLOSED | BYE
 *   get OFF | put OFF V                         -> VALUE N | OK          (acquire load / release store)
 *   follow AT                                   -> FOLLOWED N            (the reference at AT, then the long it points at)
 *   storeref AT TARGET                          -> OK
 *   trylock | lock MS | unlock                  -> LOCKED | BUSY | UNLOCKED
 *   info                                        -> INFO version=V size=N gen=G holder=PID acquisitions=N stale=N laststale=PID held=0|1
 *   refresh | size                              -> SIZE size=N
 *   record OFF | format OFF PAYLOAD             -> RECORD payload=N version=V
 *   read                                        -> READ version=V first=W equal=0|1
 *   readcheck MILLIS [MIN MAXMILLIS]            -> CHECKED reads=N torn=T versions=D first=F last=L backwards=B
 *                                                  (for MILLIS, then on until MIN versions were seen or MAXMILLIS passed)
 *   write COUNT                                 -> WROTE version=V value=W (COUNT versions, every word = last value + 1)
 *   writehalf V                                 -> HALF  (begins a write, sets half of the words to V, and stops there)
 *   attached                                    -> ATTACHED pid:alive ...
 *   layout                                      -> LAYOUT Class.FIELD VALUE ... (the client's constants, by their Java names)
 *   version                                     -> VERSION text major minor patch (the library's, then the header's)
 *   read [MS]                                   -> as read, through pmr_record_read_timed when MS is given
 *   list ROOT                                   -> LIST count=N sum=S (a whole walk of the NodeList at ROOT)
 *   hash ROOT KEY...                            -> HASH KEY=VALUE|KEY=- ...
 *   skip ROOT KEY...                            -> SKIP KEY=VALUE/FLOOR/CEILING ... (- for none)
 *   skipwalk ROOT FROM                          -> SKIPWALK count=N keysum=S (the keys from FROM on, in order)
 *   consume ROOT [GRACE_MS] | ringclose         -> CONSUMER head=H consumed=C | RINGCLOSED
 *   ringread LIMIT                              -> RINGREAD count=N first=F last=L sum=S head=H (payloads' first 8 bytes)
 *   receive ROOT                                -> RECEIVER position=P
 *   bcastread LIMIT                             -> BCAST count=N first=F last=L sum=S lapped=L lost=K
 *   attachloop shm|file NAME N                  -> LOOPED n=N failed=F [first failure] (opens read-only and closes, N times)
 *   heap                                        -> HEAP HEX  (where malloc put a chunk: under ASan, in its allocator)
 *
 * Failures answer "ERROR KIND message" with KIND the Java ErrorKind name.
 */
#define _GNU_SOURCE
#include "../panmap_region.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pmr_region *region;
static pmr_record record;
static int have_record;

static void error(const pmr_error *e) {
    printf("ERROR %s %s\n", pmr_kind(e->code), e->message);
}

static uint64_t ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static _Atomic uint64_t *at(uint64_t offset) {
    return (_Atomic uint64_t *) (void *) ((unsigned char *) pmr_data(region) + offset);
}

static void layout(void) {
    struct { const char *name; long long value; } c[] = {
        {"RegionLayout.MAGIC", (long long) PMR_MAGIC}, {"RegionLayout.LAYOUT_VERSION", PMR_LAYOUT_VERSION},
        {"RegionLayout.MAGIC_OFFSET", PMR_MAGIC_OFFSET}, {"RegionLayout.VERSION_OFFSET", PMR_VERSION_OFFSET},
        {"RegionLayout.HEADER_SIZE_OFFSET", PMR_HEADER_SIZE_OFFSET}, {"RegionLayout.REGION_SIZE_OFFSET", PMR_REGION_SIZE_OFFSET},
        {"RegionLayout.DATA_SIZE_OFFSET", PMR_DATA_SIZE_OFFSET}, {"RegionLayout.ADDRESSING_OFFSET", PMR_ADDRESSING_OFFSET},
        {"RegionLayout.PERMISSIONS_OFFSET", PMR_PERMISSIONS_OFFSET}, {"RegionLayout.BASE_ADDRESS_OFFSET", PMR_BASE_ADDRESS_OFFSET},
        {"RegionLayout.RESERVED_SPAN_OFFSET", PMR_RESERVED_SPAN_OFFSET}, {"RegionLayout.CREATOR_PID_OFFSET", PMR_CREATOR_PID_OFFSET},
        {"RegionLayout.ATTACH_CAPACITY_OFFSET", PMR_ATTACH_CAPACITY_OFFSET},
        {"RegionLayout.CREATOR_START_OFFSET", PMR_CREATOR_START_OFFSET},
        {"RegionLayout.CREATED_MILLIS_OFFSET", PMR_CREATED_MILLIS_OFFSET}, {"RegionLayout.CHECKSUM_OFFSET", PMR_CHECKSUM_OFFSET},
        {"RegionLayout.FLAGS_OFFSET", PMR_FLAGS_OFFSET}, {"RegionLayout.CHECKSUMMED_FROM", PMR_CHECKSUMMED_FROM},
        {"RegionLayout.CURRENT_SIZE_OFFSET", PMR_CURRENT_SIZE_OFFSET}, {"RegionLayout.GENERATION_OFFSET", PMR_GENERATION_OFFSET},
        {"RegionLayout.LOCK_HOLDER_OFFSET", PMR_LOCK_HOLDER_OFFSET},
        {"RegionLayout.LOCK_HOLDER_START_OFFSET", PMR_LOCK_HOLDER_START_OFFSET},
        {"RegionLayout.LOCK_ACQUISITIONS_OFFSET", PMR_LOCK_ACQUISITIONS_OFFSET},
        {"RegionLayout.LOCK_STALE_RECOVERIES_OFFSET", PMR_LOCK_STALE_RECOVERIES_OFFSET},
        {"RegionLayout.LOCK_LAST_STALE_OFFSET", PMR_LOCK_LAST_STALE_OFFSET},
        {"RegionLayout.LOCK_LAST_STALE_START_OFFSET", PMR_LOCK_LAST_STALE_START_OFFSET},
        {"RegionLayout.ATTACH_TABLE_OFFSET", PMR_ATTACH_TABLE_OFFSET}, {"RegionLayout.ATTACH_SLOT_SIZE", PMR_ATTACH_SLOT_SIZE},
        {"RegionLayout.SLOT_STAMP_OFFSET", PMR_SLOT_STAMP_OFFSET}, {"RegionLayout.SLOT_START_OFFSET", PMR_SLOT_START_OFFSET},
        {"RegionLayout.SLOT_ATTACHED_MILLIS_OFFSET", PMR_SLOT_ATTACHED_MILLIS_OFFSET},
        {"RegionLayout.SLOT_LOCK_BYTE", PMR_SLOT_LOCK_BYTE}, {"RegionLayout.WRITER_LOCK_BYTE", PMR_WRITER_LOCK_BYTE},
        {"RegionLayout.ADDRESSING_OFFSET_MODE", PMR_ADDRESSING_OFFSET_MODE},
        {"RegionLayout.ADDRESSING_DIRECT_MODE", PMR_ADDRESSING_DIRECT_MODE},
        {"RegionLayout.MIN_HEADER_SIZE", PMR_MIN_HEADER_SIZE},
        {"RegionLayout.DEFAULT_ATTACH_CAPACITY", PMR_DEFAULT_ATTACH_CAPACITY},
        {"RegionLayout.MAX_ATTACH_CAPACITY", PMR_MAX_ATTACH_CAPACITY},
        {"RecordLayout.MAGIC", (long long) PMR_RECORD_MAGIC}, {"RecordLayout.VERSION", PMR_RECORD_VERSION},
        {"RecordLayout.MAGIC_AND_VERSION", (long long) PMR_RECORD_MAGIC_AND_VERSION},
        {"RecordLayout.MAGIC_OFFSET", PMR_RECORD_MAGIC_OFFSET}, {"RecordLayout.PAYLOAD_SIZE_OFFSET", PMR_RECORD_PAYLOAD_SIZE_OFFSET},
        {"RecordLayout.SLOT_STRIDE_OFFSET", PMR_RECORD_SLOT_STRIDE_OFFSET},
        {"RecordLayout.PUBLISHED_OFFSET", PMR_RECORD_PUBLISHED_OFFSET}, {"RecordLayout.REPAIRED_OFFSET", PMR_RECORD_REPAIRED_OFFSET},
        {"RecordLayout.SLOTS_OFFSET", PMR_RECORD_SLOTS_OFFSET},
        {"RecordLayout.SLOT_SEQUENCE_OFFSET", PMR_RECORD_SLOT_SEQUENCE_OFFSET},
        {"RecordLayout.SLOT_PAYLOAD_OFFSET", PMR_RECORD_SLOT_PAYLOAD_OFFSET}, {"RecordLayout.MAX_PAYLOAD", PMR_RECORD_MAX_PAYLOAD},
        {"RecordLayout.slotStride(1)", PMR_RECORD_SLOT_STRIDE(1)}, {"RecordLayout.slotStride(56)", PMR_RECORD_SLOT_STRIDE(56)},
        {"RecordLayout.slotStride(57)", PMR_RECORD_SLOT_STRIDE(57)}, {"RecordLayout.footprint(100)", (long long) PMR_RECORD_FOOTPRINT(100)},
        {"RegionLayout.MAX_RESERVED_SPAN", (long long) PMR_MAX_RESERVED_SPAN}, {"RegionLayout.MIN_DIRECT_BASE", (long long) PMR_MIN_DIRECT_BASE},
        {"RegionLayout.USER_SPACE_END", (long long) PMR_USER_SPACE_END},
        {"StructureLayout.ALIGNMENT", PMR_STRUCTURE_ALIGNMENT}, {"StructureLayout.MAGIC_OFFSET", PMR_STRUCTURE_MAGIC_OFFSET},
        {"StructureLayout.VERSION_OFFSET", PMR_STRUCTURE_VERSION_OFFSET},
        {"StructureLayout.Heap.MAGIC", (long long) PMR_HEAP_MAGIC}, {"StructureLayout.Heap.VERSION", PMR_HEAP_VERSION},
        {"StructureLayout.Heap.START_OFFSET", PMR_HEAP_START_OFFSET}, {"StructureLayout.Heap.END_OFFSET", PMR_HEAP_END_OFFSET},
        {"StructureLayout.Heap.BUMP_OFFSET", PMR_HEAP_BUMP_OFFSET}, {"StructureLayout.Heap.SIZE", PMR_HEAP_SIZE},
        {"StructureLayout.List.MAGIC", (long long) PMR_LIST_MAGIC}, {"StructureLayout.List.VERSION", PMR_LIST_VERSION},
        {"StructureLayout.List.NODE_SIZE_OFFSET", PMR_LIST_NODE_SIZE_OFFSET}, {"StructureLayout.List.FIRST_OFFSET", PMR_LIST_FIRST_OFFSET},
        {"StructureLayout.List.LAST_OFFSET", PMR_LIST_LAST_OFFSET}, {"StructureLayout.List.COUNT_OFFSET", PMR_LIST_COUNT_OFFSET},
        {"StructureLayout.List.HEAP_OFFSET", PMR_LIST_HEAP_OFFSET}, {"StructureLayout.List.SIZE", PMR_LIST_SIZE},
        {"StructureLayout.List.NODE_NEXT_OFFSET", PMR_LIST_NODE_NEXT_OFFSET},
        {"StructureLayout.List.NODE_PAYLOAD_OFFSET", PMR_LIST_NODE_PAYLOAD_OFFSET},
        {"StructureLayout.List.MIN_NODE_SIZE", PMR_LIST_MIN_NODE_SIZE},
        {"StructureLayout.Hash.MAGIC", (long long) PMR_HASH_MAGIC}, {"StructureLayout.Hash.VERSION", PMR_HASH_VERSION},
        {"StructureLayout.Hash.CAPACITY_OFFSET", PMR_HASH_CAPACITY_OFFSET}, {"StructureLayout.Hash.COUNT_OFFSET", PMR_HASH_COUNT_OFFSET},
        {"StructureLayout.Hash.TABLE_OFFSET", PMR_HASH_TABLE_OFFSET}, {"StructureLayout.Hash.SIZE", PMR_HASH_SIZE},
        {"StructureLayout.Hash.SLOT_KEY_OFFSET", PMR_HASH_SLOT_KEY_OFFSET},
        {"StructureLayout.Hash.SLOT_VALUE_OFFSET", PMR_HASH_SLOT_VALUE_OFFSET}, {"StructureLayout.Hash.SLOT_SIZE", PMR_HASH_SLOT_SIZE},
        {"StructureLayout.Skip.MAGIC", (long long) PMR_SKIP_MAGIC}, {"StructureLayout.Skip.VERSION", PMR_SKIP_VERSION},
        {"StructureLayout.Skip.MAX_LEVEL_OFFSET", PMR_SKIP_MAX_LEVEL_OFFSET}, {"StructureLayout.Skip.COUNT_OFFSET", PMR_SKIP_COUNT_OFFSET},
        {"StructureLayout.Skip.HEAD_OFFSET", PMR_SKIP_HEAD_OFFSET}, {"StructureLayout.Skip.HEAP_OFFSET", PMR_SKIP_HEAP_OFFSET},
        {"StructureLayout.Skip.RANDOM_OFFSET", PMR_SKIP_RANDOM_OFFSET},
        {"StructureLayout.Skip.TOP_LEVEL_OFFSET", PMR_SKIP_TOP_LEVEL_OFFSET}, {"StructureLayout.Skip.SIZE", PMR_SKIP_SIZE},
        {"StructureLayout.Skip.NODE_KEY_OFFSET", PMR_SKIP_NODE_KEY_OFFSET},
        {"StructureLayout.Skip.NODE_VALUE_OFFSET", PMR_SKIP_NODE_VALUE_OFFSET},
        {"StructureLayout.Skip.NODE_LEVEL_OFFSET", PMR_SKIP_NODE_LEVEL_OFFSET},
        {"StructureLayout.Skip.NODE_NEXT_OFFSET", PMR_SKIP_NODE_NEXT_OFFSET}, {"StructureLayout.Skip.MAX_LEVEL", PMR_SKIP_MAX_LEVEL},
    };
    printf("LAYOUT");
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        printf(" %s=%lld", c[i].name, c[i].value);
    }
    printf("\n");
}

/* Reads the record for MILLIS ms; its payload is words that a writer always sets all equal. */
static void readcheck(long millis, uint64_t min_versions, long max_millis) {
    uint32_t words = record.payload_size / 8;
    uint64_t *copy = calloc(words == 0 ? 1 : words, 8);
    uint64_t start = ms(), reads = 0, torn = 0, versions = 0, backwards = 0, first = 0, last = 0, deadline = start + (uint64_t) millis;
    uint64_t limit = start + (uint64_t) (max_millis > millis ? max_millis : millis);
    int any = 0;
    do {
        for (int k = 0; k < 256; k++) {
            uint64_t v = 0;
            pmr_error e;
            if (pmr_record_read(&record, copy, &v, &e) != PMR_OK) {
                printf("ERROR %s %s\n", pmr_kind(e.code), e.message);
                free(copy);
                return;
            }
            for (uint32_t i = 1; i < words; i++) {
                if (copy[i] != copy[0]) {
                    torn++;
                    break;
                }
            }
            if (!any) {
                first = v;
                any = 1;
            } else if (v < last) {
                backwards++;
            }
            if (v != last) {
                versions++;
            }
            last = v;
            reads++;
        }
    } while (ms() < deadline || (versions < min_versions && ms() < limit));
    free(copy);
    printf("CHECKED reads=%llu torn=%llu versions=%llu first=%llu last=%llu backwards=%llu\n", (unsigned long long) reads,
           (unsigned long long) torn, (unsigned long long) versions, (unsigned long long) first, (unsigned long long) last,
           (unsigned long long) backwards);
}

static int64_t walked;
static pmr_ring_consumer *consumer;
static pmr_broadcast_receiver receiver;
static int have_receiver;
static uint64_t got_first, got_last, got_sum;
static int got_any;

static void collect_start(void) {
    got_any = 0;
    got_first = got_last = got_sum = 0;
}

/* collects a message: its payload's first 8 bytes (0 if shorter), the first and last of a read, their sum */
static int collect(void *context, int32_t type, const void *payload, uint32_t length) {
    (void) context;
    (void) type;
    uint64_t v = 0;
    memcpy(&v, payload, length < 8 ? length : 8);
    if (!got_any) {
        got_first = v;
        got_any = 1;
    }
    got_last = v;
    got_sum += v;
    return 0;
}

static int sum_keys(void *context, int64_t key, int64_t value) {
    (void) context;
    (void) value;
    walked = (int64_t) ((uint64_t) walked + (uint64_t) key);
    return 0;
}

/* Closes the open region, with the ring consumer and receiver that read it. */
static void forget_region(void) {
    pmr_ring_consumer_close(consumer);
    consumer = NULL;
    if (have_receiver) {
        pmr_broadcast_receiver_close(&receiver);
        have_receiver = 0;
    }
    pmr_close(region);
    region = NULL;
    have_record = 0;
}

static void command(char *line) {
    char *a[64] = {0};
    int n = 0;
    for (char *t = strtok(line, " \t\n"); t != NULL && n < 64; t = strtok(NULL, " \t\n")) {
        a[n++] = t;
    }
    if (n == 0) {
        return;
    }
    pmr_error e;
    memset(&e, 0, sizeof e);
    int rc;
    const char *c = a[0];
    if (strcmp(c, "open") == 0 && n >= 4) {
        int flags = strcmp(a[3], "rw") == 0 ? PMR_READ_WRITE : PMR_READ_ONLY;
        if (n > 4 && strcmp(a[4], "offset") == 0) {
            flags |= PMR_OFFSET_MODE;
        } else if (n > 4 && strcmp(a[4], "fallback") == 0) {
            flags |= PMR_ALLOW_OFFSET_FALLBACK;
        }
        pmr_region *opened; /* a region open before stays open until this one succeeds (a DIRECT base taken here) */
        rc = strcmp(a[1], "file") == 0 ? pmr_open_file(a[2], flags, &opened, &e) : pmr_open(a[2], flags, &opened, &e);
        if (rc != PMR_OK) {
            error(&e);
            return;
        }
        forget_region();
        region = opened;
        printf("OPENED base=%llx direct=%d size=%llu slot=%d\n", (unsigned long long) (uintptr_t) pmr_base(region),
               pmr_is_direct(region), (unsigned long long) pmr_size(region), pmr_attach_slot(region));
    } else if (strcmp(c, "create") == 0 && n >= 6) {
        pmr_create_options o = {.size = strtoull(a[3], NULL, 10), .max_size = strtoull(a[4], NULL, 10),
                                .direct = strcmp(a[5], "direct") == 0, .base = n > 6 ? strtoull(a[6], NULL, 16) : 0};
        rc = strcmp(a[1], "file") == 0 ? pmr_create_file(a[2], &o, &region, &e) : pmr_create(a[2], &o, &region, &e);
        if (rc != PMR_OK) {
            error(&e);
            return;
        }
        printf("CREATED base=%llx size=%llu\n", (unsigned long long) (uintptr_t) pmr_base(region), (unsigned long long) pmr_size(region));
    } else if (strcmp(c, "close") == 0) {
        forget_region();
        printf("CLOSED\n");
    } else if (strcmp(c, "exit") == 0) {
        forget_region();
        printf("BYE\n");
        fflush(stdout);
        exit(0);
    } else if (strcmp(c, "layout") == 0) {
        layout();
    } else if (strcmp(c, "heap") == 0) {
        void *chunk = malloc(16);
        printf("HEAP %llx\n", (unsigned long long) (uintptr_t) chunk);
        free(chunk);
    } else if (strcmp(c, "version") == 0) {
        int major, minor, patch;
        const char *text = pmr_version(&major, &minor, &patch);
        printf("VERSION %s %d %d %d header %s\n", text, major, minor, patch, PMR_VERSION_STRING);
    } else if (strcmp(c, "attachloop") == 0 && n >= 4) {
        long count = strtol(a[3], NULL, 10), failed = 0;
        char first[sizeof e.message] = "";
        for (long i = 0; i < count; i++) {
            pmr_region *r;
            rc = strcmp(a[1], "file") == 0 ? pmr_open_file(a[2], PMR_READ_ONLY, &r, &e) : pmr_open(a[2], PMR_READ_ONLY, &r, &e);
            if (rc != PMR_OK) {
                if (failed++ == 0) {
                    memcpy(first, e.message, sizeof first);
                }
                continue;
            }
            pmr_close(r);
        }
        printf("LOOPED n=%ld failed=%ld %s\n", count, failed, first);
    } else if (region == NULL) {
        printf("ERROR INVALID_ARGUMENT no region open\n");
    } else if (strcmp(c, "get") == 0 && n >= 2) {
        printf("VALUE %lld\n", (long long) atomic_load_explicit(at(strtoull(a[1], NULL, 10)), memory_order_acquire));
    } else if (strcmp(c, "put") == 0 && n >= 3) {
        atomic_store_explicit(at(strtoull(a[1], NULL, 10)), (uint64_t) strtoll(a[2], NULL, 10), memory_order_release);
        printf("OK\n");
    } else if (strcmp(c, "storeref") == 0 && n >= 3) {
        atomic_store_explicit(at(strtoull(a[1], NULL, 10)), pmr_ref(region, strtoull(a[2], NULL, 10)), memory_order_release);
        printf("OK\n");
    } else if (strcmp(c, "follow") == 0 && n >= 2) {
        uint64_t ref = atomic_load_explicit(at(strtoull(a[1], NULL, 10)), memory_order_acquire);
        const _Atomic uint64_t *p = pmr_follow(region, ref, 8, &e);
        if (p == NULL) {
            error(&e);
            return;
        }
        printf("FOLLOWED %lld ref=%llx\n", (long long) atomic_load_explicit(p, memory_order_acquire), (unsigned long long) ref);
    } else if (strcmp(c, "trylock") == 0 || strcmp(c, "lock") == 0) {
        rc = c[0] == 't' ? pmr_lock_try(region, &e) : pmr_lock(region, n >= 2 ? strtol(a[1], NULL, 10) : -1, &e);
        if (rc == PMR_OK) {
            printf("LOCKED pid=%d\n", (int) getpid());
        } else if (rc == PMR_WOULD_BLOCK) {
            printf("BUSY\n");
        } else {
            error(&e);
        }
    } else if (strcmp(c, "unlock") == 0) {
        if (pmr_unlock(region, &e) != PMR_OK) {
            error(&e);
            return;
        }
        printf("UNLOCKED\n");
    } else if (strcmp(c, "info") == 0) {
        pmr_info i;
        if (pmr_get_info(region, &i, &e) != PMR_OK) {
            error(&e);
            return;
        }
        printf("INFO version=%u size=%llu gen=%llu holder=%d acquisitions=%llu stale=%llu laststale=%d held=%d\n", i.layout_version,
               (unsigned long long) i.current_size, (unsigned long long) i.generation, pmr_stamp_pid(i.lock_holder),
               (unsigned long long) i.lock_acquisitions, (unsigned long long) i.lock_stale_recoveries,
               pmr_stamp_pid(i.lock_last_stale), i.lock_held_elsewhere);
    } else if (strcmp(c, "refresh") == 0 || strcmp(c, "size") == 0) {
        if (c[0] == 'r' && pmr_refresh(region, &e) != PMR_OK) {
            error(&e);
            return;
        }
        printf("SIZE size=%llu\n", (unsigned long long) pmr_size(region));
    } else if (strcmp(c, "list") == 0 && n >= 2) {
        pmr_list list;
        uint64_t count = 0;
        int64_t sum = 0;
        if (pmr_list_attach(region, strtoull(a[1], NULL, 10), &list, &e) != PMR_OK || pmr_list_walk(&list, NULL, NULL, &count, &sum, &e) != PMR_OK) {
            error(&e);
            return;
        }
        printf("LIST count=%llu sum=%lld\n", (unsigned long long) count, (long long) sum);
    } else if (strcmp(c, "hash") == 0 && n >= 2) {
        pmr_hash hash;
        if (pmr_hash_attach(region, strtoull(a[1], NULL, 10), &hash, &e) != PMR_OK) {
            error(&e);
            return;
        }
        char out[4096] = "HASH";
        for (int i = 2; i < n; i++) {
            int64_t key = strtoll(a[i], NULL, 10), value;
            int found;
            if (pmr_hash_get(&hash, key, &value, &found, &e) != PMR_OK) {
                error(&e);
                return;
            }
            size_t used = strlen(out);
            found ? snprintf(out + used, sizeof out - used, " %lld=%lld", (long long) key, (long long) value)
                  : snprintf(out + used, sizeof out - used, " %lld=-", (long long) key);
        }
        printf("%s\n", out);
    } else if (strcmp(c, "skip") == 0 && n >= 2) {
        pmr_skip skip;
        if (pmr_skip_attach(region, strtoull(a[1], NULL, 10), &skip, &e) != PMR_OK) {
            error(&e);
            return;
        }
        char out[4096] = "SKIP";
        for (int i = 2; i < n; i++) {
            int64_t key = strtoll(a[i], NULL, 10), value, fk, ck;
            int found, hf, hc;
            if (pmr_skip_get(&skip, key, &value, &found, &e) != PMR_OK || pmr_skip_floor(&skip, key, &hf, &fk, NULL, &e) != PMR_OK
                || pmr_skip_ceiling(&skip, key, &hc, &ck, NULL, &e) != PMR_OK) {
                error(&e);
                return;
            }
            char v[32] = "-", f[32] = "-", cc[32] = "-";
            if (found) snprintf(v, sizeof v, "%lld", (long long) value);
            if (hf) snprintf(f, sizeof f, "%lld", (long long) fk);
            if (hc) snprintf(cc, sizeof cc, "%lld", (long long) ck);
            size_t used = strlen(out);
            snprintf(out + used, sizeof out - used, " %lld=%s/%s/%s", (long long) key, v, f, cc);
        }
        printf("%s\n", out);
    } else if (strcmp(c, "skipwalk") == 0 && n >= 3) {
        pmr_skip skip;
        uint64_t count = 0;
        walked = 0;
        if (pmr_skip_attach(region, strtoull(a[1], NULL, 10), &skip, &e) != PMR_OK
            || pmr_skip_walk(&skip, strtoll(a[2], NULL, 10), sum_keys, NULL, &count, &e) != PMR_OK) {
            error(&e);
            return;
        }
        printf("SKIPWALK count=%llu keysum=%lld\n", (unsigned long long) count, (long long) walked);
    } else if (strcmp(c, "consume") == 0 && n >= 2) {
        pmr_ring_consumer_close(consumer);
        consumer = NULL;
        if (pmr_ring_consumer_open(region, strtoull(a[1], NULL, 10), n >= 3 ? strtol(a[2], NULL, 10) : 10, &consumer, &e) != PMR_OK) {
            error(&e);
            return;
        }
        printf("CONSUMER head=%llu consumed=%llu\n", (unsigned long long) pmr_ring_position(consumer),
               (unsigned long long) pmr_ring_consumed(consumer));
    } else if (strcmp(c, "ringclose") == 0) {
        pmr_ring_consumer_close(consumer);
        consumer = NULL;
        printf("RINGCLOSED\n");
    } else if (strcmp(c, "ringread") == 0 && n >= 2 && consumer != NULL) {
        int count = 0;
        collect_start();
        if (pmr_ring_read(consumer, collect, NULL, (int) strtol(a[1], NULL, 10), &count, &e) != PMR_OK) {
            error(&e);
            return;
        }
        printf("RINGREAD count=%d first=%llu last=%llu sum=%llu head=%llu\n", count, (unsigned long long) got_first,
               (unsigned long long) got_last, (unsigned long long) got_sum, (unsigned long long) pmr_ring_position(consumer));
    } else if (strcmp(c, "receive") == 0 && n >= 2) {
        if (have_receiver) {
            pmr_broadcast_receiver_close(&receiver);
            have_receiver = 0;
        }
        if (pmr_broadcast_receiver_open(region, strtoull(a[1], NULL, 10), &receiver, &e) != PMR_OK) {
            error(&e);
            return;
        }
        have_receiver = 1;
        printf("RECEIVER position=%llu\n", (unsigned long long) receiver.cursor);
    } else if (strcmp(c, "bcastread") == 0 && n >= 2 && have_receiver) {
        int count = 0;
        collect_start();
        if (pmr_broadcast_receive(&receiver, collect, NULL, (int) strtol(a[1], NULL, 10), &count, &e) != PMR_OK) {
            error(&e);
            return;
        }
        printf("BCAST count=%d first=%llu last=%llu sum=%llu lapped=%llu lost=%llu\n", count, (unsigned long long) got_first,
               (unsigned long long) got_last, (unsigned long long) got_sum, (unsigned long long) receiver.lapped,
               (unsigned long long) receiver.lost);
    } else if ((strcmp(c, "record") == 0 && n >= 2) || (strcmp(c, "format") == 0 && n >= 3)) {
        rc = c[0] == 'r' ? pmr_record_attach(region, strtoull(a[1], NULL, 10), &record, &e)
                         : pmr_record_format(region, strtoull(a[1], NULL, 10), (uint32_t) strtoul(a[2], NULL, 10), &record, &e);
        if (rc != PMR_OK) {
            error(&e);
            return;
        }
        have_record = 1;
        printf("RECORD payload=%u version=%llu\n", record.payload_size, (unsigned long long) pmr_record_version(&record));
    } else if (!have_record) {
        printf("ERROR INVALID_ARGUMENT no record attached\n");
    } else if (strcmp(c, "read") == 0) {
        uint32_t words = (record.payload_size + 7) / 8;
        uint64_t *copy = calloc(words, 8);
        uint64_t v = 0;
        rc = n >= 2 ? pmr_record_read_timed(&record, copy, strtol(a[1], NULL, 10), &v, &e) : pmr_record_read(&record, copy, &v, &e);
        if (rc != PMR_OK) {
            free(copy);
            error(&e);
            return;
        }
        int equal = 1;
        for (uint32_t i = 1; i < record.payload_size / 8; i++) {
            equal &= copy[i] == copy[0];
        }
        printf("READ version=%llu first=%lld equal=%d repaired=%llu\n", (unsigned long long) v, (long long) copy[0], equal,
               (unsigned long long) pmr_record_repaired(&record));
        free(copy);
    } else if (strcmp(c, "readcheck") == 0 && n >= 2) {
        readcheck(strtol(a[1], NULL, 10), n >= 4 ? strtoull(a[2], NULL, 10) : 0, n >= 4 ? strtol(a[3], NULL, 10) : 0);
    } else if (strcmp(c, "write") == 0 && n >= 2) {
        long count = strtol(a[1], NULL, 10);
        uint32_t words = (record.payload_size + 7) / 8;
        uint64_t *buf = calloc(words, 8);
        if (pmr_record_read(&record, buf, NULL, &e) != PMR_OK) {
            free(buf);
            error(&e);
            return;
        }
        uint64_t value = buf[0];
        for (long k = 0; k < count; k++) {
            value++;
            for (uint32_t i = 0; i < words; i++) {
                buf[i] = value;
            }
            if (pmr_record_write(&record, buf, &e) != PMR_OK) {
                free(buf);
                error(&e);
                return;
            }
        }
        free(buf);
        printf("WROTE version=%llu value=%llu\n", (unsigned long long) pmr_record_version(&record), (unsigned long long) value);
    } else if (strcmp(c, "writehalf") == 0 && n >= 2) {
        uint64_t *p = pmr_record_begin(&record, &e);
        if (p == NULL) {
            error(&e);
            return;
        }
        uint64_t v = strtoull(a[1], NULL, 10);
        for (uint32_t i = 0; i < record.payload_size / 16; i++) {
            p[i] = v;
        }
        printf("HALF\n"); /* and never publishes: the test kills this process here */
    } else if (strcmp(c, "attached") == 0) {
        pmr_process list[256];
        int count = pmr_attached(region, list, 256, &e);
        if (count < 0) {
            error(&e);
            return;
        }
        printf("ATTACHED");
        for (int i = 0; i < count; i++) {
            printf(" %d:%s", list[i].pid, list[i].alive ? "true" : "false");
        }
        printf("\n");
    } else {
        printf("ERROR INVALID_ARGUMENT unknown command %s\n", c);
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("READY pid=%d\n", (int) getpid());
    char line[16384];
    while (fgets(line, sizeof line, stdin) != NULL) {
        command(line);
    }
    pmr_close(region);
    return 0;
}
