/*
 * Self-test of kernel32_emu.c (test scaffolding, Linux only). Build and run from the repository root:
 *
 *   gcc -std=gnu11 -O1 -Wall -Wextra -Werror -shared -fPIC -I native-headers/windows \
 *       -o /tmp/libkernel32emu.so src/test/native/emulation/kernel32_emu.c -lpthread
 *   gcc -std=gnu11 -O1 -Wall -Wextra -Werror -I native-headers/windows -o /tmp/emu_selftest \
 *       src/test/native/emulation/emu_selftest.c /tmp/libkernel32emu.so -lpthread
 *   /tmp/emu_selftest            (also under valgrind --error-exitcode=1, or both built with
 *                                 -fsanitize=address,undefined)
 *
 * Exits 0 when every check passes; prints each failed check.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "panmap_windows.h"

/* the test hooks */
void emu_fail_next(const char *function, uint32_t error);
int emu_open_handles(void);
int emu_live_views(void);
int emu_live_allocations(void);
const char *emu_sddl_of(void *handle);
uint32_t emu_protect_of(void *section);
uint32_t emu_access_of(void *handle);
unsigned long long emu_section_size(void *section);
int emu_calls(const char *function);
void emu_reset(void);

#define INVALID ((void *)(intptr_t)-1)

static int failures, checks; /* updated atomically: threads check too */

#define CHECK(cond)                                                                                       \
    do {                                                                                                  \
        __atomic_add_fetch(&checks, 1, __ATOMIC_RELAXED);                                                 \
        if (!(cond) && __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED) <= 50)                          \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                               \
    } while (0)

/* a call and its last error: E(expr) evaluates expr, then last_err holds errno */
static int last_err;
#define E(expr) ({ __typeof__(expr) e_r_ = (expr); last_err = errno; e_r_; })

/* UTF-8 -> UTF-16 (NUL-terminated), in one of several rotating buffers */
static uint16_t *W(const char *s) {
    static __thread uint16_t bufs[8][1024];
    static __thread int k;
    uint16_t *o = bufs[k++ % 8];
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c;
        if (*p < 0x80)
            c = *p++;
        else if ((*p & 0xE0) == 0xC0)
            c = (uint32_t)(*p++ & 0x1F) << 6, c |= *p++ & 0x3F;
        else if ((*p & 0xF0) == 0xE0)
            c = (uint32_t)(*p++ & 0x0F) << 12, c |= (uint32_t)(*p++ & 0x3F) << 6, c |= *p++ & 0x3F;
        else
            c = (uint32_t)(*p++ & 0x07) << 18, c |= (uint32_t)(*p++ & 0x3F) << 12, c |= (uint32_t)(*p++ & 0x3F) << 6,
            c |= *p++ & 0x3F;
        if (c >= 0x10000) {
            c -= 0x10000;
            o[n++] = (uint16_t)(0xD800 + (c >> 10));
            o[n++] = (uint16_t)(0xDC00 + (c & 0x3FF));
        } else {
            o[n++] = (uint16_t)c;
        }
    }
    o[n] = 0;
    return o;
}

static char *A(const uint16_t *w) {
    static char buf[1024];
    size_t i = 0;
    for (; w[i] && i < sizeof buf - 1; i++)
        buf[i] = (char)w[i];
    buf[i] = 0;
    return buf;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static char g_tag[64];
static char g_dir[256];

static char *name(const char *base) {
    static __thread char bufs[8][256];
    static __thread int k;
    char *b = bufs[k++ % 8];
    snprintf(b, 256, "%s-%s", base, g_tag);
    return b;
}

static char *shm_path(const char *canon_dotted, int mutex) {
    static char bufs[4][512];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, 512, "/dev/shm/panmap-emu-%s%s", mutex ? "mutex-" : "", canon_dotted);
    return b;
}

static char *fpath(const char *leaf) {
    static char bufs[8][512];
    static int k;
    char *b = bufs[k++ % 8];
    snprintf(b, 512, "%s/%s", g_dir, leaf);
    return b;
}

static void msleep(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- handles and hooks */

static void test_handles_and_hooks(void) {
    CHECK(E(CloseHandle(NULL)) == 0 && last_err == ERROR_INVALID_HANDLE);
    CHECK(E(CloseHandle((void *)0x1234)) == 0 && last_err == ERROR_INVALID_HANDLE);
    CHECK(E(CloseHandle((void *)0x3)) == 0 && last_err == ERROR_INVALID_HANDLE);
    CHECK(GetCurrentProcess() == INVALID);
    CHECK(E(CloseHandle(GetCurrentProcess())) == 1 && last_err == 0);
    CHECK(GetCurrentProcessId() == (uint32_t)getpid());

    emu_reset();
    emu_fail_next("CreateFileW", ERROR_ACCESS_DENIED);
    emu_fail_next("CreateFileW", ERROR_SHARING_VIOLATION);
    emu_fail_next("CloseHandle", 1234);
    CHECK(E(CreateFileW(W("/nonexistent"), GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL)) == INVALID &&
          last_err == ERROR_ACCESS_DENIED);
    CHECK(E(CreateFileW(W("/nonexistent"), GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL)) == INVALID &&
          last_err == ERROR_SHARING_VIOLATION);
    CHECK(E(CreateFileW(W("/nonexistent"), GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL)) == INVALID &&
          last_err == ERROR_FILE_NOT_FOUND);
    void *h = CreateMutexW(NULL, 0, NULL);
    CHECK(h != NULL && ((uintptr_t)h % 4) == 0);
    CHECK(E(CloseHandle(h)) == 0 && last_err == 1234); /* injected: nothing done */
    CHECK(E(CloseHandle(h)) == 1 && last_err == 0);
    CHECK(emu_calls("CreateFileW") == 3);
    CHECK(emu_calls("CloseHandle") == 2);
    CHECK(emu_calls("NoSuchFunction") == -1);
    emu_fail_next("MapViewOfFileEx", 8);
    emu_fail_next("WaitForSingleObject", 6);
    emu_fail_next("LocalFree", 6);
    emu_fail_next("GetFileType", 6);
    CHECK(E(MapViewOfFileEx(NULL, FILE_MAP_READ, 0, 0, 0, NULL)) == NULL && last_err == 8);
    CHECK(E(WaitForSingleObject(NULL, 0)) == WAIT_FAILED && last_err == 6);
    CHECK(E(LocalFree((void *)0x10)) == (void *)0x10 && last_err == 6);
    CHECK(E(GetFileType(NULL)) == 0 && last_err == 6);
    emu_fail_next("SetEndOfFile", 112);
    emu_reset();
    CHECK(emu_calls("CreateFileW") == 0);
    CHECK(E(SetEndOfFile(NULL)) == 0 && last_err == ERROR_INVALID_HANDLE); /* the armed one was cleared */
    emu_fail_next("GetCurrentProcessId", 5);                                  /* refused: cannot fail */
    CHECK(GetCurrentProcessId() == (uint32_t)getpid());
}

/* ---------------------------------------------------------------- sections and views */

static void test_sections(void) {
    int base_handles = emu_open_handles();
    char canon[256], dotted[256];
    snprintf(canon, sizeof canon, "Local\\%s", name("sec"));
    snprintf(dotted, sizeof dotted, "Local.%s", name("sec"));

    void *h = E(CreateFileMappingW(INVALID, NULL, PAGE_READWRITE | SEC_COMMIT, 0, 1 << 20, W(canon)));
    CHECK(h != NULL && last_err == 0);
    CHECK(exists(shm_path(dotted, 0)));
    CHECK(emu_section_size(h) == 1 << 20);
    CHECK(emu_protect_of(h) == (PAGE_READWRITE | SEC_COMMIT));
    CHECK(emu_access_of(h) == 0xF001F);
    CHECK(emu_sddl_of(h) == NULL);

    /* the unprefixed name is Local\ too */
    void *h2 = E(CreateFileMappingW(INVALID, NULL, PAGE_READWRITE, 0, 4096, W(name("sec"))));
    CHECK(h2 != NULL && h2 != h && last_err == ERROR_ALREADY_EXISTS);
    CHECK(emu_section_size(h2) == 1 << 20);
    void *h3 = E(OpenFileMappingW(FILE_MAP_READ, 0, W(canon)));
    CHECK(h3 != NULL && last_err == 0 && emu_access_of(h3) == FILE_MAP_READ);

    CHECK(E(MapViewOfFileEx(h3, FILE_MAP_WRITE, 0, 0, 0, NULL)) == NULL && last_err == ERROR_ACCESS_DENIED);
    char *rv = E(MapViewOfFileEx(h3, FILE_MAP_READ, 0, 0, 0, NULL));
    CHECK(rv != NULL && last_err == 0);
    char *wv = MapViewOfFileEx(h, FILE_MAP_WRITE, 0, 0, 0, NULL);
    CHECK(wv != NULL);
    CHECK(emu_live_views() == 2);
    if (wv && rv) {
        strcpy(wv + 100, "hello");
        CHECK(strcmp(rv + 100, "hello") == 0);
    }
    char *cv = MapViewOfFileEx(h, FILE_MAP_COPY, 0, 0, 0, NULL);
    CHECK(cv != NULL);
    if (cv && rv) {
        CHECK(strcmp(cv + 100, "hello") == 0);
        strcpy(cv + 100, "other");
        CHECK(strcmp(rv + 100, "hello") == 0);
    }
    /* a FILE_MAP_READ handle may map copy-on-write, not FILE_MAP_WRITE */
    char *cv3 = E(MapViewOfFileEx(h3, FILE_MAP_COPY, 0, 0, 65536, NULL));
    CHECK(cv3 != NULL);
    CHECK(E(UnmapViewOfFile(cv3)) == 1);

    /* offsets, bases and sizes */
    CHECK(E(MapViewOfFileEx(h, FILE_MAP_READ, 0, 4096, 0, NULL)) == NULL && last_err == ERROR_MAPPED_ALIGNMENT);
    char *v2 = E(MapViewOfFileEx(h, FILE_MAP_READ, 0, 65536, 0, NULL));
    CHECK(v2 != NULL);
    if (v2 && wv) {
        wv[65536 + 5] = 'x';
        CHECK(v2[5] == 'x');
    }
    {
        struct MEMORY_BASIC_INFORMATION mbi;
        CHECK(E(VirtualQuery(v2 + 5000, &mbi, sizeof mbi)) == sizeof mbi);
        CHECK(mbi.BaseAddress == v2 + 4096 && mbi.AllocationBase == v2);
        CHECK(mbi.RegionSize == (1 << 20) - 65536 - 4096);
        CHECK(mbi.State == MEM_COMMIT && mbi.Type == MEM_MAPPED && mbi.Protect == PAGE_READONLY);
        CHECK(E(VirtualQuery(wv, &mbi, sizeof mbi)) == sizeof mbi && mbi.Protect == PAGE_READWRITE);
        CHECK(E(VirtualQuery(cv, &mbi, sizeof mbi)) == sizeof mbi && mbi.Protect == PAGE_WRITECOPY);
    }
    CHECK(E(UnmapViewOfFile(v2)) == 1);
    CHECK(E(MapViewOfFileEx(h, FILE_MAP_READ, 0, 0, (1 << 20) + 1, NULL)) == NULL && last_err == 8);
    CHECK(E(MapViewOfFileEx(h, FILE_MAP_READ, 0, 1 << 20, 0, NULL)) == NULL && last_err == 8);
    CHECK(E(MapViewOfFileEx(h, 0, 0, 0, 0, NULL)) == NULL && last_err == ERROR_INVALID_PARAMETER);
    CHECK(E(MapViewOfFileEx((void *)0x4000, FILE_MAP_READ, 0, 0, 0, NULL)) == NULL && last_err == 6);

    /* a fixed base: find free, aligned address space */
    char *area = mmap(NULL, 4 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *base = (char *)(((uintptr_t)area + 65535) & ~(uintptr_t)65535);
    munmap(area, 4 << 20);
    CHECK(E(MapViewOfFileEx(h, FILE_MAP_READ, 0, 0, 0, base + 4096)) == NULL && last_err == ERROR_MAPPED_ALIGNMENT);
    char *fv = E(MapViewOfFileEx(h, FILE_MAP_WRITE, 0, 0, 0, base));
    CHECK(fv == base && last_err == 0);
    CHECK(E(MapViewOfFileEx(h, FILE_MAP_READ, 0, 0, 65536, base)) == NULL && last_err == ERROR_INVALID_ADDRESS);
    CHECK(E(MapViewOfFileEx(h, FILE_MAP_READ, 0, 0, 65536, base + 65536 * 4)) == NULL && last_err == 487);
    if (fv == base && wv) {
        CHECK(strcmp(fv + 100, "hello") == 0);
    }

    /* unmap and flush */
    CHECK(E(UnmapViewOfFile(fv + 4096)) == 0 && last_err == ERROR_INVALID_ADDRESS);
    CHECK(E(FlushViewOfFile(fv + 5000, 10)) == 1 && last_err == 0);
    CHECK(E(FlushViewOfFile(fv + 5000, 0)) == 1);
    CHECK(E(FlushViewOfFile(fv + 5000, 1 << 20)) == 0 && last_err == ERROR_INVALID_ADDRESS);
    CHECK(E(FlushViewOfFile(&base_handles, 4)) == 0 && last_err == ERROR_INVALID_ADDRESS);
    CHECK(E(UnmapViewOfFile(fv)) == 1);
    CHECK(E(UnmapViewOfFile(fv)) == 0 && last_err == ERROR_INVALID_ADDRESS);

    /* lifetime: views keep the section after the handles are gone */
    CHECK(CloseHandle(h) && CloseHandle(h2) && CloseHandle(h3));
    CHECK(exists(shm_path(dotted, 0)));
    CHECK(emu_open_handles() == base_handles);
    void *h4 = E(OpenFileMappingW(FILE_MAP_READ, 0, W(canon)));
    CHECK(h4 != NULL && emu_section_size(h4) == 1 << 20);
    CHECK(CloseHandle(h4));
    CHECK(UnmapViewOfFile(rv) && UnmapViewOfFile(wv));
    CHECK(exists(shm_path(dotted, 0)));
    CHECK(UnmapViewOfFile(cv));
    CHECK(!exists(shm_path(dotted, 0)));
    CHECK(E(OpenFileMappingW(FILE_MAP_READ, 0, W(canon))) == NULL && last_err == ERROR_FILE_NOT_FOUND);
    CHECK(emu_live_views() == 0);

    /* parameters */
    CHECK(E(CreateFileMappingW(INVALID, NULL, PAGE_READWRITE, 0, 0, W(canon))) == NULL && last_err == 87);
    CHECK(E(CreateFileMappingW(INVALID, NULL, 0x40, 0, 4096, W(canon))) == NULL && last_err == 87);
    CHECK(E(CreateFileMappingW(INVALID, NULL, PAGE_NOACCESS, 0, 4096, NULL)) == NULL && last_err == 87);
    CHECK(E(CreateFileMappingW(INVALID, NULL, PAGE_READWRITE, 0, 4096, W("Local\\a\\b"))) == NULL &&
          last_err == ERROR_PATH_NOT_FOUND);
    CHECK(E(CreateFileMappingW(INVALID, NULL, PAGE_READWRITE, 0, 4096, W("Local\\"))) == NULL &&
          last_err == ERROR_INVALID_NAME);
    CHECK(E(CreateFileMappingW(INVALID, NULL, PAGE_READWRITE, 0x7FFFFFFF, 0, NULL)) == NULL &&
          last_err == ERROR_COMMITMENT_LIMIT);
    CHECK(E(CreateFileMappingW((void *)0x4000, NULL, PAGE_READWRITE, 0, 4096, NULL)) == NULL && last_err == 6);
    CHECK(E(OpenFileMappingW(FILE_MAP_READ, 0, NULL)) == NULL && last_err == 87);

    /* unnamed, read-only protection */
    void *u = E(CreateFileMappingW(INVALID, NULL, PAGE_READONLY, 0, 100, NULL));
    CHECK(u != NULL && last_err == 0);
    CHECK(E(MapViewOfFileEx(u, FILE_MAP_WRITE, 0, 0, 0, NULL)) == NULL && last_err == ERROR_ACCESS_DENIED);
    char *uv = MapViewOfFileEx(u, FILE_MAP_READ, 0, 0, 0, NULL);
    CHECK(uv != NULL && uv[99] == 0);
    char *uc = MapViewOfFileEx(u, FILE_MAP_COPY, 0, 0, 0, NULL);
    CHECK(uc != NULL);
    CHECK(UnmapViewOfFile(uv) && UnmapViewOfFile(uc) && CloseHandle(u));
    void *wc = CreateFileMappingW(INVALID, NULL, PAGE_WRITECOPY, 0, 4096, NULL);
    CHECK(wc != NULL);
    CHECK(E(MapViewOfFileEx(wc, FILE_MAP_WRITE, 0, 0, 0, NULL)) == NULL && last_err == ERROR_ACCESS_DENIED);
    CHECK(CloseHandle(wc));

    /* names with '/' and '%' */
    void *odd = E(CreateFileMappingW(INVALID, NULL, PAGE_READWRITE, 0, 4096, W("Global\\a/b%c")));
    CHECK(odd != NULL && last_err == 0);
    CHECK(exists("/dev/shm/panmap-emu-Global.a%2Fb%25c"));
    CHECK(CloseHandle(odd));
    CHECK(!exists("/dev/shm/panmap-emu-Global.a%2Fb%25c"));
    CHECK(emu_open_handles() == base_handles);
}

/* ---------------------------------------------------------------- security descriptors and tokens */

static void test_security(void) {
    int allocs = emu_live_allocations();
    void *sd = NULL;
    uint32_t size = 0;
    CHECK(E(ConvertStringSecurityDescriptorToSecurityDescriptorW(W("D:P(A;;GA;;;OW)"), 1, &sd, &size)) == 1 &&
          last_err == 0 && sd != NULL && size > 0);
    void *sd2 = NULL;
    CHECK(E(ConvertStringSecurityDescriptorToSecurityDescriptorW(
              W("O:S-1-5-21-1-2-3-1000G:BAD:PAI(A;OICI;GA;;;S-1-5-21-1000-1000-1000-0)(A;;GR;;;WD)S:(ML;;NW;;;LW)"),
              1, &sd2, NULL)) == 1);
    CHECK(emu_live_allocations() == allocs + 2);
    CHECK(E(ConvertStringSecurityDescriptorToSecurityDescriptorW(W("D:P(A;;GA;;;OW)"), 2, &sd2, NULL)) == 0 &&
          last_err == 87);
    CHECK(E(ConvertStringSecurityDescriptorToSecurityDescriptorW(W(""), 1, &sd2, NULL)) == 0 && last_err == 1336);
    CHECK(E(ConvertStringSecurityDescriptorToSecurityDescriptorW(W("D:P(A;;GA"), 1, &sd2, NULL)) == 0 &&
          last_err == 1336);
    CHECK(E(ConvertStringSecurityDescriptorToSecurityDescriptorW(W("D:P(A;GA;;;OW)"), 1, &sd2, NULL)) == 0 &&
          last_err == 1336);
    CHECK(E(ConvertStringSecurityDescriptorToSecurityDescriptorW(W("X:P"), 1, &sd2, NULL)) == 0 && last_err == 1336);

    struct SECURITY_ATTRIBUTES sa = {sizeof sa, sd, 0};
    void *s = E(CreateFileMappingW(INVALID, &sa, PAGE_READWRITE, 0, 4096, W(name("sd"))));
    CHECK(s != NULL && last_err == 0);
    CHECK(emu_sddl_of(s) != NULL && strcmp(emu_sddl_of(s), "D:P(A;;GA;;;OW)") == 0);
    void *m = CreateMutexW(&sa, 0, W(name("sdm")));
    CHECK(m != NULL && emu_sddl_of(m) != NULL && strcmp(emu_sddl_of(m), "D:P(A;;GA;;;OW)") == 0);
    void *f = CreateFileW(W(fpath("sd-file")), GENERIC_READ | GENERIC_WRITE, 0, &sa, CREATE_NEW, 0, NULL);
    CHECK(f != INVALID && emu_sddl_of(f) != NULL);
    struct SECURITY_ATTRIBUTES bad = {sizeof bad, &size, 0};
    CHECK(E(CreateMutexW(&bad, 0, NULL)) == NULL && last_err == 1338);
    CHECK(CloseHandle(s) && CloseHandle(m) && CloseHandle(f) && DeleteFileW(W(fpath("sd-file"))));
    CHECK(E(LocalFree(sd)) == NULL && last_err == 0);
    CHECK(E(LocalFree(sd2)) == NULL);
    CHECK(E(LocalFree(sd2)) == sd2 && last_err == ERROR_INVALID_HANDLE);
    CHECK(LocalFree(NULL) == NULL);

    void *tok = NULL;
    CHECK(E(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok)) == 1 && tok != NULL);
    uint32_t need = 0;
    CHECK(E(GetTokenInformation(tok, TokenUser, NULL, 0, &need)) == 0 && last_err == 122 && need == 16 + 28);
    unsigned char buf[64];
    CHECK(E(GetTokenInformation(tok, TokenUser, buf, 20, &need)) == 0 && last_err == 122);
    CHECK(E(GetTokenInformation(tok, 2, buf, sizeof buf, &need)) == 0 && last_err == 87);
    CHECK(E(GetTokenInformation(tok, TokenUser, buf, sizeof buf, &need)) == 1 && need == 44);
    struct SID_AND_ATTRIBUTES user;
    memcpy(&user, buf, sizeof user);
    CHECK(user.Sid == buf + 16);
    uint16_t *str = NULL;
    CHECK(E(ConvertSidToStringSidW(user.Sid, &str)) == 1 && str != NULL);
    char want[64];
    snprintf(want, sizeof want, "S-1-5-21-1000-1000-1000-%u", (unsigned)getuid());
    CHECK(str != NULL && strcmp(A(str), want) == 0);
    CHECK(LocalFree(str) == NULL);
    unsigned char badsid[8] = {2, 1, 0, 0, 0, 0, 0, 5};
    CHECK(E(ConvertSidToStringSidW(badsid, &str)) == 0 && last_err == 1337);
    void *tok2 = NULL;
    CHECK(OpenProcessToken(GetCurrentProcess(), 0, &tok2) == 1);
    CHECK(E(GetTokenInformation(tok2, TokenUser, buf, sizeof buf, &need)) == 0 && last_err == ERROR_ACCESS_DENIED);
    CHECK(E(OpenProcessToken((void *)0x4000, TOKEN_QUERY, &tok2)) == 0 && last_err == 6);
    CHECK(CloseHandle(tok) && CloseHandle(tok2));
    CHECK(emu_live_allocations() == allocs);
}

/* ---------------------------------------------------------------- error texts */

static void test_format_message(void) {
    uint16_t buf[256];
    uint32_t flags = FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS;
    uint32_t n = E(FormatMessageW(flags, NULL, 2, 0, buf, 256, NULL));
    CHECK(n > 0 && last_err == 0 && strcmp(A(buf), "(emulated) The system cannot find the file specified.\r\n") == 0);
    CHECK(n == strlen(A(buf)));
    n = FormatMessageW(flags, NULL, 12345, 0, buf, 256, NULL);
    CHECK(strcmp(A(buf), "(emulated) error 12345\r\n") == 0 && n == 24);
    for (uint32_t code = 1; code < 1500; code++) /* every code has a text */
        CHECK(FormatMessageW(flags, NULL, code, 0, buf, 256, NULL) > 0);
    CHECK(E(FormatMessageW(flags, NULL, 2, 0, buf, 10, NULL)) == 0 && last_err == 122);
    CHECK(E(FormatMessageW(FORMAT_MESSAGE_IGNORE_INSERTS, NULL, 2, 0, buf, 256, NULL)) == 0 && last_err == 87);
    n = FormatMessageW(flags | 0xFF, NULL, 5, 0, buf, 256, NULL);
    CHECK(strcmp(A(buf), "(emulated) Access is denied.") == 0 && n == 28);
    uint16_t *alloc = NULL;
    n = E(FormatMessageW(flags | 0x100, NULL, 33, 0, (uint16_t *)&alloc, 0, NULL));
    CHECK(n > 0 && alloc != NULL && A(alloc)[n - 1] == '\n');
    CHECK(LocalFree(alloc) == NULL);
}

/* ---------------------------------------------------------------- files */

static void test_files(void) {
    int base_handles = emu_open_handles();
    const char *p = fpath("a.bin");
    void *f = E(CreateFileW(W(p), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, CREATE_NEW,
                            FILE_ATTRIBUTE_NORMAL, NULL));
    CHECK(f != INVALID && last_err == 0);
    struct stat st;
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(E(CreateFileW(W(p), GENERIC_READ, 7, NULL, CREATE_NEW, 0, NULL)) == INVALID &&
          last_err == ERROR_FILE_EXISTS);
    CHECK(E(CreateFileW(W(fpath("missing")), GENERIC_READ, 7, NULL, OPEN_EXISTING, 0, NULL)) == INVALID &&
          last_err == ERROR_FILE_NOT_FOUND);
    CHECK(E(CreateFileW(W(fpath("nodir/x")), GENERIC_READ, 7, NULL, OPEN_EXISTING, 0, NULL)) == INVALID &&
          last_err == ERROR_PATH_NOT_FOUND);
    CHECK(E(CreateFileW(W(fpath("nodir/x")), GENERIC_READ | GENERIC_WRITE, 7, NULL, CREATE_NEW, 0, NULL)) ==
              INVALID &&
          last_err == ERROR_PATH_NOT_FOUND);
    CHECK(E(CreateFileW(W(fpath("a.bin/x")), GENERIC_READ, 7, NULL, OPEN_EXISTING, 0, NULL)) == INVALID &&
          last_err == ERROR_PATH_NOT_FOUND);
    CHECK(E(CreateFileW(W(g_dir), GENERIC_READ, 7, NULL, OPEN_EXISTING, 0, NULL)) == INVALID &&
          last_err == ERROR_ACCESS_DENIED);
    CHECK(E(CreateFileW(W(p), GENERIC_READ, 7, NULL, 9, 0, NULL)) == INVALID && last_err == 87);
    char longname[400];
    memset(longname, 'n', sizeof longname);
    longname[sizeof longname - 1] = 0;
    CHECK(E(CreateFileW(W(fpath(longname)), GENERIC_READ, 7, NULL, OPEN_EXISTING, 0, NULL)) == INVALID &&
          last_err == ERROR_FILENAME_EXCED_RANGE);
    CHECK(emu_access_of(f) == (GENERIC_READ | GENERIC_WRITE));

    long long size = -1, pos = -1;
    CHECK(E(GetFileSizeEx(f, &size)) == 1 && size == 0);
    CHECK(E(CreateFileMappingW(f, NULL, PAGE_READWRITE, 0, 0, NULL)) == NULL && last_err == 1006);
    CHECK(E(SetFilePointerEx(f, 3 * 65536 + 10, &pos, FILE_BEGIN)) == 1 && pos == 3 * 65536 + 10);
    CHECK(E(SetEndOfFile(f)) == 1 && last_err == 0);
    CHECK(GetFileSizeEx(f, &size) == 1 && size == 3 * 65536 + 10);
    CHECK(E(SetFilePointerEx(f, -1, &pos, FILE_BEGIN)) == 0 && last_err == 131);
    CHECK(E(SetFilePointerEx(f, -10, &pos, 2)) == 1 && pos == 3 * 65536);
    CHECK(E(SetFilePointerEx(f, 0, NULL, 7)) == 0 && last_err == 87);
    CHECK(E(GetFileType(f)) == FILE_TYPE_DISK && last_err == 0);
    emu_reset();
    CHECK(E(FlushFileBuffers(f)) == 1 && emu_calls("FlushFileBuffers") == 1);

    /* share modes */
    void *r = E(CreateFileW(W(p), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL));
    CHECK(r != INVALID && last_err == 0);
    CHECK(E(CreateFileW(W(p), GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL)) == INVALID &&
          last_err == ERROR_SHARING_VIOLATION);
    CHECK(E(FlushFileBuffers(r)) == 0 && last_err == ERROR_ACCESS_DENIED);
    CHECK(E(SetEndOfFile(r)) == 0 && last_err == ERROR_ACCESS_DENIED);
    CHECK(E(CreateFileMappingW(r, NULL, PAGE_READWRITE, 0, 0, NULL)) == NULL && last_err == ERROR_ACCESS_DENIED);
    CHECK(E(DeleteFileW(W(p))) == 0 && last_err == ERROR_SHARING_VIOLATION);

    /* a section over the file */
    void *s = E(CreateFileMappingW(f, NULL, PAGE_READWRITE, 0, 0, NULL));
    CHECK(s != NULL && last_err == 0 && emu_section_size(s) == 3 * 65536 + 10);
    void *ro = E(CreateFileMappingW(r, NULL, PAGE_READONLY, 0, 0, NULL));
    CHECK(ro != NULL);
    CHECK(E(CreateFileMappingW(r, NULL, PAGE_READONLY, 0, 4 * 65536, NULL)) == NULL && last_err == 8);
    void *big = E(CreateFileMappingW(f, NULL, PAGE_READWRITE, 0, 4 * 65536, NULL));
    CHECK(big != NULL && GetFileSizeEx(f, &size) && size == 4 * 65536);
    char *v = MapViewOfFileEx(s, FILE_MAP_WRITE, 0, 65536, 0, NULL);
    CHECK(v != NULL);
    if (v) {
        memcpy(v, "file data", 10);
        CHECK(FlushViewOfFile(v, 10) == 1);
        int fd = open(p, O_RDONLY);
        char got[10] = "";
        CHECK(pread(fd, got, 10, 65536) == 10 && strcmp(got, "file data") == 0);
        close(fd);
    }
    CHECK(SetFilePointerEx(f, 100, NULL, FILE_BEGIN) && E(SetEndOfFile(f)) == 0 && last_err == ERROR_USER_MAPPED_FILE);
    CHECK(CloseHandle(r) && CloseHandle(ro) && CloseHandle(big));
    /* the section keeps the file open after its handle is closed */
    CHECK(CloseHandle(f));
    CHECK(E(CreateFileW(W(p), GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL)) == INVALID &&
          last_err == ERROR_SHARING_VIOLATION);
    void *f2 = E(CreateFileW(W(p), GENERIC_READ | GENERIC_WRITE, 7, NULL, OPEN_EXISTING, 0, NULL));
    CHECK(f2 != INVALID);
    CHECK(E(DeleteFileW(W(p))) == 0 && last_err == ERROR_SHARING_VIOLATION);
    CHECK(CloseHandle(s) && UnmapViewOfFile(v));
    CHECK(GetFileSizeEx(f2, &size) && size == 4 * 65536);
    CHECK(SetFilePointerEx(f2, 100, NULL, FILE_BEGIN) && E(SetEndOfFile(f2)) == 1);
    CHECK(E(DeleteFileW(W(p))) == 1 && last_err == 0 && !exists(p)); /* FILE_SHARE_DELETE */
    CHECK(CloseHandle(f2));
    CHECK(E(DeleteFileW(W(p))) == 0 && last_err == ERROR_FILE_NOT_FOUND);
    CHECK(E(DeleteFileW(W(fpath("nodir/x")))) == 0 && last_err == ERROR_PATH_NOT_FOUND);
    CHECK(E(DeleteFileW(W(g_dir))) == 0 && last_err == ERROR_ACCESS_DENIED);

    /* dispositions, Windows separators, non-ASCII names */
    char winpath[600];
    snprintf(winpath, sizeof winpath, "%s\\caf\xc3\xa9-\xf0\x9f\x98\x80.txt", g_dir);
    for (char *c = winpath; *c; c++)
        if (*c == '/')
            *c = '\\';
    void *u = E(CreateFileW(W(winpath), GENERIC_WRITE, 0, NULL, 4 /* OPEN_ALWAYS */, 0, NULL));
    CHECK(u != INVALID && last_err == 0);
    CHECK(exists(fpath("caf\xc3\xa9-\xf0\x9f\x98\x80.txt")));
    CHECK(CloseHandle(u));
    u = E(CreateFileW(W(winpath), GENERIC_WRITE, 0, NULL, 4, 0, NULL));
    CHECK(u != INVALID && last_err == ERROR_ALREADY_EXISTS);
    CHECK(E(CreateFileMappingW(u, NULL, PAGE_READONLY, 0, 0, NULL)) == NULL && last_err == ERROR_ACCESS_DENIED);
    CHECK(CloseHandle(u));
    char prefixed[700];
    snprintf(prefixed, sizeof prefixed, "\\\\?\\%s", winpath);
    CHECK(E(DeleteFileW(W(prefixed))) == 1);

    /* device and pipe types */
    void *dn = CreateFileW(W("/dev/null"), GENERIC_READ, 7, NULL, OPEN_EXISTING, 0, NULL);
    CHECK(dn != INVALID && GetFileType(dn) == 2);
    CHECK(CloseHandle(dn));
    CHECK(mkfifo(fpath("fifo"), 0600) == 0);
    void *ff = CreateFileW(W(fpath("fifo")), GENERIC_READ, 7, NULL, OPEN_EXISTING, 0, NULL);
    CHECK(ff != INVALID && GetFileType(ff) == 3);
    CHECK(CloseHandle(ff) && DeleteFileW(W(fpath("fifo"))));
    CHECK(E(GetFileSizeEx((void *)0x4000, &size)) == 0 && last_err == 6);
    CHECK(emu_open_handles() == base_handles);
}

/* ---------------------------------------------------------------- LockFileEx */

struct unlock_later {
    void *h;
    struct OVERLAPPED ov;
};

static void *unlock_later(void *arg) {
    struct unlock_later *u = arg;
    msleep(60);
    CHECK(UnlockFileEx(u->h, 0, 1, 0, &u->ov) == 1);
    return NULL;
}

static void test_locks(void) {
    const char *p = fpath("locks");
    void *a = CreateFileW(W(p), GENERIC_READ | GENERIC_WRITE, 7, NULL, CREATE_NEW, 0, NULL);
    void *b = CreateFileW(W(p), GENERIC_READ, 7, NULL, OPEN_EXISTING, 0, NULL);
    CHECK(a != INVALID && b != INVALID);
    const uint64_t top = 0x7FFFFFFFFFFFFFFEULL; /* 2^63 - 2 */
    struct OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (uint32_t)top;
    ov.OffsetHigh = (uint32_t)(top >> 32);
    uint32_t now = LOCKFILE_FAIL_IMMEDIATELY;
    CHECK(E(LockFileEx(a, now | LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &ov)) == 1 && last_err == 0);
    CHECK(E(LockFileEx(b, now | LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &ov)) == 0 && last_err == ERROR_LOCK_VIOLATION);
    CHECK(E(LockFileEx(b, now, 0, 1, 0, &ov)) == 0 && last_err == ERROR_LOCK_VIOLATION);
    CHECK(E(LockFileEx(a, now, 0, 1, 0, &ov)) == 0 && last_err == ERROR_LOCK_VIOLATION); /* own exclusive */
    /* another process: the lock is per handle, not per process */
    pid_t child = fork();
    if (child == 0) {
        void *c = CreateFileW(W(p), GENERIC_READ, 7, NULL, OPEN_EXISTING, 0, NULL);
        int ok = c != INVALID && LockFileEx(c, now | LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &ov) == 0 &&
                 errno == ERROR_LOCK_VIOLATION;
        ov.Offset = 0;
        ov.OffsetHigh = 0;
        ok = ok && LockFileEx(c, now | LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &ov) == 1; /* b holds a read lock only */
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct OVERLAPPED ov2 = ov;
    ov2.Offset -= 1;
    CHECK(E(UnlockFileEx(a, 0, 1, 0, &ov2)) == 0 && last_err == ERROR_NOT_LOCKED);
    CHECK(E(UnlockFileEx(a, 0, 2, 0, &ov)) == 0 && last_err == ERROR_NOT_LOCKED);
    CHECK(E(UnlockFileEx(b, 0, 1, 0, &ov)) == 0 && last_err == ERROR_NOT_LOCKED);
    CHECK(E(UnlockFileEx(a, 0, 1, 0, &ov)) == 1 && last_err == 0);
    CHECK(E(LockFileEx(b, now | LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &ov)) == 1); /* on a read-only handle too */
    CHECK(UnlockFileEx(b, 0, 1, 0, &ov) == 1);

    /* shared locks of one handle may overlap; unlocking one keeps the other */
    struct OVERLAPPED o0;
    memset(&o0, 0, sizeof o0);
    struct OVERLAPPED o5 = o0;
    o5.Offset = 5;
    CHECK(LockFileEx(a, now, 0, 10, 0, &o0) == 1);
    CHECK(LockFileEx(a, now, 0, 10, 0, &o5) == 1);
    CHECK(E(LockFileEx(a, now | LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &o5)) == 0 && last_err == 33);
    CHECK(LockFileEx(b, now, 0, 100, 0, &o0) == 1); /* shared with shared */
    CHECK(UnlockFileEx(b, 0, 100, 0, &o0) == 1);
    CHECK(UnlockFileEx(a, 0, 10, 0, &o0) == 1);
    struct OVERLAPPED o3 = o0;
    o3.Offset = 3;
    CHECK(E(LockFileEx(b, now | LOCKFILE_EXCLUSIVE_LOCK, 0, 2, 0, &o3)) == 1); /* [3,5) is free now */
    CHECK(UnlockFileEx(b, 0, 2, 0, &o3) == 1);
    CHECK(E(LockFileEx(b, now | LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &o5)) == 0 && last_err == 33); /* [5,15) is not */
    CHECK(E(LockFileEx(b, now | LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &ov)) == 1);
    CHECK(E(LockFileEx(b, now, 0, 0, 0, &o0)) == 1 && UnlockFileEx(b, 0, 0, 0, &o0) == 1); /* zero length */

    /* a blocking request waits for the release */
    struct unlock_later ul = {b, ov};
    pthread_t t;
    pthread_create(&t, NULL, unlock_later, &ul);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(E(LockFileEx(a, LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &ov)) == 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(t, NULL);
    CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 50);

    /* ranges */
    struct OVERLAPPED hi = o0;
    hi.OffsetHigh = 0xFFFFFFFF;
    CHECK(E(LockFileEx(a, now, 0, 1, 0, &hi)) == 0 && last_err == 87);
    hi.Offset = 0xFFFFFFFF;
    CHECK(E(LockFileEx(a, now, 0, 2, 0, &hi)) == 0 && last_err == 307);
    CHECK(E(LockFileEx(a, now, 1, 1, 0, &o0)) == 0 && last_err == 87);
    CHECK(E(LockFileEx(a, now, 0, 1, 0, NULL)) == 0 && last_err == 87);
    CHECK(E(LockFileEx((void *)0x4000, now, 0, 1, 0, &o0)) == 0 && last_err == 6);

    /* closing a handle releases its locks */
    CHECK(CloseHandle(a));
    CHECK(E(LockFileEx(b, now | LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, &ov)) == 1);
    CHECK(CloseHandle(b) && DeleteFileW(W(p)));
}

/* ---------------------------------------------------------------- mutexes */

struct mutex_arg {
    void *h;
    uint32_t timeout;
    uint32_t result;
    int release;
    int err;
};

static void *mutex_waiter(void *arg) {
    struct mutex_arg *m = arg;
    m->result = WaitForSingleObject(m->h, m->timeout);
    m->err = errno;
    if (m->release && (m->result == WAIT_OBJECT_0 || m->result == WAIT_ABANDONED))
        ReleaseMutex(m->h);
    return NULL;
}

static void *take_and_die(void *arg) {
    struct mutex_arg *m = arg;
    m->result = WaitForSingleObject(m->h, 0);
    return NULL; /* ends owning it */
}

static void *release_later(void *arg) {
    struct mutex_arg *m = arg;
    m->result = WaitForSingleObject(m->h, 0);
    msleep(60);
    ReleaseMutex(m->h);
    return NULL;
}

static uint32_t wait_in_thread(void *h, uint32_t timeout, int release) {
    struct mutex_arg m = {h, timeout, 0, release, 0};
    pthread_t t;
    pthread_create(&t, NULL, mutex_waiter, &m);
    pthread_join(t, NULL);
    return m.result;
}

static void test_mutexes(void) {
    int base_handles = emu_open_handles();
    char canon[256], dotted[256];
    snprintf(canon, sizeof canon, "Local\\%s", name("mtx"));
    snprintf(dotted, sizeof dotted, "Local.%s", name("mtx"));
    void *m = E(CreateMutexW(NULL, 0, W(canon)));
    CHECK(m != NULL && last_err == 0 && exists(shm_path(dotted, 1)));
    CHECK(emu_access_of(m) == 0x1F0001);
    CHECK(E(WaitForSingleObject(m, 0)) == WAIT_OBJECT_0 && last_err == 0);
    CHECK(WaitForSingleObject(m, 0) == WAIT_OBJECT_0); /* recursion */
    CHECK(wait_in_thread(m, 0, 0) == WAIT_TIMEOUT);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(wait_in_thread(m, 50, 0) == WAIT_TIMEOUT);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 45);
    /* a second handle names the same mutex: the owner recurses through it, others wait */
    void *m2 = E(CreateMutexW(NULL, 1, W(name("mtx"))));
    CHECK(m2 != NULL && last_err == ERROR_ALREADY_EXISTS);
    CHECK(WaitForSingleObject(m2, 0) == WAIT_OBJECT_0);
    CHECK(wait_in_thread(m2, 0, 0) == WAIT_TIMEOUT);
    CHECK(ReleaseMutex(m2) && ReleaseMutex(m));
    CHECK(wait_in_thread(m, 0, 0) == WAIT_TIMEOUT);
    CHECK(E(ReleaseMutex(m)) == 1 && last_err == 0);
    CHECK(E(ReleaseMutex(m)) == 0 && last_err == ERROR_NOT_OWNER);
    CHECK(wait_in_thread(m, 0, 1) == WAIT_OBJECT_0);

    /* a thread that ends owning it abandons it */
    struct mutex_arg die = {m, 0, 99, 0, 0};
    pthread_t t;
    pthread_create(&t, NULL, take_and_die, &die);
    pthread_join(t, NULL);
    CHECK(die.result == WAIT_OBJECT_0);
    CHECK(E(ReleaseMutex(m)) == 0 && last_err == ERROR_NOT_OWNER);
    CHECK(WaitForSingleObject(m, 0) == WAIT_ABANDONED);
    CHECK(ReleaseMutex(m));
    CHECK(WaitForSingleObject(m, 0) == WAIT_OBJECT_0 && ReleaseMutex(m));

    /* an infinite wait ends with the release */
    struct mutex_arg rl = {m, 0, 99, 0, 0};
    pthread_create(&t, NULL, release_later, &rl);
    msleep(20);
    CHECK(E(WaitForSingleObject(m, 0xFFFFFFFF)) == WAIT_OBJECT_0);
    pthread_join(t, NULL);
    CHECK(rl.result == WAIT_OBJECT_0 && ReleaseMutex(m));

    /* names: a section's name is not a mutex's and vice versa */
    void *sec = CreateFileMappingW(INVALID, NULL, PAGE_READWRITE, 0, 4096, W(name("shared-name")));
    CHECK(sec != NULL);
    CHECK(E(CreateMutexW(NULL, 0, W(name("shared-name")))) == NULL && last_err == ERROR_INVALID_HANDLE);
    CHECK(E(CreateFileMappingW(INVALID, NULL, PAGE_READWRITE, 0, 4096, W(canon))) == NULL &&
          last_err == ERROR_INVALID_HANDLE);
    CHECK(E(OpenFileMappingW(FILE_MAP_READ, 0, W(canon))) == NULL && last_err == ERROR_INVALID_HANDLE);
    CHECK(CloseHandle(sec));
    CHECK(E(WaitForSingleObject(sec, 0)) == WAIT_FAILED && last_err == ERROR_INVALID_HANDLE);

    /* unnamed, initially owned */
    void *u = E(CreateMutexW(NULL, 1, NULL));
    CHECK(u != NULL && last_err == 0);
    CHECK(wait_in_thread(u, 0, 0) == WAIT_TIMEOUT);
    CHECK(ReleaseMutex(u) && wait_in_thread(u, 0, 1) == WAIT_OBJECT_0);
    CHECK(CloseHandle(u));

    /* closing the last handle removes the name; an owned mutex closed is abandoned */
    CHECK(CloseHandle(m2));
    CHECK(exists(shm_path(dotted, 1)));
    CHECK(CloseHandle(m));
    CHECK(!exists(shm_path(dotted, 1)));
    CHECK(E(ReleaseMutex(m)) == 0 && last_err == ERROR_INVALID_HANDLE);
    CHECK(emu_open_handles() == base_handles);
}

/* ---------------------------------------------------------------- across processes */

static void test_cross_process(void) {
    int go[2], ready[2];
    char mname[128], sname[128], dotted[256];
    snprintf(mname, sizeof mname, "Local\\%s", name("xmtx"));
    snprintf(sname, sizeof sname, "Local\\%s", name("xsec"));

    /* a child owns a mutex and dies: the parent gets WAIT_ABANDONED */
    CHECK(pipe(go) == 0 && pipe(ready) == 0);
    pid_t child = fork();
    if (child == 0) {
        void *m = CreateMutexW(NULL, 0, W(mname));
        int ok = m != NULL && errno == 0 && WaitForSingleObject(m, 0) == WAIT_OBJECT_0;
        void *s = CreateFileMappingW(INVALID, NULL, PAGE_READWRITE, 0, 65536, W(sname));
        char *v = s ? MapViewOfFileEx(s, FILE_MAP_WRITE, 0, 0, 0, NULL) : NULL;
        ok = ok && v != NULL;
        if (v)
            strcpy(v, "from the child");
        char c = ok ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(3);
        _exit(ok ? 0 : 2); /* dies owning the mutex, holding the section */
    }
    char c = 0;
    CHECK(read(ready[0], &c, 1) == 1 && c == 'y');
    void *m = E(CreateMutexW(NULL, 1, W(mname)));
    CHECK(m != NULL && last_err == ERROR_ALREADY_EXISTS);
    CHECK(WaitForSingleObject(m, 0) == WAIT_TIMEOUT);
    CHECK(E(ReleaseMutex(m)) == 0 && last_err == ERROR_NOT_OWNER);
    void *s = E(OpenFileMappingW(FILE_MAP_READ, 0, W(sname)));
    CHECK(s != NULL && last_err == 0 && emu_section_size(s) == 65536);
    char *v = s ? MapViewOfFileEx(s, FILE_MAP_READ, 0, 0, 0, NULL) : NULL;
    CHECK(v != NULL && strcmp(v, "from the child") == 0);
    void *ph = E(OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, 0, (uint32_t)child));
    CHECK(ph != NULL);
    uint32_t code = 0;
    CHECK(GetExitCodeProcess(ph, &code) == 1 && code == STILL_ACTIVE);
    CHECK(WaitForSingleObject(ph, 0) == WAIT_TIMEOUT);
    CHECK(write(go[1], "x", 1) == 1);
    CHECK(E(WaitForSingleObject(ph, 5000)) == WAIT_OBJECT_0); /* a zombie has exited */
    CHECK(GetExitCodeProcess(ph, &code) == 1 && code == 0);
    struct FILETIME ct, et, kt, ut;
    CHECK(GetProcessTimes(ph, &ct, &et, &kt, &ut) == 1 && ct.dwHighDateTime != 0);
    int status;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(E(WaitForSingleObject(m, 0)) == WAIT_ABANDONED);
    CHECK(WaitForSingleObject(m, 0) == WAIT_OBJECT_0);
    CHECK(ReleaseMutex(m) && ReleaseMutex(m));
    CHECK(WaitForSingleObject(m, 0) == WAIT_OBJECT_0 && ReleaseMutex(m)); /* released cleanly: not abandoned */
    /* the section outlived its creator because this process holds it */
    snprintf(dotted, sizeof dotted, "Local.%s", name("xsec"));
    CHECK(exists(shm_path(dotted, 0)));
    CHECK(UnmapViewOfFile(v) && CloseHandle(s));
    CHECK(!exists(shm_path(dotted, 0)));
    /* process handles stay valid after the process is gone */
    struct FILETIME ct2;
    CHECK(E(GetProcessTimes(ph, &ct2, &et, &kt, &ut)) == 1 && ct2.dwLowDateTime == ct.dwLowDateTime &&
          ct2.dwHighDateTime == ct.dwHighDateTime);
    CHECK(WaitForSingleObject(ph, 0) == WAIT_OBJECT_0);
    CHECK(CloseHandle(ph));
    CHECK(E(OpenProcess(SYNCHRONIZE, 0, (uint32_t)child)) == NULL && last_err == ERROR_INVALID_PARAMETER);
    CHECK(CloseHandle(m));
    snprintf(dotted, sizeof dotted, "Local.%s", name("xmtx"));
    CHECK(!exists(shm_path(dotted, 1)));

    /* objects whose every holder died are gone */
    child = fork();
    if (child == 0) {
        void *s2 = CreateFileMappingW(INVALID, NULL, PAGE_READWRITE, 0, 4096, W(sname));
        void *m2 = CreateMutexW(NULL, 1, W(mname));
        _exit(s2 && m2 ? 0 : 1);
    }
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    snprintf(dotted, sizeof dotted, "Local.%s", name("xsec"));
    CHECK(exists(shm_path(dotted, 0))); /* left behind by the dead child */
    CHECK(E(OpenFileMappingW(FILE_MAP_READ, 0, W(sname))) == NULL && last_err == ERROR_FILE_NOT_FOUND);
    CHECK(!exists(shm_path(dotted, 0)));
    m = E(CreateMutexW(NULL, 0, W(mname)));
    CHECK(m != NULL && last_err == 0);                  /* a new mutex, */
    CHECK(WaitForSingleObject(m, 0) == WAIT_OBJECT_0); /* not an abandoned one */
    CHECK(ReleaseMutex(m) && CloseHandle(m));

    /* exit codes read while the process is a zombie */
    child = fork();
    if (child == 0) {
        msleep(100);
        _exit(7);
    }
    ph = OpenProcess(SYNCHRONIZE, 0, (uint32_t)child);
    CHECK(ph != NULL && WaitForSingleObject(ph, 0) == WAIT_TIMEOUT);
    CHECK(WaitForSingleObject(ph, 0xFFFFFFFF) == WAIT_OBJECT_0);
    CHECK(GetExitCodeProcess(ph, &code) == 1 && code == 7);
    waitpid(child, &status, 0);
    CHECK(GetExitCodeProcess(ph, &code) == 1 && code == 7);
    CHECK(CloseHandle(ph));
    close(go[0]);
    close(go[1]);
    close(ready[0]);
    close(ready[1]);
}

/* ---------------------------------------------------------------- processes and memory */

static void test_processes_and_memory(void) {
    void *me = E(OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, GetCurrentProcessId()));
    CHECK(me != NULL && last_err == 0);
    struct FILETIME a, b, x, y;
    CHECK(GetProcessTimes(me, &a, &x, &x, &y) == 1);
    CHECK(GetProcessTimes(GetCurrentProcess(), &b, &x, &x, &y) == 1);
    CHECK(a.dwLowDateTime == b.dwLowDateTime && a.dwHighDateTime == b.dwHighDateTime);
    unsigned long long ft = (unsigned long long)a.dwHighDateTime << 32 | a.dwLowDateTime;
    unsigned long long unix_now_ft = (unsigned long long)time(NULL) * 10000000ULL + 116444736000000000ULL;
    CHECK(ft <= unix_now_ft + 20000000ULL && ft > unix_now_ft - 86400ULL * 10000000ULL * 365);
    uint32_t code;
    CHECK(GetExitCodeProcess(me, &code) == 1 && code == STILL_ACTIVE);
    CHECK(GetExitCodeProcess(GetCurrentProcess(), &code) == 1 && code == STILL_ACTIVE);
    CHECK(WaitForSingleObject(me, 10) == WAIT_TIMEOUT);
    CHECK(WaitForSingleObject(GetCurrentProcess(), 0) == WAIT_TIMEOUT);
    CHECK(CloseHandle(me));
    CHECK(E(OpenProcess(SYNCHRONIZE, 0, 0)) == NULL && last_err == 87);
    CHECK(E(OpenProcess(SYNCHRONIZE, 0, 0x3FFFFFF0)) == NULL && last_err == 87);
    CHECK(E(GetProcessTimes((void *)0x4000, &a, &x, &x, &y)) == 0 && last_err == 6);

    struct SYSTEM_INFO si;
    GetSystemInfo(&si);
    CHECK(si.dwPageSize == (uint32_t)sysconf(_SC_PAGESIZE) && si.dwAllocationGranularity == 65536);
    CHECK(si.wProcessorArchitecture == 9 && si.dwNumberOfProcessors == (uint32_t)sysconf(_SC_NPROCESSORS_ONLN));
    CHECK(si.lpMinimumApplicationAddress == (void *)0x10000 && si.lpMaximumApplicationAddress == (void *)0x7FFFFFFEFFFF);

    struct MEMORY_BASIC_INFORMATION mbi;
    CHECK(E(VirtualQuery(&si, &mbi, 10)) == 0 && last_err == 24);
    char *heap = malloc(100);
    CHECK(VirtualQuery(heap, &mbi, sizeof mbi) == 48 && mbi.State == MEM_COMMIT);
    CHECK(mbi.Protect == PAGE_READWRITE || mbi.Protect == 0x40); /* valgrind's heap is rwx */
    CHECK(mbi.Type == MEM_PRIVATE || mbi.Type == MEM_MAPPED); /* brk heap, or ASan's */
    free(heap);
    CHECK(VirtualQuery((void *)(uintptr_t)&printf, &mbi, sizeof mbi) == 48 && mbi.Type == MEM_IMAGE &&
          mbi.State == MEM_COMMIT && (mbi.Protect == 0x20 || mbi.Protect == 0x40));
    CHECK(VirtualQuery((void *)(uintptr_t)&test_processes_and_memory, &mbi, sizeof mbi) == 48 &&
          mbi.Type == MEM_IMAGE);
    char *area = mmap(NULL, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(VirtualQuery(area + 5000, &mbi, sizeof mbi) == 48 && mbi.State == MEM_RESERVE &&
          mbi.BaseAddress == area + 4096);
    munmap(area + (512 << 10), 512 << 10);
    CHECK(VirtualQuery(area + (600 << 10), &mbi, sizeof mbi) == 48 && mbi.State == MEM_FREE &&
          mbi.BaseAddress == area + (600 << 10) && mbi.RegionSize >= (424 << 10));
    munmap(area, 512 << 10);
    CHECK(E(VirtualQuery((void *)0x800000000000ULL, &mbi, sizeof mbi)) == 0 && last_err == 87);

    void *s = CreateFileMappingW(INVALID, NULL, PAGE_READWRITE, 0, 1 << 20, NULL);
    char *v = MapViewOfFileEx(s, FILE_MAP_WRITE, 0, 0, 0, NULL);
    CHECK(v != NULL);
    CHECK(E(VirtualLock(v + 100, 8192)) == 1 && last_err == 0);
    CHECK(E(VirtualUnlock(v + 100, 20000)) == 0 && last_err == ERROR_NOT_LOCKED);
    CHECK(E(VirtualUnlock(v, 4096)) == 1);
    CHECK(E(VirtualUnlock(v, 4096)) == 0 && last_err == ERROR_NOT_LOCKED);
    CHECK(E(VirtualUnlock(v + 4096, 8192)) == 1); /* the rest of the locked range: pages 1-2 */
    CHECK(E(VirtualLock(v, 0)) == 0 && last_err == 87);
    CHECK(VirtualLock(v + 65536, 4096) == 1);
    struct WIN32_MEMORY_RANGE_ENTRY r[2] = {{v, 65536}, {v + 200000, 5}};
    CHECK(E(PrefetchVirtualMemory(GetCurrentProcess(), 2, r, 0)) == 1 && last_err == 0);
    CHECK(E(PrefetchVirtualMemory(GetCurrentProcess(), 2, r, 1)) == 0 && last_err == 87);
    CHECK(UnmapViewOfFile(v) && CloseHandle(s));
    CHECK(E(VirtualUnlock(v + 65536, 4096)) == 0 && last_err == ERROR_NOT_LOCKED); /* unmapping unlocked it */
    CHECK(E(VirtualLock((void *)0x10000, 4096)) == 0 && last_err == ERROR_INVALID_ADDRESS); /* nothing there */
}

/* ---------------------------------------------------------------- many threads */

static void *hammer(void *arg) {
    int id = (int)(intptr_t)arg;
    char nm[128];
    snprintf(nm, sizeof nm, "Local\\%s-%d", name("hammer"), id % 2);
    for (int i = 0; i < 300; i++) {
        void *s = CreateFileMappingW(INVALID, NULL, PAGE_READWRITE, 0, 65536, W(nm));
        CHECK(s != NULL);
        char *v = s ? MapViewOfFileEx(s, FILE_MAP_WRITE, 0, 0, 0, NULL) : NULL;
        CHECK(v != NULL);
        if (v)
            __atomic_add_fetch((int *)v, 1, __ATOMIC_RELAXED);
        char mn[140];
        snprintf(mn, sizeof mn, "%s-mutex", nm);
        void *m = CreateMutexW(NULL, 0, W(mn));
        CHECK(m != NULL);
        uint32_t w = WaitForSingleObject(m, 0xFFFFFFFF);
        CHECK(w == WAIT_OBJECT_0);
        CHECK(ReleaseMutex(m));
        CHECK(CloseHandle(m));
        if (v)
            CHECK(UnmapViewOfFile(v));
        CHECK(CloseHandle(s));
        uint16_t buf[128];
        CHECK(FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM, NULL, (uint32_t)i, 0, buf, 128, NULL) > 0);
    }
    return NULL;
}

static void test_threads(void) {
    int base = emu_open_handles();
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        pthread_create(&t[i], NULL, hammer, (void *)(intptr_t)i);
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    CHECK(emu_open_handles() == base);
    CHECK(emu_live_views() == 0);
}

int main(void) {
    snprintf(g_tag, sizeof g_tag, "selftest-%d", (int)getpid());
    snprintf(g_dir, sizeof g_dir, "/tmp/emu-%s", g_tag);
    if (mkdir(g_dir, 0700) != 0) {
        perror(g_dir);
        return 2;
    }
    test_handles_and_hooks();
    test_sections();
    test_security();
    test_format_message();
    test_files();
    test_locks();
    test_mutexes();
    test_cross_process();
    test_processes_and_memory();
    test_threads();
    CHECK(emu_open_handles() == 0);
    CHECK(emu_live_views() == 0);
    CHECK(emu_live_allocations() == 0);
    rmdir(g_dir);
    CHECK(!exists(g_dir));
    printf("%d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
