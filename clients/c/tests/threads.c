/*
 * threads: the C client's protocols between threads of one process, for ThreadSanitizer (which sees
 * one process only) and AddressSanitizer. Creates its own OFFSET region (DIRECT bases are where
 * ThreadSanitizer keeps its shadow memory), then:
 *   - a writer thread publishes WRITES versions of a SeqRecord whose words are all equal, while three
 *     reader threads copy it and count torn copies (must be 0): two through the writer's handle, so
 *     that ThreadSanitizer sees their accesses to the same addresses (it cannot see that two mappings
 *     of one object alias), and one through a handle of its own;
 *   - four threads, two handles, take the writer lock in turn and increment a counter with a separate
 *     load and store (lost updates if the lock did not exclude; a race ThreadSanitizer would name);
 *   - two threads of one handle: the second is refused while the first holds the lock.
 * Prints "OK ..." and exits 0, or prints what failed and exits 1.
 */
#define _GNU_SOURCE
#include "../panmap_region.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORDS 16
#define WRITES 20000
#define READERS 3
#define LOCKERS 4
#define INCREMENTS 2000

static char name[64];
static pmr_region *handles[2];
static _Atomic int writer_done;
static _Atomic uint64_t torn_total, reads_total;

static void die(const char *what, const pmr_error *e) {
    fprintf(stderr, "FAILED %s: %s\n", what, e->message);
    pmr_remove(name, NULL);
    exit(1);
}

static pmr_region *shared; /* the writer's handle, also used by readers 0 and 1 */

static void *writer(void *arg) {
    (void) arg;
    pmr_region *r = shared;
    pmr_error e;
    pmr_record rec;
    if (pmr_record_attach(r, 0, &rec, &e) != PMR_OK) die("writer attach", &e);
    if (pmr_lock(r, -1, &e) != PMR_OK) die("writer lock", &e);
    uint64_t buf[WORDS];
    for (uint64_t v = 1; v <= WRITES; v++) {
        for (int i = 0; i < WORDS; i++) buf[i] = v;
        if (pmr_record_write(&rec, buf, &e) != PMR_OK) die("write", &e);
    }
    if (pmr_unlock(r, &e) != PMR_OK) die("writer unlock", &e);
    atomic_store(&writer_done, 1);
    return NULL;
}

static void *reader(void *arg) {
    pmr_region *r = shared;
    pmr_error e;
    if ((intptr_t) arg == 2 && pmr_open(name, PMR_READ_ONLY, &r, &e) != PMR_OK) die("reader open", &e);
    pmr_record rec;
    if (pmr_record_attach(r, 0, &rec, &e) != PMR_OK) die("reader attach", &e);
    uint64_t copy[WORDS], reads = 0, torn = 0, last = 0;
    while (!atomic_load(&writer_done)) {
        uint64_t v = 0;
        if (pmr_record_read(&rec, copy, &v, &e) != PMR_OK) die("read", &e);
        for (int i = 1; i < WORDS; i++) {
            if (copy[i] != copy[0]) { torn++; break; }
        }
        if (v < last || copy[0] != v) torn++; /* version k carries value k here */
        last = v;
        reads++;
    }
    atomic_fetch_add(&torn_total, torn);
    atomic_fetch_add(&reads_total, reads);
    if (r != shared) pmr_close(r);
    return NULL;
}

static void *locker(void *arg) {
    pmr_region *r = handles[(intptr_t) arg % 2];
    pmr_error e;
    _Atomic uint64_t *counter = (_Atomic uint64_t *) (void *) ((unsigned char *) pmr_data(r) + 4096);
    for (int i = 0; i < INCREMENTS; i++) {
        int rc;
        while ((rc = pmr_lock(r, -1, &e)) == PMR_WOULD_BLOCK) {
            /* the other thread of this handle holds it */
        }
        if (rc != PMR_OK) die("lock", &e);
        uint64_t v = atomic_load_explicit(counter, memory_order_relaxed);
        atomic_store_explicit(counter, v + 1, memory_order_relaxed);
        if (pmr_unlock(r, &e) != PMR_OK) die("unlock", &e);
    }
    return NULL;
}

static _Atomic int holding, release_it;

static void *holder(void *arg) {
    (void) arg;
    pmr_error e;
    if (pmr_lock_try(handles[0], &e) != PMR_OK) die("holder trylock", &e);
    atomic_store(&holding, 1);
    while (!atomic_load(&release_it)) usleep(1000);
    if (pmr_unlock(handles[0], &e) != PMR_OK) die("holder unlock", &e);
    return NULL;
}

/*
 * DIRECT bases under sanitizers (FORMAT.md §8): a region created at the default base maps in this
 * build (plain: Java's default; ASan and TSan: a base they leave free), and one asked for at a base the
 * sanitizer owns (ASan: inside its allocator, where malloc's chunks are; TSan on x86_64: Java's default,
 * outside its application ranges, where it would kill the process) is refused with a message naming the
 * sanitizer; Java's default is created plainly otherwise. {@return the default DIRECT base chosen}
 */
static uint64_t sanitizer_bases(void) {
    char direct[80];
    snprintf(direct, sizeof direct, "%s-direct", name);
    pmr_error e;
    pmr_region *r;
    pmr_create_options o = {.size = 1 << 16, .direct = 1};
    if (pmr_create(direct, &o, &r, &e) != PMR_OK) die("create DIRECT at the default base", &e);
    uint64_t chosen = (uint64_t) (uintptr_t) pmr_base(r);
    pmr_close(r);
    pmr_remove(direct, NULL);
    o.base = PMR_DEFAULT_DIRECT_BASE;
#if defined(__SANITIZE_ADDRESS__)
    void *chunk = malloc(16);
    o.base = (uint64_t) (uintptr_t) chunk & ~UINT64_C(0xffff);
    free(chunk);
#endif
    int rc = pmr_create(direct, &o, &r, &e);
#if defined(__SANITIZE_ADDRESS__) || (defined(__SANITIZE_THREAD__) && defined(__x86_64__))
    const char *want = 
#if defined(__SANITIZE_ADDRESS__)
        "AddressSanitizer";
#else
        "ThreadSanitizer";
#endif
    if (rc != PMR_ADDRESS_IN_USE || strstr(e.message, want) == NULL) {
        fprintf(stderr, "FAILED a DIRECT base the sanitizer owns: %s, %s\n", pmr_code_name(rc), rc != PMR_OK ? e.message : "created");
        pmr_remove(direct, NULL);
        exit(1);
    }
    if (chosen == o.base) die("the default base under a sanitizer", NULL);
#else
    if (rc != PMR_OK) die("create DIRECT at Java's default base", &e);
    pmr_close(r);
    pmr_remove(direct, NULL);
#endif
    return chosen;
}

int main(void) {
    snprintf(name, sizeof name, "/pmr-threads-%d", (int) getpid());
    pmr_error e;
    pmr_create_options o = {.size = 1 << 16};
    pmr_region *creator;
    if (pmr_create(name, &o, &creator, &e) != PMR_OK) die("create", &e);
    pmr_record rec;
    if (pmr_record_format(creator, 0, WORDS * 8, &rec, &e) != PMR_OK) die("format", &e);

    pthread_t w, rd[READERS], lk[LOCKERS], h;
    if (pmr_open(name, PMR_READ_WRITE, &shared, &e) != PMR_OK) die("writer open", &e);
    for (intptr_t i = 0; i < READERS; i++) pthread_create(&rd[i], NULL, reader, (void *) i);
    pthread_create(&w, NULL, writer, NULL);
    pthread_join(w, NULL);
    for (int i = 0; i < READERS; i++) pthread_join(rd[i], NULL);
    pmr_close(shared);
    if (pmr_record_version(&rec) != WRITES || atomic_load(&torn_total) != 0) {
        fprintf(stderr, "FAILED record: version %llu (want %d), %llu torn of %llu reads\n",
                (unsigned long long) pmr_record_version(&rec), WRITES, (unsigned long long) torn_total,
                (unsigned long long) reads_total);
        pmr_remove(name, NULL);
        return 1;
    }

    for (int i = 0; i < 2; i++) {
        if (pmr_open(name, PMR_READ_WRITE, &handles[i], &e) != PMR_OK) die("open", &e);
    }
    for (intptr_t i = 0; i < LOCKERS; i++) pthread_create(&lk[i], NULL, locker, (void *) i);
    for (int i = 0; i < LOCKERS; i++) pthread_join(lk[i], NULL);
    uint64_t counter = atomic_load((_Atomic uint64_t *) (void *) ((unsigned char *) pmr_data(creator) + 4096));
    if (counter != (uint64_t) LOCKERS * INCREMENTS) {
        fprintf(stderr, "FAILED lock: counter %llu, want %d\n", (unsigned long long) counter, LOCKERS * INCREMENTS);
        pmr_remove(name, NULL);
        return 1;
    }

    pthread_create(&h, NULL, holder, NULL);
    while (!atomic_load(&holding)) usleep(1000);
    int same = pmr_lock_try(handles[0], &e);   /* another thread of the holding handle */
    int other = pmr_lock_try(handles[1], &e);  /* another handle */
    int creator_try = pmr_lock_try(creator, &e);
    atomic_store(&release_it, 1);
    pthread_join(h, NULL);
    if (same != PMR_WOULD_BLOCK || other != PMR_WOULD_BLOCK || creator_try != PMR_WOULD_BLOCK) {
        fprintf(stderr, "FAILED exclusion: %s %s %s\n", pmr_code_name(same), pmr_code_name(other), pmr_code_name(creator_try));
        pmr_remove(name, NULL);
        return 1;
    }
    pmr_close(handles[0]);
    pmr_close(handles[1]);
    pmr_close(creator);
    pmr_remove(name, NULL);
    uint64_t direct_base = sanitizer_bases();
    printf("OK reads=%llu torn=0 versions=%d counter=%llu direct_base=0x%llx\n", (unsigned long long) reads_total, WRITES,
           (unsigned long long) counter, (unsigned long long) direct_base);
    return 0;
}
