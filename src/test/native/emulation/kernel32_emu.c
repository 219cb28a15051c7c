/*
 * TEST SCAFFOLDING -- NOT WINDOWS.
 *
 * kernel32_emu.c emulates, on Linux, exactly the Win32 surface declared in
 * native-headers/windows/panmap_windows.h, so that the Java Windows backend
 * (dev.panmap.internal.windows.WindowsPlatform) can run its own code in `make test` on a Linux
 * machine. The Java side System.load()s the shared library built from this file and calls it
 * through the same jextract descriptors it uses on Windows; GetLastError() is replaced by the
 * errno captured by the downcall (Linker.Option.captureCallState("errno")).
 *
 * Build (the header is found through -I, or else through the relative path below):
 *   gcc -std=gnu11 -O1 -Wall -Wextra -Werror -shared -fPIC -I native-headers/windows \
 *       -o libkernel32emu.so src/test/native/emulation/kernel32_emu.c -lpthread
 *
 * ---------------------------------------------------------------------------------- last error
 * Every exported function sets errno, as its very last action, to the Win32 error code that
 * Windows' GetLastError() would report: 0 (ERROR_SUCCESS) on success, 183 (ERROR_ALREADY_EXISTS)
 * when CreateFileMappingW/CreateMutexW return an existing object or CreateFileW OPEN_ALWAYS /
 * CREATE_ALWAYS finds an existing file, and the failure's code otherwise. errno therefore holds a
 * Win32 code, never a POSIX one.
 *
 * ---------------------------------------------------------------------------------- faithful
 *  - Handles: a process-wide table; values are small non-zero multiples of 4 (never NULL, never
 *    -1); freed slots are reused round-robin, so a stale handle stays invalid for a while.
 *    GetCurrentProcess() is the pseudo-handle -1, which CloseHandle accepts as a no-op.
 *  - Named objects (sections and mutexes) share one namespace: "x" is "Local\x"; "Global\",
 *    "Local\" and "Session\N\" are namespaces, any other '\' in a name -> ERROR_PATH_NOT_FOUND;
 *    a name held by an object of the other type -> NULL, ERROR_INVALID_HANDLE. Names are
 *    case-sensitive. Within a process, a second Create/Open of a name returns a new handle to
 *    the same object (sections: same size/protection/SDDL; mutexes: same owner and count).
 *  - Object lifetime across processes: page-file sections live in POSIX shm
 *    /dev/shm/panmap-emu-<name> (UTF-8, '\' -> '.', '/' -> "%2F", '%' -> "%25"), named mutexes in
 *    /dev/shm/panmap-emu-mutex-<name>. Every process that holds a handle or view keeps a shared
 *    OFD "reference" lock on the object's file (sections: byte 0, mutexes: byte 1). When the last
 *    handle and view of a process goes, the file is unlinked if no other process holds a
 *    reference, so an object vanishes with its last handle as on Windows, across processes too;
 *    a file whose referencing processes all died is treated as absent (and removed) by the next
 *    Create/Open. Objects are created under a temporary name and link()ed into place, so no
 *    process ever sees a half-initialised object.
 *  - Views: 64 KiB allocation granularity for offsets and fixed bases (ERROR_MAPPED_ALIGNMENT),
 *    MAP_FIXED_NOREPLACE for fixed bases (ERROR_INVALID_ADDRESS when occupied), FILE_MAP_COPY ->
 *    MAP_PRIVATE. Access follows Windows' table: a FILE_MAP_WRITE view needs SECTION_MAP_WRITE on
 *    the handle and a PAGE_READWRITE section; FILE_MAP_READ and FILE_MAP_COPY views need
 *    SECTION_MAP_READ (FILE_MAP_READ). A handle from CreateFileMappingW has FILE_MAP_ALL_ACCESS.
 *  - Files: share modes are checked between the handles of this process (ERROR_SHARING_VIOLATION),
 *    a section keeps its file "open" after the file handle is closed, as on Windows. DeleteFileW
 *    of a file with a section in this process -> ERROR_ACCESS_DENIED; SetEndOfFile shrinking such
 *    a file -> ERROR_USER_MAPPED_FILE. FlushFileBuffers and SetEndOfFile need GENERIC_WRITE.
 *  - LockFileEx: per-handle byte-range locks (F_OFD_SETLK on the handle's own descriptor), so two
 *    handles of one file conflict even in one process; Windows' own rules apply within a handle:
 *    an exclusive lock may not overlap any lock, a shared one only shared locks; UnlockFileEx must
 *    name exactly a locked range (ERROR_NOT_LOCKED). Closing the handle releases its locks.
 *  - Mutexes: per-thread ownership with recursion, ERROR_NOT_OWNER, WAIT_ABANDONED when the owner
 *    died: another process's owner dies (its OFD lock goes, the owner record stays in the file),
 *    or the owning thread of this process ended (checked with tgkill(tid, 0) by the next waiter).
 *  - Semaphores (CreateSemaphoreW, OpenSemaphoreW, ReleaseSemaphore, waits): one count per name for
 *    every process (a shared mapping of /dev/shm/panmap-emu-sem-<name>), ERROR_TOO_MANY_POSTS past the
 *    maximum, lifetime as for mutexes. OpenMutexW opens an existing mutex only (ERROR_FILE_NOT_FOUND).
 *  - SEC_RESERVE sections: a view's pages are PROT_NONE (reading them faults, as on Windows) until
 *    VirtualAlloc(MEM_COMMIT) commits them in that view; VirtualQuery reports MEM_COMMIT / MEM_RESERVE.
 *    The creator marks the shm file 0700 so that other processes know it is SEC_RESERVE.
 *  - VirtualLock is refused with ERROR_WORKING_SET_QUOTA beyond the minimum working set less 8 pages
 *    (200 KiB by default), which SetProcessWorkingSetSizeEx raises.
 *  - Processes: OpenProcess keeps the process's start time, so a handle keeps naming the same
 *    process after pid reuse; GetProcessTimes works on an exited process's handle, as on
 *    Windows. GetExitCodeProcess reports the real exit status when it could be read while the
 *    process was a zombie (/proc/PID/stat field 52).
 *  - Tokens: a real binary SID S-1-5-21-1000-1000-1000-<uid>; GetTokenInformation's buffer
 *    protocol (ERROR_INSUFFICIENT_BUFFER with the needed size). Strings and descriptors come from
 *    "LocalAlloc" (malloc) and must go back through LocalFree (emu_live_allocations counts them).
 *
 * ---------------------------------------------------------------------------------- NOT faithful
 *  - Security: no access checks at all (one uid runs the tests). SDDL strings are only syntax-
 *    checked and recorded with the object (emu_sddl_of), in this process only; "Global\" needs no
 *    privilege. Names of *file-backed* sections are visible only within the creating process.
 *  - A section or mutex created by another process is opened with unknown protection (assumed
 *    PAGE_READWRITE, or the protection this CreateFileMappingW asked for) and no SDDL; its size is
 *    the shm object's size.
 *  - Closing the last handle of a mutex that a thread of this process owns abandons it at once
 *    (Windows keeps it owned until the thread ends); a thread of *another* process that ends
 *    without releasing while its process lives keeps the mutex owned until that process closes
 *    it or dies. Waits poll every millisecond (no fairness, no FIFO order).
 *  - A blocking LockFileEx (without LOCKFILE_FAIL_IMMEDIATELY) polls every millisecond; one that
 *    conflicts with a lock of the *same* handle fails at once with ERROR_LOCK_VIOLATION (Windows
 *    would wait for ever). Ranges reaching beyond byte 2^63-1 cannot be expressed with fcntl and
 *    fail with ERROR_INVALID_PARAMETER; zero-length ranges are accepted and never conflict. An
 *    exclusive lock through a handle whose file could only be opened read-only fails (EBADF ->
 *    ERROR_ACCESS_DENIED). Locks do not make ReadFile/WriteFile fail (there are none here).
 *  - Stricter than Windows where that catches bugs: UnmapViewOfFile takes only a view's base
 *    address; FlushViewOfFile of a range that runs past its view -> ERROR_INVALID_ADDRESS.
 *    VirtualLock checks that the range is mapped (/proc/self/maps) before mlock, so an unmapped range
 *    is ERROR_INVALID_ADDRESS even under sanitizers, whose mlock does nothing.
 *  - Error choices where Windows' exact code was not verified: a view beyond the section's end ->
 *    ERROR_NOT_ENOUGH_MEMORY (8); a read-only section larger than its file -> 8; an empty or
 *    malformed SDDL -> ERROR_INVALID_ACL (1336); unsupported errno values -> ERROR_GEN_FAILURE (31).
 *    VirtualQuery with a short buffer -> ERROR_BAD_LENGTH (24), as NtQueryVirtualMemory's
 *    STATUS_INFO_LENGTH_MISMATCH maps.
 *  - The page-file commit charge is approximated: a section larger than RAM + swap fails with
 *    ERROR_COMMITMENT_LIMIT; nothing is reserved. VirtualLock is limited by RLIMIT_MEMLOCK, not
 *    by Windows' (small, ~200 KiB by default) minimum working set.
 *  - VirtualQuery outside views describes /proc/self/maps lines (one line = one region;
 *    AllocationBase = the line's start): MEM_IMAGE for .so files, [vdso] and the executable,
 *    MEM_MAPPED for other file mappings, MEM_PRIVATE otherwise; "---" lines are MEM_RESERVE.
 *  - GetProcessTimes fills only the creation time (from /proc/PID/stat starttime and btime, so
 *    10 ms resolution); exit, kernel and user times are zero. An exit code that could not be read
 *    while the process was a zombie is reported as 0; death by a signal is reported as 1 (what
 *    Java's Process.destroy gives with TerminateProcess).
 *  - FormatMessageW knows the wording of the codes used here, prefixed "(emulated) "; other codes
 *    read "(emulated) error N". Only FORMAT_MESSAGE_FROM_SYSTEM (with IGNORE_INSERTS,
 *    ALLOCATE_BUFFER, MAX_WIDTH_MASK) is supported; the language id is ignored.
 *  - Commit state is per view (Windows commits a SEC_RESERVE section's pages for every view; Wine, per
 *    view too), and a commit must extend the view's committed prefix (no holes). VirtualAlloc does only
 *    that: no reservations of its own. Semaphore names are not checked against sections and mutexes of
 *    the same name, and unnamed semaphores are not emulated. GetSecurityInfo returns the SDDL recorded
 *    with the object in this process ("" if none), for DACL_SECURITY_INFORMATION of a kernel object
 *    only; GetFileInformationByHandle reports st_dev and st_ino as the volume serial and file index.
 *    Get/SetProcessWorkingSetSizeEx work on GetCurrentProcess() only.
 *  - Handle inheritance, bInheritHandle, DuplicateHandle, overlapped I/O and execute protections
 *    are not emulated; CreateFileW's flags and attributes are ignored. Not fork-safe (the Java
 *    tests start child JVMs, which exec).
 *
 * ---------------------------------------------------------------------------------- test hooks
 * Exported with default visibility, for the Java test to bind (all thread-safe):
 *
 *   void emu_fail_next(const char *function, uint32_t error);
 *       The next call of that function (by its Win32 name) fails with `error` without doing
 *       anything, returning its failure value (NULL, FALSE, INVALID_HANDLE_VALUE, 0,
 *       FILE_TYPE_UNKNOWN, WAIT_FAILED, or for LocalFree its argument). Up to 64 failures may be
 *       armed at once, for one or several functions; each call consumes the oldest one armed for
 *       its function. GetSystemInfo, GetCurrentProcess and GetCurrentProcessId cannot fail on
 *       Windows: arming them is refused with a message on stderr.
 *   int emu_open_handles(void);            open handles (pseudo-handles not counted)
 *   int emu_live_views(void);              mapped views
 *   int emu_live_allocations(void);        LocalAlloc'd blocks (SID strings, descriptors,
 *                                          FORMAT_MESSAGE_ALLOCATE_BUFFER) not yet LocalFree'd
 *   const char *emu_sddl_of(void *handle); SDDL recorded with the handle's object, or NULL;
 *                                          valid while the object lives
 *   uint32_t emu_protect_of(void *section);  flProtect the section was created with (as given,
 *                                            e.g. PAGE_READWRITE | SEC_COMMIT), 0 if not a section
 *   uint32_t emu_access_of(void *handle);    access the handle was opened with (sections from
 *                                            CreateFileMappingW: FILE_MAP_ALL_ACCESS 0xF001F;
 *                                            mutexes: MUTEX_ALL_ACCESS 0x1F0001), 0 if invalid
 *   unsigned long long emu_section_size(void *section);   0 if not a section
 *   int emu_calls(const char *function);   calls of that function since the last emu_reset
 *                                          (failed and injected ones included), -1 if unknown
 *   void emu_reset(void);                  clears the counters and the armed failures (not the
 *                                          handles, views or allocations)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include("panmap_windows.h")
#include "panmap_windows.h"
#else
#include "../../../../native-headers/windows/panmap_windows.h"
#endif
#else
#include "../../../../native-headers/windows/panmap_windows.h"
#endif

#define EXPORT __attribute__((visibility("default")))

/* ---------------------------------------------------------------- values the header does not carry */

#define E_SUCCESS 0u
#define E_INVALID_FUNCTION 1u
#define E_BAD_LENGTH 24u
#define E_GEN_FAILURE 31u
#define E_INSUFFICIENT_BUFFER 122u
#define E_NEGATIVE_SEEK 131u
#define E_INVALID_LOCK_RANGE 307u
#define E_FILE_INVALID 1006u
#define E_INVALID_ACL 1336u
#define E_INVALID_SID 1337u
#define E_INVALID_SECURITY_DESCR 1338u

#define INVALID_HANDLE ((void *)(intptr_t)-1)
#define PSEUDO_PROCESS ((void *)(intptr_t)-1)

#define ACCESS_GENERIC_ALL 0x10000000u
#define ACCESS_FILE_READ_DATA 0x0001u
#define ACCESS_FILE_WRITE_DATA 0x0002u
#define ACCESS_FILE_APPEND_DATA 0x0004u
#define DISP_CREATE_ALWAYS 2u
#define DISP_OPEN_ALWAYS 4u
#define DISP_TRUNCATE_EXISTING 5u
#define MOVE_CURRENT 1u
#define MOVE_END 2u
#define TYPE_UNKNOWN 0u
#define TYPE_CHAR 2u
#define TYPE_PIPE 3u
#define SEC_RESERVE_FLAG 0x04000000u
#define MAP_ALL_ACCESS 0x000F001Fu
#define MUTEX_ALL 0x001F0001u
#define WAIT_INFINITE 0xFFFFFFFFu
#define FM_ALLOCATE_BUFFER 0x00000100u
#define FM_FROM_STRING 0x00000400u
#define FM_FROM_HMODULE 0x00000800u
#define FM_MAX_WIDTH_MASK 0x000000FFu
#define FILETIME_UNIX_EPOCH 116444736000000000ULL
#define GRANULARITY 65536ULL
#define MIN_APP_ADDRESS 0x10000ULL
#define MAX_APP_ADDRESS 0x7FFFFFFEFFFFULL
#define SHM_DIR "/dev/shm/"
#define SECTION_PREFIX "panmap-emu-"
#define MUTEX_PREFIX "panmap-emu-mutex-"
#define SEMAPHORE_PREFIX "panmap-emu-sem-"
#define SEMAPHORE_REF_BYTE 8
#define SEMAPHORE_ALL 0x001F0003u
#define WS_DEFAULT_MIN (200ULL * 1024)
#define WS_DEFAULT_MAX (1380ULL * 1024)
#define WS_OVERHEAD_PAGES 8ULL
#define SECTION_REF_BYTE 0
#define MUTEX_OWNER_BYTE 0
#define MUTEX_REF_BYTE 1

/* ---------------------------------------------------------------- state, the last error, counters */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static __thread uint32_t t_err; /* the Win32 error of the call in progress */

#define FAIL(code, value)                                                                                 \
    do {                                                                                                  \
        t_err = (uint32_t)(code);                                                                         \
        return value;                                                                                     \
    } while (0)

/* runs expr under the global lock */
#define LOCKED(expr)                                                                                      \
    ({                                                                                                    \
        pthread_mutex_lock(&g_mu);                                                                        \
        __typeof__(expr) locked_r_ = (expr);                                                              \
        pthread_mutex_unlock(&g_mu);                                                                      \
        locked_r_;                                                                                        \
    })

#define EMU_FUNCTIONS(X)                                                                                  \
    X(CreateFileMappingW)                                                                                 \
    X(OpenFileMappingW)                                                                                   \
    X(MapViewOfFileEx)                                                                                    \
    X(UnmapViewOfFile)                                                                                    \
    X(FlushViewOfFile)                                                                                    \
    X(CloseHandle)                                                                                        \
    X(CreateFileW)                                                                                        \
    X(DeleteFileW)                                                                                        \
    X(GetFileSizeEx)                                                                                      \
    X(SetFilePointerEx)                                                                                   \
    X(SetEndOfFile)                                                                                       \
    X(GetFileType)                                                                                        \
    X(FlushFileBuffers)                                                                                   \
    X(LockFileEx)                                                                                         \
    X(UnlockFileEx)                                                                                       \
    X(CreateMutexW)                                                                                       \
    X(OpenMutexW)                                                                                         \
    X(WaitForSingleObject)                                                                                \
    X(ReleaseMutex)                                                                                       \
    X(CreateSemaphoreW)                                                                                   \
    X(OpenSemaphoreW)                                                                                     \
    X(ReleaseSemaphore)                                                                                   \
    X(GetFileInformationByHandle)                                                                         \
    X(VirtualAlloc)                                                                                       \
    X(GetProcessWorkingSetSizeEx)                                                                         \
    X(SetProcessWorkingSetSizeEx)                                                                         \
    X(GetSecurityInfo)                                                                                    \
    X(GetSystemInfo)                                                                                      \
    X(VirtualQuery)                                                                                       \
    X(VirtualLock)                                                                                        \
    X(VirtualUnlock)                                                                                      \
    X(PrefetchVirtualMemory)                                                                              \
    X(GetCurrentProcess)                                                                                  \
    X(GetCurrentProcessId)                                                                                \
    X(OpenProcess)                                                                                        \
    X(GetProcessTimes)                                                                                    \
    X(GetExitCodeProcess)                                                                                 \
    X(FormatMessageW)                                                                                     \
    X(LocalFree)                                                                                          \
    X(OpenProcessToken)                                                                                   \
    X(GetTokenInformation)                                                                                \
    X(ConvertSidToStringSidW)                                                                             \
    X(ConvertStringSecurityDescriptorToSecurityDescriptorW)

#define X_ENUM(n) FN_##n,
enum fn_id { EMU_FUNCTIONS(X_ENUM) FN_COUNT };
#define X_NAME(n) #n,
static const char *const fn_names[FN_COUNT] = {EMU_FUNCTIONS(X_NAME)};

static int fn_calls[FN_COUNT];

#define MAX_ARMED 64
static struct {
    int fn;
    uint32_t error;
} g_armed[MAX_ARMED];
static int g_narmed;
static pthread_mutex_t g_armed_mu = PTHREAD_MUTEX_INITIALIZER;

/* counts the call; returns 1 (with t_err set) if an armed failure is consumed */
static int emu_enter(enum fn_id fn) {
    t_err = E_SUCCESS;
    __atomic_add_fetch(&fn_calls[fn], 1, __ATOMIC_RELAXED);
    int hit = 0;
    pthread_mutex_lock(&g_armed_mu);
    for (int i = 0; i < g_narmed; i++) {
        if (g_armed[i].fn == (int)fn) {
            t_err = g_armed[i].error;
            memmove(&g_armed[i], &g_armed[i + 1], (size_t)(g_narmed - i - 1) * sizeof g_armed[0]);
            g_narmed--;
            hit = 1;
            break;
        }
    }
    pthread_mutex_unlock(&g_armed_mu);
    return hit;
}

/* the body of every exported function: count, maybe inject, run, then errno = the Win32 code */
#define ENTRY(fn, failval, expr)                                                                          \
    do {                                                                                                  \
        __typeof__(failval) entry_r_ = (failval);                                                         \
        if (!emu_enter(FN_##fn))                                                                          \
            entry_r_ = (expr);                                                                            \
        errno = (int)t_err;                                                                               \
        return entry_r_;                                                                                  \
    } while (0)

static int find_fn(const char *name) {
    if (name == NULL)
        return -1;
    for (int i = 0; i < FN_COUNT; i++)
        if (strcmp(fn_names[i], name) == 0)
            return i;
    return -1;
}

/* ---------------------------------------------------------------- small helpers */

static pid_t my_tid(void) { return (pid_t)syscall(SYS_gettid); }

static int thread_alive(pid_t tid) {
    return syscall(SYS_tgkill, (long)getpid(), (long)tid, 0L) == 0 || errno == EPERM;
}

static unsigned long long page_size(void) { return (unsigned long long)sysconf(_SC_PAGESIZE); }

static uintptr_t page_floor(uintptr_t a) { return a & ~(uintptr_t)(page_size() - 1); }

static uintptr_t page_ceil(uintptr_t a) { return (a + page_size() - 1) & ~(uintptr_t)(page_size() - 1); }

static void sleep_ms(void) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int ofd(int fd, int cmd, short type, off_t start, off_t len) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    return fcntl(fd, cmd, &fl);
}

static int same_inode(int fd, const char *path) {
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static size_t u16len(const uint16_t *s) {
    size_t n = 0;
    while (s[n] != 0)
        n++;
    return n;
}

/* UTF-16LE -> UTF-8 (lone surrogates kept as WTF-8); malloc'd, NULL if out of memory */
static char *u16_to_u8(const uint16_t *s) {
    size_t n = u16len(s);
    char *out = malloc(n * 3 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = s[i];
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
            c = 0x10000 + ((c - 0xD800) << 10) + (uint32_t)(s[i + 1] - 0xDC00);
            i++;
        }
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out[o++] = (char)(0xE0 | (c >> 12));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (c >> 18));
            out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[o] = 0;
    return out;
}

static char *str_concat(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *r = malloc(la + lb + 1);
    if (r != NULL) {
        memcpy(r, a, la);
        memcpy(r + la, b, lb + 1);
    }
    return r;
}

/* ---------------------------------------------------------------- LocalAlloc / LocalFree */

static void **g_allocs;
static size_t g_nallocs, g_capallocs;

/* under g_mu */
static void *local_alloc(size_t n) {
    if (g_nallocs == g_capallocs) {
        size_t cap = g_capallocs ? g_capallocs * 2 : 16;
        void **p = realloc(g_allocs, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        g_allocs = p;
        g_capallocs = cap;
    }
    void *m = calloc(1, n ? n : 1);
    if (m != NULL)
        g_allocs[g_nallocs++] = m;
    return m;
}

static ssize_t local_find(const void *p) {
    for (size_t i = 0; i < g_nallocs; i++)
        if (g_allocs[i] == p)
            return (ssize_t)i;
    return -1;
}

/* ---------------------------------------------------------------- security descriptors */

#define SD_MAGIC "EMU-SD1"
struct emu_sd {
    char magic[8];
    uint32_t size;
    char sddl[];
};

/* under g_mu: the SDDL of sa's descriptor (malloc'd copy) in *out; 0, or -1 with t_err */
static int sddl_from_sa(const struct SECURITY_ATTRIBUTES *sa, char **out) {
    *out = NULL;
    if (sa == NULL || sa->lpSecurityDescriptor == NULL)
        return 0;
    const struct emu_sd *sd = sa->lpSecurityDescriptor;
    if (local_find(sd) < 0 || memcmp(sd->magic, SD_MAGIC, 8) != 0) {
        t_err = E_INVALID_SECURITY_DESCR;
        return -1;
    }
    *out = strdup(sd->sddl);
    if (*out == NULL) {
        t_err = ERROR_NOT_ENOUGH_MEMORY;
        return -1;
    }
    return 0;
}

static int sddl_sid(const char **pp) {
    const char *p = *pp;
    if (p[0] == 'S' && p[1] == '-' && p[2] >= '0' && p[2] <= '9') {
        p += 2;
        while ((*p >= '0' && *p <= '9') || *p == '-')
            p++;
    } else if (p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z') {
        p += 2;
    } else {
        return -1;
    }
    *pp = p;
    return 0;
}

/* a loose check of SDDL syntax: O:sid G:sid D:flags(ace)... S:flags(ace)... */
static int sddl_valid(const char *s) {
    if (*s == 0)
        return 0;
    const char *p = s;
    while (*p) {
        char c = p[0];
        if (p[1] != ':')
            return 0;
        p += 2;
        if (c == 'O' || c == 'G') {
            if (sddl_sid(&p) != 0)
                return 0;
        } else if (c == 'D' || c == 'S') {
            for (;;) {
                if (strncmp(p, "NO_ACCESS_CONTROL", 17) == 0)
                    p += 17;
                else if (strncmp(p, "AI", 2) == 0 || strncmp(p, "AR", 2) == 0)
                    p += 2;
                else if (p[0] == 'P' && p[1] != ':')
                    p += 1;
                else
                    break;
            }
            while (*p == '(') {
                const char *end = strchr(p, ')');
                if (end == NULL)
                    return 0;
                int semis = 0;
                for (const char *q = p + 1; q < end; q++) {
                    if (*q == '(')
                        return 0;
                    if (*q == ';')
                        semis++;
                }
                if (semis < 5 || semis > 6 || p[1] == ';')
                    return 0;
                const char *sid = p + 1;
                for (int k = 0; k < 5; k++)
                    sid = strchr(sid, ';') + 1;
                const char *q = sid;
                if (sddl_sid(&q) != 0 || (*q != ')' && *q != ';'))
                    return 0;
                p = end + 1;
            }
        } else {
            return 0;
        }
    }
    return 1;
}

/* ---------------------------------------------------------------- objects and the handle table */

enum kind { K_NONE, K_SECTION, K_FILE, K_MUTEX, K_PROCESS, K_TOKEN, K_SEMAPHORE };

struct lockrec {
    uint64_t off, len;
    int excl;
};

struct fileobj {
    int refs;        /* the handle (while open) + sections over it */
    int handle_open; /* the CreateFileW handle is still open */
    int fd;
    int rw; /* 1 read, 2 write */
    uint32_t share;
    dev_t dev;
    ino_t ino;
    char *sddl;
    struct lockrec *locks;
    size_t nlocks, caplocks;
    struct fileobj *next;
};

struct section {
    int refs;  /* handles + views */
    int views; /* views */
    int reserve; /* SEC_RESERVE: a view's pages are PROT_NONE until VirtualAlloc(MEM_COMMIT) commits them */
    int fd;    /* shm or memfd; -1 if file-backed */
    struct fileobj *file;
    unsigned long long size;
    uint32_t protect;
    char *name; /* canonical name, NULL if unnamed */
    char *path; /* /dev/shm path for named page-file sections */
    dev_t dev;
    ino_t ino;
    char *sddl;
    struct section *next;
};

struct mutexobj {
    int refs;
    int fd; /* -1 if unnamed */
    char *name;
    char *path;
    dev_t dev;
    ino_t ino;
    pid_t owner; /* tid in this process, 0 if not owned by a thread of this process */
    uint32_t count;
    char *sddl;
    struct mutexobj *next;
};

struct procobj {
    pid_t pid;
    unsigned long long start; /* clock ticks since boot */
    int exited;
    uint32_t exit_code;
};

struct tokenobj {
    uid_t uid;
};

struct slot {
    int kind;
    void *obj;
    uint32_t access;
};

static struct slot *g_slots;
static size_t g_nslots, g_cursor, g_used;
static struct section *g_sections;
static struct fileobj *g_files;
static struct mutexobj *g_mutexes;

struct view {
    uintptr_t base;
    size_t len; /* page-rounded */
    size_t committed; /* SEC_RESERVE views: the committed prefix, in bytes (else len) */
    uint32_t protect;
    struct section *sec;
};
static struct view *g_views;
static size_t g_nviews, g_capviews;

struct range {
    uintptr_t s, e;
};
static struct range *g_locked;
static size_t g_nlocked, g_caplocked;

static void *handle_new(int kind, void *obj, uint32_t access) {
    if (g_used == g_nslots) {
        size_t n = g_nslots ? g_nslots * 2 : 256;
        if (n > ((size_t)1 << 24))
            return NULL;
        struct slot *s = realloc(g_slots, n * sizeof *s);
        if (s == NULL)
            return NULL;
        memset(s + g_nslots, 0, (n - g_nslots) * sizeof *s);
        g_cursor = g_nslots;
        g_slots = s;
        g_nslots = n;
    }
    for (size_t k = 0; k < g_nslots; k++) {
        size_t i = (g_cursor + k) % g_nslots;
        if (g_slots[i].kind == K_NONE) {
            g_slots[i].kind = kind;
            g_slots[i].obj = obj;
            g_slots[i].access = access;
            g_cursor = i + 1;
            g_used++;
            return (void *)(uintptr_t)((i + 1) * 4);
        }
    }
    return NULL;
}

static struct slot *handle_get(const void *h, int kind) {
    uintptr_t v = (uintptr_t)h;
    if (v == 0 || v % 4 != 0)
        return NULL;
    size_t i = v / 4 - 1;
    if (i >= g_nslots || g_slots[i].kind == K_NONE)
        return NULL;
    if (kind != K_NONE && g_slots[i].kind != kind)
        return NULL;
    return &g_slots[i];
}

/* a handle that could not be made: the object's own cleanup is the caller's */
#define NO_HANDLE_ERROR ERROR_NO_SYSTEM_RESOURCES

/* ---------------------------------------------------------------- names */

/* canonical object name "Local\x" etc. (malloc'd) or NULL with t_err */
static char *canon_name(const uint16_t *name) {
    if (u16len(name) > 260) {
        t_err = ERROR_FILENAME_EXCED_RANGE;
        return NULL;
    }
    char *u8 = u16_to_u8(name);
    if (u8 == NULL) {
        t_err = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    const char *rest = u8;
    char *r;
    if (strncmp(u8, "Global\\", 7) == 0 || strncmp(u8, "Local\\", 6) == 0) {
        rest = strchr(u8, '\\') + 1;
        r = strdup(u8);
    } else if (strncmp(u8, "Session\\", 8) == 0) {
        const char *p = u8 + 8;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == u8 + 8 || *p != '\\') {
            free(u8);
            t_err = ERROR_PATH_NOT_FOUND;
            return NULL;
        }
        rest = p + 1;
        r = strdup(u8);
    } else {
        r = str_concat("Local\\", u8);
    }
    int bad_name = *rest == 0, bad_path = strchr(rest, '\\') != NULL;
    free(u8);
    if (r == NULL) {
        t_err = ERROR_NOT_ENOUGH_MEMORY;
        return NULL;
    }
    if (bad_name || bad_path) {
        free(r);
        t_err = bad_path ? ERROR_PATH_NOT_FOUND : ERROR_INVALID_NAME;
        return NULL;
    }
    return r;
}

/* /dev/shm/<prefix><encoded canonical name>, malloc'd */
static char *object_path(const char *prefix, const char *canon) {
    size_t n = strlen(SHM_DIR) + strlen(prefix) + strlen(canon) * 3 + 1;
    char *p = malloc(n);
    if (p == NULL)
        return NULL;
    size_t o = (size_t)snprintf(p, n, "%s%s", SHM_DIR, prefix);
    for (const char *c = canon; *c; c++) {
        if (*c == '\\') {
            p[o++] = '.';
        } else if (*c == '/' || *c == '%') {
            o += (size_t)snprintf(p + o, n - o, "%%%02X", (unsigned)(unsigned char)*c);
        } else {
            p[o++] = *c;
        }
    }
    p[o] = 0;
    return p;
}

static uint32_t err_object(int e) {
    switch (e) {
    case EACCES:
    case EPERM:
        return ERROR_ACCESS_DENIED;
    case ENAMETOOLONG:
        return ERROR_FILENAME_EXCED_RANGE;
    case EMFILE:
    case ENFILE:
    case ENOSPC:
    case EDQUOT:
        return ERROR_NO_SYSTEM_RESOURCES;
    case ENOMEM:
        return ERROR_NOT_ENOUGH_MEMORY;
    case EINVAL:
        return ERROR_INVALID_PARAMETER;
    default:
        return E_GEN_FAILURE;
    }
}

/* whether another live object (any process) holds the file at path: a reference lock on refbyte */
static int path_in_use(const char *path, off_t refbyte) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = refbyte;
    fl.l_len = 1;
    int used = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    return used;
}

typedef int (*init_fn)(int fd, void *arg); /* 0 or an errno */

/*
 * Opens (or, if create, creates) the shared object file at path and takes a shared reference lock on
 * refbyte. A file nobody references is a leftover of dead processes: it is removed and treated as
 * absent. A new file is prepared under a temporary name by init and link()ed into place. Returns the
 * descriptor, or -1 with t_err. Under g_mu.
 */
static int named_open(const char *path, int create, off_t refbyte, init_fn init, void *arg, int *created) {
    static unsigned long seq;
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            if (ofd(fd, F_OFD_SETLK, F_WRLCK, refbyte, 1) == 0) {
                if (same_inode(fd, path))
                    unlink(path);
                close(fd);
                continue;
            }
            if (errno != EAGAIN && errno != EACCES) {
                int e = errno;
                close(fd);
                t_err = err_object(e);
                return -1;
            }
            int r;
            while ((r = ofd(fd, F_OFD_SETLKW, F_RDLCK, refbyte, 1)) != 0 && errno == EINTR)
                ;
            if (r != 0) {
                int e = errno;
                close(fd);
                t_err = err_object(e);
                return -1;
            }
            if (!same_inode(fd, path)) {
                close(fd);
                continue;
            }
            *created = 0;
            return fd;
        }
        if (errno != ENOENT) {
            t_err = err_object(errno);
            return -1;
        }
        if (!create) {
            t_err = ERROR_FILE_NOT_FOUND;
            return -1;
        }
        char tmp[96];
        snprintf(tmp, sizeof tmp, SHM_DIR "panmap-emu-tmp-%d-%lu", (int)getpid(), ++seq);
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            t_err = err_object(errno);
            return -1;
        }
        int e = 0;
        if (ofd(fd, F_OFD_SETLK, F_RDLCK, refbyte, 1) != 0)
            e = errno;
        else
            e = init(fd, arg);
        if (e == 0 && link(tmp, path) == 0) {
            unlink(tmp);
            *created = 1;
            return fd;
        }
        if (e == 0)
            e = errno;
        unlink(tmp);
        close(fd);
        if (e != EEXIST) {
            t_err = e == EFBIG || e == ENOSPC ? ERROR_COMMITMENT_LIMIT : err_object(e);
            return -1;
        }
    }
    t_err = ERROR_NO_SYSTEM_RESOURCES;
    return -1;
}

/* closes a named object's descriptor and removes its file if no process references it any more */
static void named_release(int fd, const char *path, dev_t dev, ino_t ino, off_t refbyte) {
    close(fd);
    int p = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (p < 0)
        return;
    struct stat st;
    if (fstat(p, &st) == 0 && st.st_dev == dev && st.st_ino == ino &&
        ofd(p, F_OFD_SETLK, F_WRLCK, refbyte, 1) == 0)
        unlink(path);
    close(p);
}

static struct section *section_by_name(const char *name) {
    for (struct section *s = g_sections; s; s = s->next)
        if (s->name != NULL && strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

static struct mutexobj *mutex_by_name(const char *name) {
    for (struct mutexobj *m = g_mutexes; m; m = m->next)
        if (m->name != NULL && strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

/* whether the name is held by an object of that kind (K_SECTION or K_MUTEX), in this or another process */
static int name_held_by(int kind, const char *canon) {
    if (kind == K_MUTEX ? mutex_by_name(canon) != NULL : section_by_name(canon) != NULL)
        return 1;
    char *p = object_path(kind == K_MUTEX ? MUTEX_PREFIX : SECTION_PREFIX, canon);
    int used = p != NULL && path_in_use(p, kind == K_MUTEX ? MUTEX_REF_BYTE : SECTION_REF_BYTE);
    free(p);
    return used;
}

/*
 * The start of CreateFileMappingW / CreateMutexW (kind K_SECTION or K_MUTEX): the canonical name (NULL
 * for an unnamed object), an object of that name and kind in this process (the answer is then a new
 * handle to it, with ERROR_ALREADY_EXISTS), a name held by the other kind (ERROR_INVALID_HANDLE, as
 * Windows' STATUS_OBJECT_TYPE_MISMATCH), and the SDDL to record. Returns 1 when *result is the answer
 * (a handle, or NULL with t_err), 0 when the caller goes on to open or create the object, then owning
 * *name and *sddl.
 */
static int named_start(int kind, const uint16_t *lpName, const struct SECURITY_ATTRIBUTES *sa, uint32_t access,
                       char **name, char **sddl, void **result) {
    *name = NULL;
    *sddl = NULL;
    *result = NULL;
    if (lpName != NULL && lpName[0] != 0) {
        if ((*name = canon_name(lpName)) == NULL)
            return 1;
        struct section *s = kind == K_SECTION ? section_by_name(*name) : NULL;
        struct mutexobj *m = kind == K_MUTEX ? mutex_by_name(*name) : NULL;
        int other = name_held_by(kind == K_SECTION ? K_MUTEX : K_SECTION, *name);
        if (s != NULL || m != NULL || other) {
            free(*name);
            *name = NULL;
            if (other)
                FAIL(ERROR_INVALID_HANDLE, 1);
            if ((*result = handle_new(kind, s != NULL ? (void *)s : (void *)m, access)) == NULL)
                FAIL(NO_HANDLE_ERROR, 1);
            if (s != NULL)
                s->refs++;
            else
                m->refs++;
            t_err = ERROR_ALREADY_EXISTS; /* success: the existing object */
            return 1;
        }
    }
    if (sddl_from_sa(sa, sddl) != 0) {
        free(*name);
        *name = NULL;
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- object lifetimes (under g_mu) */

/* removes obj from the singly linked list at head (linked through ->next) */
#define LIST_REMOVE(head, obj)                                                                            \
    do {                                                                                                  \
        for (__typeof__(obj) *pp_ = &(head); *pp_ != NULL; pp_ = &(*pp_)->next)                           \
            if (*pp_ == (obj)) {                                                                          \
                *pp_ = (obj)->next;                                                                       \
                break;                                                                                    \
            }                                                                                             \
    } while (0)

static void file_unref(struct fileobj *f) {
    if (--f->refs > 0)
        return;
    LIST_REMOVE(g_files, f);
    close(f->fd);
    free(f->sddl);
    free(f->locks);
    free(f);
}

static void section_unref(struct section *s) {
    if (--s->refs > 0)
        return;
    LIST_REMOVE(g_sections, s);
    if (s->file != NULL)
        file_unref(s->file);
    else if (s->path != NULL)
        named_release(s->fd, s->path, s->dev, s->ino, SECTION_REF_BYTE);
    else
        close(s->fd);
    free(s->name);
    free(s->path);
    free(s->sddl);
    free(s);
}

static void mutex_unref(struct mutexobj *m) {
    if (--m->refs > 0)
        return;
    LIST_REMOVE(g_mutexes, m);
    /* an owned mutex is abandoned here: the owner record stays in the file, the lock goes */
    if (m->fd >= 0)
        named_release(m->fd, m->path, m->dev, m->ino, MUTEX_REF_BYTE);
    free(m->name);
    free(m->path);
    free(m->sddl);
    free(m);
}

static int section_has_file(dev_t dev, ino_t ino) {
    for (struct section *s = g_sections; s; s = s->next)
        if (s->file != NULL && s->file->dev == dev && s->file->ino == ino)
            return 1;
    return 0;
}

/* ---------------------------------------------------------------- sections */

static int init_size(int fd, void *arg) {
    return ftruncate(fd, (off_t) * (unsigned long long *)arg) == 0 ? 0 : errno;
}

static unsigned long long commit_limit(void) {
    struct sysinfo si;
    if (sysinfo(&si) != 0)
        return ULLONG_MAX;
    return ((unsigned long long)si.totalram + si.totalswap) * si.mem_unit;
}

static void *section_handle(struct section *s, uint32_t access) {
    void *h = handle_new(K_SECTION, s, access);
    if (h != NULL)
        s->refs++;
    return h;
}

static void *create_file_mapping(void *hFile, struct SECURITY_ATTRIBUTES *sa, uint32_t prot, uint32_t hi,
                                 uint32_t lo, const uint16_t *lpName) {
    uint32_t base = prot & 0xFFu, attrs = prot & ~0xFFu;
    if ((base != PAGE_READONLY && base != PAGE_READWRITE && base != PAGE_WRITECOPY) ||
        (attrs & ~(uint32_t)(SEC_COMMIT | SEC_RESERVE_FLAG)) != 0 ||
        attrs == (uint32_t)(SEC_COMMIT | SEC_RESERVE_FLAG))
        FAIL(ERROR_INVALID_PARAMETER, NULL);
    unsigned long long size = (unsigned long long)hi << 32 | lo;
    struct fileobj *file = NULL;
    if (hFile != INVALID_HANDLE) {
        struct slot *fs = handle_get(hFile, K_FILE);
        if (fs == NULL)
            FAIL(ERROR_INVALID_HANDLE, NULL);
        file = fs->obj;
        if (!(file->rw & 1) || (base == PAGE_READWRITE && !(file->rw & 2)))
            FAIL(ERROR_ACCESS_DENIED, NULL);
    } else if (size == 0) {
        FAIL(ERROR_INVALID_PARAMETER, NULL);
    }
    char *name, *sddl, *path = NULL;
    void *early;
    if (named_start(K_SECTION, lpName, sa, MAP_ALL_ACCESS, &name, &sddl, &early))
        return early;
    int fd = -1, created = 1;
    struct stat st;
    memset(&st, 0, sizeof st);
    if (file != NULL) {
        if (fstat(file->fd, &st) != 0) {
            t_err = E_GEN_FAILURE;
            goto fail;
        }
        unsigned long long fsize = (unsigned long long)st.st_size;
        if (size == 0) {
            if (fsize == 0) {
                t_err = E_FILE_INVALID;
                goto fail;
            }
            size = fsize;
        } else if (size > fsize) {
            if (base != PAGE_READWRITE) {
                t_err = ERROR_NOT_ENOUGH_MEMORY;
                goto fail;
            }
            if (size > (unsigned long long)INT64_MAX || ftruncate(file->fd, (off_t)size) != 0) {
                t_err = ERROR_DISK_FULL;
                goto fail;
            }
        }
    } else {
        if (size > commit_limit()) {
            t_err = ERROR_COMMITMENT_LIMIT;
            goto fail;
        }
        if (name != NULL) {
            if ((path = object_path(SECTION_PREFIX, name)) == NULL) {
                t_err = ERROR_NOT_ENOUGH_MEMORY;
                goto fail;
            }
            fd = named_open(path, 1, SECTION_REF_BYTE, init_size, &size, &created);
            if (fd < 0)
                goto fail;
        } else {
            fd = memfd_create("panmap-emu-anonymous", MFD_CLOEXEC);
            if (fd < 0) {
                t_err = err_object(errno);
                goto fail;
            }
            if (ftruncate(fd, (off_t)size) != 0) {
                t_err = ERROR_COMMITMENT_LIMIT;
                close(fd);
                goto fail;
            }
        }
        fstat(fd, &st);
        if (!created)
            size = (unsigned long long)st.st_size;
    }
    struct section *s = calloc(1, sizeof *s);
    if (s == NULL) {
        t_err = ERROR_NOT_ENOUGH_MEMORY;
        goto fail_fd;
    }
    s->fd = fd;
    s->file = file;
    s->size = size;
    s->protect = prot;
    if (created && file == NULL && (attrs & SEC_RESERVE_FLAG) != 0) {
        s->reserve = 1;
        if (fd >= 0 && path != NULL && fchmod(fd, 0700) != 0) {
            /* then other processes see it committed: they map it readable, which only loses fidelity */
        }
    } else if (!created && file == NULL) {
        s->reserve = (st.st_mode & S_IXUSR) != 0;
    }
    s->name = name;
    s->path = path;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->sddl = created ? sddl : NULL;
    if (!created)
        free(sddl);
    if (file != NULL)
        file->refs++;
    s->next = g_sections;
    g_sections = s;
    void *h = section_handle(s, MAP_ALL_ACCESS);
    if (h == NULL) {
        s->refs = 1;
        section_unref(s);
        FAIL(NO_HANDLE_ERROR, NULL);
    }
    t_err = created ? E_SUCCESS : ERROR_ALREADY_EXISTS;
    return h;
fail_fd:
    if (fd >= 0) {
        if (path != NULL)
            named_release(fd, path, st.st_dev, st.st_ino, SECTION_REF_BYTE);
        else
            close(fd);
    }
fail:
    free(name);
    free(path);
    free(sddl);
    return NULL;
}

static void *open_file_mapping(uint32_t access, int32_t inherit, const uint16_t *lpName) {
    (void)inherit;
    if (lpName == NULL || lpName[0] == 0)
        FAIL(ERROR_INVALID_PARAMETER, NULL);
    char *name = canon_name(lpName);
    if (name == NULL)
        return NULL;
    struct section *s = section_by_name(name);
    if (s != NULL) {
        free(name);
        void *h = section_handle(s, access);
        if (h == NULL)
            FAIL(NO_HANDLE_ERROR, NULL);
        return h;
    }
    if (name_held_by(K_MUTEX, name)) {
        free(name);
        FAIL(ERROR_INVALID_HANDLE, NULL);
    }
    char *path = object_path(SECTION_PREFIX, name);
    if (path == NULL) {
        free(name);
        FAIL(ERROR_NOT_ENOUGH_MEMORY, NULL);
    }
    int created = 0;
    int fd = named_open(path, 0, SECTION_REF_BYTE, NULL, NULL, &created);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || (s = calloc(1, sizeof *s)) == NULL)) {
        close(fd); /* drops our reference; a file nobody references is removed by the next opener */
        fd = -1;
        t_err = ERROR_NOT_ENOUGH_MEMORY;
    }
    if (fd < 0) {
        free(name);
        free(path);
        return NULL;
    }
    s->fd = fd;
    s->size = (unsigned long long)st.st_size;
    s->protect = PAGE_READWRITE; /* made by another process: unknown, assumed */
    s->reserve = (st.st_mode & S_IXUSR) != 0; /* SEC_RESERVE, as its creator marked it */
    s->name = name;
    s->path = path;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->next = g_sections;
    g_sections = s;
    void *h = section_handle(s, access);
    if (h == NULL) {
        s->refs = 1;
        section_unref(s);
        FAIL(NO_HANDLE_ERROR, NULL);
    }
    return h;
}

static int views_reserve(void) {
    if (g_nviews < g_capviews)
        return 0;
    size_t cap = g_capviews ? g_capviews * 2 : 16;
    struct view *v = realloc(g_views, cap * sizeof *v);
    if (v == NULL)
        return -1;
    g_views = v;
    g_capviews = cap;
    return 0;
}

static void *map_view(void *hSection, uint32_t access, uint32_t offHi, uint32_t offLo, unsigned long long bytes,
                      void *base) {
    struct slot *sl = handle_get(hSection, K_SECTION);
    if (sl == NULL)
        FAIL(ERROR_INVALID_HANDLE, NULL);
    struct section *s = sl->obj;
    /* kernelbase: FILE_MAP_COPY alone is copy-on-write, else write, else read */
    uint32_t vprot, needed;
    if (access == FILE_MAP_COPY) {
        vprot = PAGE_WRITECOPY;
        needed = FILE_MAP_READ;
    } else if (access & FILE_MAP_WRITE) {
        vprot = PAGE_READWRITE;
        needed = FILE_MAP_WRITE;
    } else if (access & FILE_MAP_READ) {
        vprot = PAGE_READONLY;
        needed = FILE_MAP_READ;
    } else {
        FAIL(ERROR_INVALID_PARAMETER, NULL);
    }
    if (!(sl->access & needed))
        FAIL(ERROR_ACCESS_DENIED, NULL);
    if (vprot == PAGE_READWRITE && (s->protect & 0xFFu) != PAGE_READWRITE)
        FAIL(ERROR_ACCESS_DENIED, NULL);
    unsigned long long off = (unsigned long long)offHi << 32 | offLo;
    if (off % GRANULARITY != 0 || (uintptr_t)base % GRANULARITY != 0)
        FAIL(ERROR_MAPPED_ALIGNMENT, NULL);
    if (off >= s->size)
        FAIL(ERROR_NOT_ENOUGH_MEMORY, NULL);
    if (bytes == 0)
        bytes = s->size - off;
    if (bytes > s->size - off)
        FAIL(ERROR_NOT_ENOUGH_MEMORY, NULL);
    if (views_reserve() != 0)
        FAIL(ERROR_NOT_ENOUGH_MEMORY, NULL);
    int prot = s->reserve ? PROT_NONE : vprot == PAGE_READONLY ? PROT_READ : PROT_READ | PROT_WRITE;
    int flags = vprot == PAGE_WRITECOPY ? MAP_PRIVATE : MAP_SHARED;
    if (base != NULL)
        flags |= MAP_FIXED_NOREPLACE;
    int fd = s->file != NULL ? s->file->fd : s->fd;
    void *p = mmap(base, (size_t)bytes, prot, flags, fd, (off_t)off);
    if (p == MAP_FAILED) {
        switch (errno) {
        case EEXIST:
            FAIL(ERROR_INVALID_ADDRESS, NULL);
        case EACCES:
        case EPERM:
            FAIL(ERROR_ACCESS_DENIED, NULL);
        case EINVAL:
            FAIL(ERROR_INVALID_PARAMETER, NULL);
        default:
            FAIL(ERROR_NOT_ENOUGH_MEMORY, NULL);
        }
    }
    if (base != NULL && p != base) { /* a kernel without MAP_FIXED_NOREPLACE took it as a hint */
        munmap(p, (size_t)bytes);
        FAIL(ERROR_INVALID_ADDRESS, NULL);
    }
    g_views[g_nviews].base = (uintptr_t)p;
    g_views[g_nviews].len = page_ceil((uintptr_t)bytes);
    g_views[g_nviews].committed = s->reserve ? 0 : page_ceil((uintptr_t)bytes);
    g_views[g_nviews].protect = vprot;
    g_views[g_nviews].sec = s;
    g_nviews++;
    s->refs++;
    s->views++;
    return p;
}

static struct view *view_containing(uintptr_t a) {
    for (size_t i = 0; i < g_nviews; i++)
        if (a >= g_views[i].base && a - g_views[i].base < g_views[i].len)
            return &g_views[i];
    return NULL;
}

static void locked_remove(uintptr_t s, uintptr_t e);

static int32_t unmap_view(const void *addr) {
    for (size_t i = 0; i < g_nviews; i++) {
        if (g_views[i].base == (uintptr_t)addr) {
            struct view v = g_views[i];
            if (munmap((void *)v.base, v.len) != 0)
                FAIL(ERROR_INVALID_ADDRESS, 0);
            g_views[i] = g_views[--g_nviews];
            locked_remove(v.base, v.base + v.len);
            v.sec->views--;
            section_unref(v.sec);
            return 1;
        }
    }
    FAIL(ERROR_INVALID_ADDRESS, 0);
}

static int32_t flush_view(const void *addr, unsigned long long n) {
    struct view *v = view_containing((uintptr_t)addr);
    if (v == NULL)
        FAIL(ERROR_INVALID_ADDRESS, 0);
    uintptr_t end = v->base + v->len;
    uintptr_t s = page_floor((uintptr_t)addr);
    uintptr_t e;
    if (n == 0) {
        e = end;
    } else {
        if (n > end - (uintptr_t)addr)
            FAIL(ERROR_INVALID_ADDRESS, 0);
        e = page_ceil((uintptr_t)addr + n);
    }
    if (msync((void *)s, e - s, MS_ASYNC) != 0)
        FAIL(errno == ENOMEM ? ERROR_INVALID_ADDRESS : E_GEN_FAILURE, 0);
    return 1;
}

/* ---------------------------------------------------------------- files */

static uint32_t err_file(int e) {
    switch (e) {
    case ENOENT:
        return ERROR_FILE_NOT_FOUND;
    case ENOTDIR:
        return ERROR_PATH_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EISDIR:
        return ERROR_ACCESS_DENIED;
    case EEXIST:
        return ERROR_FILE_EXISTS;
    case ENAMETOOLONG:
        return ERROR_FILENAME_EXCED_RANGE;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return ERROR_DISK_FULL;
    case EMFILE:
    case ENFILE:
        return ERROR_TOO_MANY_OPEN_FILES;
    case EROFS:
        return ERROR_WRITE_PROTECT;
    case ETXTBSY:
    case EBUSY:
        return ERROR_SHARING_VIOLATION;
    case ENOMEM:
        return ERROR_NOT_ENOUGH_MEMORY;
    case EINVAL:
        return ERROR_INVALID_PARAMETER;
    default:
        return E_GEN_FAILURE;
    }
}

/* a Windows path as a Linux one (malloc'd): "\\?\" dropped, '\' -> '/'; NULL with t_err */
static char *file_path(const uint16_t *p) {
    if (p == NULL)
        FAIL(ERROR_INVALID_PARAMETER, NULL);
    if (u16len(p) > 32767)
        FAIL(ERROR_FILENAME_EXCED_RANGE, NULL);
    char *u8 = u16_to_u8(p);
    if (u8 == NULL)
        FAIL(ERROR_NOT_ENOUGH_MEMORY, NULL);
    if (strncmp(u8, "\\\\?\\", 4) == 0)
        memmove(u8, u8 + 4, strlen(u8 + 4) + 1);
    for (char *c = u8; *c; c++)
        if (*c == '\\')
            *c = '/';
    if (*u8 == 0) {
        free(u8);
        FAIL(ERROR_PATH_NOT_FOUND, NULL);
    }
    return u8;
}

/* ENOENT: the file (2) or a directory on the way (3) is missing */
static uint32_t missing_code(const char *path) {
    char *d = strdup(path);
    if (d == NULL)
        return ERROR_FILE_NOT_FOUND;
    size_t n = strlen(d);
    while (n > 1 && d[n - 1] == '/')
        d[--n] = 0;
    char *slash = strrchr(d, '/');
    uint32_t code = ERROR_FILE_NOT_FOUND;
    if (slash != NULL) {
        if (slash == d)
            slash[1] = 0;
        else
            *slash = 0;
        struct stat st;
        if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
            code = ERROR_PATH_NOT_FOUND;
    }
    free(d);
    return code;
}

static int access_rw(uint32_t access) {
    int rw = 0;
    if (access & (GENERIC_READ | ACCESS_GENERIC_ALL | ACCESS_FILE_READ_DATA))
        rw |= 1;
    if (access & (GENERIC_WRITE | ACCESS_GENERIC_ALL | ACCESS_FILE_WRITE_DATA | ACCESS_FILE_APPEND_DATA))
        rw |= 2;
    return rw;
}

static int share_conflict(dev_t dev, ino_t ino, int rw, uint32_t share) {
    for (struct fileobj *f = g_files; f; f = f->next) {
        if (f->dev != dev || f->ino != ino)
            continue;
        if ((rw & 1) && !(f->share & FILE_SHARE_READ))
            return 1;
        if ((rw & 2) && !(f->share & FILE_SHARE_WRITE))
            return 1;
        if ((f->rw & 1) && !(share & FILE_SHARE_READ))
            return 1;
        if ((f->rw & 2) && !(share & FILE_SHARE_WRITE))
            return 1;
    }
    return 0;
}

static void *create_file(const uint16_t *lpFileName, uint32_t access, uint32_t share,
                         struct SECURITY_ATTRIBUTES *sa, uint32_t disp, uint32_t flags, void *tmpl) {
    (void)flags;
    (void)tmpl;
    if (disp < CREATE_NEW || disp > DISP_TRUNCATE_EXISTING)
        FAIL(ERROR_INVALID_PARAMETER, INVALID_HANDLE);
    int rw = access_rw(access);
    if (disp == DISP_TRUNCATE_EXISTING && !(rw & 2))
        FAIL(ERROR_INVALID_PARAMETER, INVALID_HANDLE);
    char *path = file_path(lpFileName);
    if (path == NULL)
        return INVALID_HANDLE;
    char *sddl = NULL;
    int fd = -1;
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (!exists && errno != ENOENT) {
        t_err = err_file(errno);
        goto fail;
    }
    if (exists) {
        if (disp == CREATE_NEW) {
            t_err = ERROR_FILE_EXISTS;
            goto fail;
        }
        if (S_ISDIR(st.st_mode)) {
            t_err = ERROR_ACCESS_DENIED;
            goto fail;
        }
        if (share_conflict(st.st_dev, st.st_ino, rw, share)) {
            t_err = ERROR_SHARING_VIOLATION;
            goto fail;
        }
    } else if (disp == OPEN_EXISTING || disp == DISP_TRUNCATE_EXISTING) {
        t_err = missing_code(path);
        goto fail;
    }
    if (!exists && sddl_from_sa(sa, &sddl) != 0)
        goto fail;
    int oflags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    switch (disp) {
    case CREATE_NEW:
        oflags |= O_CREAT | O_EXCL;
        break;
    case DISP_CREATE_ALWAYS:
        oflags |= O_CREAT | O_TRUNC;
        break;
    case DISP_OPEN_ALWAYS:
        oflags |= O_CREAT;
        break;
    case DISP_TRUNCATE_EXISTING:
        oflags |= O_TRUNC;
        break;
    default:
        break;
    }
    int mode = rw == 2 ? O_WRONLY : rw == 3 ? O_RDWR : O_RDONLY;
    /* a regular file is opened for writing where allowed, so that exclusive OFD locks work on
       read-only handles too (as LockFileEx does); writes stay refused by the handle's access */
    if (mode == O_RDONLY && (!exists || S_ISREG(st.st_mode)) && !(oflags & O_TRUNC)) {
        fd = open(path, oflags | O_RDWR, 0600);
        if (fd < 0 && errno != EACCES && errno != EROFS && errno != ETXTBSY && errno != EPERM) {
            t_err = errno == ENOENT ? missing_code(path) : err_file(errno);
            goto fail;
        }
    }
    if (fd < 0)
        fd = open(path, oflags | mode, 0600);
    if (fd < 0) {
        t_err = errno == ENOENT ? missing_code(path) : err_file(errno);
        goto fail;
    }
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        t_err = ERROR_ACCESS_DENIED;
        goto fail;
    }
    struct fileobj *f = calloc(1, sizeof *f);
    if (f == NULL) {
        t_err = ERROR_NOT_ENOUGH_MEMORY;
        goto fail;
    }
    f->refs = 1;
    f->handle_open = 1;
    f->fd = fd;
    f->rw = rw;
    f->share = share;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->sddl = sddl;
    f->next = g_files;
    g_files = f;
    void *h = handle_new(K_FILE, f, access);
    if (h == NULL) {
        file_unref(f);
        free(path);
        FAIL(NO_HANDLE_ERROR, INVALID_HANDLE);
    }
    free(path);
    t_err = exists && (disp == DISP_CREATE_ALWAYS || disp == DISP_OPEN_ALWAYS) ? ERROR_ALREADY_EXISTS : E_SUCCESS;
    return h;
fail:
    if (fd >= 0)
        close(fd);
    free(path);
    free(sddl);
    return INVALID_HANDLE;
}

static int32_t delete_file(const uint16_t *lpFileName) {
    char *path = file_path(lpFileName);
    if (path == NULL)
        return 0;
    struct stat st;
    uint32_t code = E_SUCCESS;
    if (lstat(path, &st) != 0) {
        code = errno == ENOENT ? missing_code(path) : err_file(errno);
    } else if (S_ISDIR(st.st_mode)) {
        code = ERROR_ACCESS_DENIED;
    } else {
        for (struct fileobj *f = g_files; f; f = f->next)
            if (f->dev == st.st_dev && f->ino == st.st_ino && !(f->share & FILE_SHARE_DELETE))
                code = ERROR_SHARING_VIOLATION;
        if (code == E_SUCCESS && section_has_file(st.st_dev, st.st_ino))
            code = ERROR_ACCESS_DENIED;
        if (code == E_SUCCESS && unlink(path) != 0)
            code = errno == ENOENT ? missing_code(path) : err_file(errno);
    }
    free(path);
    if (code != E_SUCCESS)
        FAIL(code, 0);
    return 1;
}

static struct fileobj *file_of(void *h) {
    struct slot *s = handle_get(h, K_FILE);
    if (s == NULL) {
        t_err = ERROR_INVALID_HANDLE;
        return NULL;
    }
    return s->obj;
}

static int32_t get_file_size(void *h, long long *size) {
    struct fileobj *f = file_of(h);
    if (f == NULL)
        return 0;
    if (size == NULL)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        FAIL(E_GEN_FAILURE, 0);
    *size = (long long)st.st_size;
    return 1;
}

static int32_t set_file_pointer(void *h, long long dist, long long *newPos, uint32_t method) {
    struct fileobj *f = file_of(h);
    if (f == NULL)
        return 0;
    int whence = method == FILE_BEGIN ? SEEK_SET : method == MOVE_CURRENT ? SEEK_CUR : method == MOVE_END ? SEEK_END : -1;
    if (whence < 0)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    off_t r = lseek(f->fd, (off_t)dist, whence);
    if (r < 0)
        FAIL(errno == EINVAL ? E_NEGATIVE_SEEK : err_file(errno), 0);
    if (newPos != NULL)
        *newPos = (long long)r;
    return 1;
}

static int32_t set_end_of_file(void *h) {
    struct fileobj *f = file_of(h);
    if (f == NULL)
        return 0;
    if (!(f->rw & 2))
        FAIL(ERROR_ACCESS_DENIED, 0);
    off_t pos = lseek(f->fd, 0, SEEK_CUR);
    struct stat st;
    if (pos < 0 || fstat(f->fd, &st) != 0)
        FAIL(E_GEN_FAILURE, 0);
    if (pos < st.st_size && section_has_file(f->dev, f->ino))
        FAIL(ERROR_USER_MAPPED_FILE, 0);
    if (ftruncate(f->fd, pos) != 0)
        FAIL(err_file(errno), 0);
    return 1;
}

static uint32_t get_file_type(void *h) {
    struct fileobj *f = file_of(h);
    if (f == NULL)
        return TYPE_UNKNOWN;
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        FAIL(E_GEN_FAILURE, TYPE_UNKNOWN);
    if (S_ISCHR(st.st_mode))
        return TYPE_CHAR;
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
        return TYPE_PIPE;
    return FILE_TYPE_DISK;
}

static int32_t flush_file(void *h) {
    struct fileobj *f = file_of(h);
    if (f == NULL)
        return 0;
    if (!(f->rw & 2))
        FAIL(ERROR_ACCESS_DENIED, 0);
    if (fsync(f->fd) != 0)
        FAIL(errno == EINVAL ? E_INVALID_FUNCTION : err_file(errno), 0);
    return 1;
}

/* ---------------------------------------------------------------- LockFileEx / UnlockFileEx */

static int lock_range(const struct OVERLAPPED *ov, uint32_t lo, uint32_t hi, uint64_t *off, uint64_t *len) {
    if (ov == NULL)
        FAIL(ERROR_INVALID_PARAMETER, -1);
    *off = (uint64_t)ov->OffsetHigh << 32 | ov->Offset;
    *len = (uint64_t)hi << 32 | lo;
    if (*len == 0)
        return 0;
    if (*len - 1 > UINT64_MAX - *off)
        FAIL(E_INVALID_LOCK_RANGE, -1);
    if (*off > (uint64_t)INT64_MAX || *len - 1 > (uint64_t)INT64_MAX - *off)
        FAIL(ERROR_INVALID_PARAMETER, -1);
    return 0;
}

static int ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
    return alen > 0 && blen > 0 && a < b + blen && b < a + alen;
}

static int cmp_lockrec(const void *x, const void *y) {
    const struct lockrec *a = x, *b = y;
    return a->off < b->off ? -1 : a->off > b->off;
}

/*
 * The parts of [off, off+len) not covered by f's (shared) locks other than skip: applies op to each
 * (F_RDLCK or F_UNLCK). Returns 0, or -1 with errno (what was applied before is undone for F_RDLCK).
 */
static int apply_gaps(struct fileobj *f, uint64_t off, uint64_t len, short op) {
    struct lockrec *cov = malloc((f->nlocks + 1) * sizeof *cov);
    if (cov == NULL) {
        errno = ENOMEM;
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < f->nlocks; i++)
        if (ranges_overlap(off, len, f->locks[i].off, f->locks[i].len))
            cov[n++] = f->locks[i];
    qsort(cov, n, sizeof *cov, cmp_lockrec);
    uint64_t pos = off, end = off + len;
    size_t done = 0;
    struct lockrec *undo = malloc((n + 1) * sizeof *undo);
    if (undo == NULL) {
        free(cov);
        errno = ENOMEM;
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i <= n && pos < end; i++) {
        uint64_t next = i < n ? (cov[i].off > pos ? cov[i].off : pos) : end;
        if (next > end)
            next = end;
        if (next > pos) {
            if (ofd(f->fd, F_OFD_SETLK, op, (off_t)pos, (off_t)(next - pos)) != 0) {
                rc = -1;
                break;
            }
            undo[done].off = pos;
            undo[done].len = next - pos;
            done++;
        }
        if (i < n && cov[i].off + cov[i].len > pos)
            pos = cov[i].off + cov[i].len;
    }
    if (rc != 0) {
        int e = errno;
        if (op == F_RDLCK)
            for (size_t k = 0; k < done; k++)
                ofd(f->fd, F_OFD_SETLK, F_UNLCK, (off_t)undo[k].off, (off_t)undo[k].len);
        errno = e;
    }
    free(undo);
    free(cov);
    return rc;
}

/* 0 taken, 1 held by another handle, 2 conflicts with this handle's own locks, -1 error (t_err) */
static int lock_try(void *h, int excl, uint64_t off, uint64_t len) {
    struct slot *sl = handle_get(h, K_FILE);
    if (sl == NULL)
        FAIL(ERROR_INVALID_HANDLE, -1);
    struct fileobj *f = sl->obj;
    if (f->rw == 0)
        FAIL(ERROR_ACCESS_DENIED, -1);
    for (size_t i = 0; i < f->nlocks; i++)
        if (ranges_overlap(off, len, f->locks[i].off, f->locks[i].len) && (excl || f->locks[i].excl))
            return 2;
    if (f->nlocks == f->caplocks) {
        size_t cap = f->caplocks ? f->caplocks * 2 : 4;
        struct lockrec *l = realloc(f->locks, cap * sizeof *l);
        if (l == NULL)
            FAIL(ERROR_NOT_ENOUGH_MEMORY, -1);
        f->locks = l;
        f->caplocks = cap;
    }
    if (len > 0) {
        int r = excl ? ofd(f->fd, F_OFD_SETLK, F_WRLCK, (off_t)off, (off_t)len) : apply_gaps(f, off, len, F_RDLCK);
        if (r != 0) {
            if (errno == EAGAIN || errno == EACCES)
                return 1;
            FAIL(errno == EBADF ? ERROR_ACCESS_DENIED : errno == ENOLCK ? ERROR_NO_SYSTEM_RESOURCES : ERROR_INVALID_PARAMETER,
                 -1);
        }
    }
    f->locks[f->nlocks].off = off;
    f->locks[f->nlocks].len = len;
    f->locks[f->nlocks].excl = excl;
    f->nlocks++;
    return 0;
}

static int32_t lock_file(void *h, uint32_t flags, uint32_t reserved, uint32_t lo, uint32_t hi, struct OVERLAPPED *ov) {
    if (reserved != 0)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    uint64_t off, len;
    if (lock_range(ov, lo, hi, &off, &len) != 0)
        return 0;
    int excl = (flags & LOCKFILE_EXCLUSIVE_LOCK) != 0;
    for (;;) {
        int r = LOCKED(lock_try(h, excl, off, len));
        if (r == 0)
            return 1;
        if (r < 0)
            return 0;
        if (r == 2 || (flags & LOCKFILE_FAIL_IMMEDIATELY))
            FAIL(ERROR_LOCK_VIOLATION, 0);
        sleep_ms();
    }
}

static int32_t unlock_file(void *h, uint32_t reserved, uint32_t lo, uint32_t hi, struct OVERLAPPED *ov) {
    struct fileobj *f = file_of(h);
    if (f == NULL)
        return 0;
    if (reserved != 0)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    uint64_t off, len;
    if (lock_range(ov, lo, hi, &off, &len) != 0)
        return 0;
    for (size_t i = 0; i < f->nlocks; i++) {
        if (f->locks[i].off == off && f->locks[i].len == len) {
            int excl = f->locks[i].excl;
            f->locks[i] = f->locks[--f->nlocks];
            if (len == 0)
                return 1;
            if (excl)
                ofd(f->fd, F_OFD_SETLK, F_UNLCK, (off_t)off, (off_t)len);
            else
                apply_gaps(f, off, len, F_UNLCK);
            return 1;
        }
    }
    FAIL(ERROR_NOT_LOCKED, 0);
}

/* ---------------------------------------------------------------- mutexes */

struct mutex_init_arg {
    int own;
};

static int init_mutex(int fd, void *arg) {
    uint32_t rec[2] = {0, 0};
    if (((struct mutex_init_arg *)arg)->own) {
        if (ofd(fd, F_OFD_SETLK, F_WRLCK, MUTEX_OWNER_BYTE, 1) != 0)
            return errno;
        rec[0] = (uint32_t)getpid();
        rec[1] = (uint32_t)my_tid();
    }
    return pwrite(fd, rec, sizeof rec, 0) == (ssize_t)sizeof rec ? 0 : errno ? errno : EIO;
}

static void *create_mutex(struct SECURITY_ATTRIBUTES *sa, int32_t initialOwner, const uint16_t *lpName) {
    char *name, *sddl, *path = NULL;
    void *early;
    if (named_start(K_MUTEX, lpName, sa, MUTEX_ALL, &name, &sddl, &early))
        return early;
    int fd = -1, created = 1;
    struct stat st;
    memset(&st, 0, sizeof st);
    if (name != NULL) {
        if ((path = object_path(MUTEX_PREFIX, name)) == NULL) {
            t_err = ERROR_NOT_ENOUGH_MEMORY;
            goto fail;
        }
        struct mutex_init_arg arg = {initialOwner != 0};
        fd = named_open(path, 1, MUTEX_REF_BYTE, init_mutex, &arg, &created);
        if (fd < 0)
            goto fail;
        fstat(fd, &st);
    }
    struct mutexobj *m = calloc(1, sizeof *m);
    if (m == NULL) {
        if (fd >= 0)
            named_release(fd, path, st.st_dev, st.st_ino, MUTEX_REF_BYTE);
        t_err = ERROR_NOT_ENOUGH_MEMORY;
        goto fail;
    }
    m->fd = fd;
    m->name = name;
    m->path = path;
    m->dev = st.st_dev;
    m->ino = st.st_ino;
    m->sddl = created ? sddl : NULL;
    if (!created)
        free(sddl);
    if (created && initialOwner) {
        m->owner = my_tid();
        m->count = 1;
    }
    m->next = g_mutexes;
    g_mutexes = m;
    void *h = handle_new(K_MUTEX, m, MUTEX_ALL);
    if (h == NULL) {
        m->owner = 0;
        if (m->fd >= 0) {
            uint32_t rec[2] = {0, 0};
            if (pwrite(m->fd, rec, sizeof rec, 0) < 0) {
                /* then the next owner sees WAIT_ABANDONED */
            }
        }
        m->refs = 1;
        mutex_unref(m);
        FAIL(NO_HANDLE_ERROR, NULL);
    }
    m->refs++;
    t_err = created ? E_SUCCESS : ERROR_ALREADY_EXISTS;
    return h;
fail:
    free(name);
    free(path);
    free(sddl);
    return NULL;
}

/* one attempt: WAIT_OBJECT_0, WAIT_ABANDONED, WAIT_TIMEOUT (not available now), or WAIT_FAILED */
static uint32_t mutex_try(struct mutexobj *m) {
    pid_t me = my_tid();
    if (m->owner == me) {
        if (m->count == 0x7FFFFFFFu)
            FAIL(ERROR_NOT_ENOUGH_MEMORY, WAIT_FAILED);
        m->count++;
        return WAIT_OBJECT_0;
    }
    int abandoned = 0;
    if (m->owner != 0) {
        if (thread_alive(m->owner))
            return WAIT_TIMEOUT;
        abandoned = 1; /* the owning thread of this process ended: we keep the OS lock */
    } else if (m->fd >= 0) {
        if (ofd(m->fd, F_OFD_SETLK, F_WRLCK, MUTEX_OWNER_BYTE, 1) != 0) {
            if (errno == EAGAIN || errno == EACCES)
                return WAIT_TIMEOUT;
            FAIL(E_GEN_FAILURE, WAIT_FAILED);
        }
        uint32_t rec[2] = {0, 0};
        if (pread(m->fd, rec, sizeof rec, 0) == (ssize_t)sizeof rec && rec[0] != 0)
            abandoned = 1;
    }
    m->owner = me;
    m->count = 1;
    if (m->fd >= 0) {
        uint32_t rec[2] = {(uint32_t)getpid(), (uint32_t)me};
        if (pwrite(m->fd, rec, sizeof rec, 0) != (ssize_t)sizeof rec) {
            m->owner = 0;
            m->count = 0;
            ofd(m->fd, F_OFD_SETLK, F_UNLCK, MUTEX_OWNER_BYTE, 1);
            FAIL(E_GEN_FAILURE, WAIT_FAILED);
        }
    }
    return abandoned ? WAIT_ABANDONED : WAIT_OBJECT_0;
}

static int32_t release_mutex(void *h) {
    struct slot *sl = handle_get(h, K_MUTEX);
    if (sl == NULL)
        FAIL(ERROR_INVALID_HANDLE, 0);
    struct mutexobj *m = sl->obj;
    if (m->owner != my_tid())
        FAIL(ERROR_NOT_OWNER, 0);
    if (--m->count == 0) {
        m->owner = 0;
        if (m->fd >= 0) {
            uint32_t rec[2] = {0, 0};
            if (pwrite(m->fd, rec, sizeof rec, 0) != (ssize_t)sizeof rec) {
                /* the record stays: the next owner sees WAIT_ABANDONED */
            }
            ofd(m->fd, F_OFD_SETLK, F_UNLCK, MUTEX_OWNER_BYTE, 1);
        }
    }
    return 1;
}

/* ---------------------------------------------------------------- processes */

struct pstat {
    char state;
    unsigned long long start;
    int has_exit_code;
    int exit_code;
};

static int read_pstat(pid_t pid, struct pstat *ps) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ')
        return -1;
    p += 2;
    memset(ps, 0, sizeof *ps);
    char *save = NULL;
    int field = 3;
    for (char *tok = strtok_r(p, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), field++) {
        if (field == 3)
            ps->state = tok[0];
        else if (field == 22)
            ps->start = strtoull(tok, NULL, 10);
        else if (field == 52) {
            ps->has_exit_code = 1;
            ps->exit_code = atoi(tok);
        }
    }
    return field > 22 ? 0 : -1;
}

/* whether the process has exited (caching its exit code); under g_mu */
static int proc_exited(struct procobj *p) {
    if (p->exited)
        return 1;
    struct pstat ps;
    if (read_pstat(p->pid, &ps) != 0 || ps.start != p->start || ps.state == 'X') {
        p->exited = 1;
        p->exit_code = 0;
    } else if (ps.state == 'Z') {
        p->exited = 1;
        int st = ps.has_exit_code ? ps.exit_code : 0;
        p->exit_code = (st & 0x7F) == 0 ? (uint32_t)((st >> 8) & 0xFF) : 1u;
    }
    return p->exited;
}

static void *open_process(uint32_t access, int32_t inherit, uint32_t pid) {
    (void)inherit;
    struct pstat ps;
    if (pid == 0 || pid > (uint32_t)INT_MAX || read_pstat((pid_t)pid, &ps) != 0 || ps.state == 'X')
        FAIL(ERROR_INVALID_PARAMETER, NULL);
    struct procobj *p = calloc(1, sizeof *p);
    if (p == NULL)
        FAIL(ERROR_NOT_ENOUGH_MEMORY, NULL);
    p->pid = (pid_t)pid;
    p->start = ps.start;
    void *h = handle_new(K_PROCESS, p, access);
    if (h == NULL) {
        free(p);
        FAIL(NO_HANDLE_ERROR, NULL);
    }
    return h;
}

static unsigned long long boot_time(void) {
    static unsigned long long btime;
    if (btime != 0)
        return btime;
    FILE *f = fopen("/proc/stat", "re");
    if (f == NULL)
        return 0;
    char line[256];
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "btime ", 6) == 0)
            btime = strtoull(line + 6, NULL, 10);
    fclose(f);
    return btime;
}

static int32_t get_process_times(void *h, struct FILETIME *c, struct FILETIME *e, struct FILETIME *k,
                                 struct FILETIME *u) {
    unsigned long long start;
    if (h == PSEUDO_PROCESS) {
        struct pstat ps;
        if (read_pstat(getpid(), &ps) != 0)
            FAIL(E_GEN_FAILURE, 0);
        start = ps.start;
    } else {
        struct slot *sl = handle_get(h, K_PROCESS);
        if (sl == NULL)
            FAIL(ERROR_INVALID_HANDLE, 0);
        start = ((struct procobj *)sl->obj)->start;
    }
    if (c == NULL || e == NULL || k == NULL || u == NULL)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    long clk = sysconf(_SC_CLK_TCK);
    if (clk <= 0)
        clk = 100;
    unsigned long long t = FILETIME_UNIX_EPOCH + boot_time() * 10000000ULL + start * (10000000ULL / (unsigned long long)clk);
    c->dwLowDateTime = (uint32_t)t;
    c->dwHighDateTime = (uint32_t)(t >> 32);
    memset(e, 0, sizeof *e);
    memset(k, 0, sizeof *k);
    memset(u, 0, sizeof *u);
    return 1;
}

static int32_t get_exit_code(void *h, uint32_t *code) {
    if (h == PSEUDO_PROCESS) {
        if (code == NULL)
            FAIL(ERROR_INVALID_PARAMETER, 0);
        *code = STILL_ACTIVE;
        return 1;
    }
    struct slot *sl = handle_get(h, K_PROCESS);
    if (sl == NULL)
        FAIL(ERROR_INVALID_HANDLE, 0);
    if (code == NULL)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    struct procobj *p = sl->obj;
    *code = proc_exited(p) ? p->exit_code : STILL_ACTIVE;
    return 1;
}

static uint32_t semaphore_try(void *obj);
static void semaphore_unref(void *obj);

/* one attempt of a wait, under g_mu */
static uint32_t wait_try(void *h) {
    if (h == PSEUDO_PROCESS)
        return WAIT_TIMEOUT; /* the current process never ends while it waits */
    struct slot *sl = handle_get(h, K_NONE);
    if (sl == NULL)
        FAIL(ERROR_INVALID_HANDLE, WAIT_FAILED);
    if (sl->kind == K_MUTEX)
        return mutex_try(sl->obj);
    if (sl->kind == K_SEMAPHORE)
        return semaphore_try(sl->obj);
    if (sl->kind == K_PROCESS)
        return proc_exited(sl->obj) ? WAIT_OBJECT_0 : WAIT_TIMEOUT;
    FAIL(ERROR_INVALID_HANDLE, WAIT_FAILED);
}

static uint32_t wait_for(void *h, uint32_t ms) {
    uint64_t deadline = now_ms() + ms;
    for (;;) {
        uint32_t r = LOCKED(wait_try(h));
        if (r != WAIT_TIMEOUT)
            return r;
        if (ms == 0 || (ms != WAIT_INFINITE && now_ms() >= deadline))
            return WAIT_TIMEOUT;
        sleep_ms();
    }
}

/* ---------------------------------------------------------------- CloseHandle */

static int32_t close_handle(void *h) {
    if (h == PSEUDO_PROCESS)
        return 1;
    struct slot *sl = handle_get(h, K_NONE);
    if (sl == NULL)
        FAIL(ERROR_INVALID_HANDLE, 0);
    struct slot s = *sl;
    sl->kind = K_NONE;
    sl->obj = NULL;
    g_used--;
    switch (s.kind) {
    case K_SECTION:
        section_unref(s.obj);
        break;
    case K_FILE: {
        struct fileobj *f = s.obj;
        ofd(f->fd, F_OFD_SETLK, F_UNLCK, 0, 0);
        f->nlocks = 0;
        f->handle_open = 0;
        file_unref(f);
        break;
    }
    case K_MUTEX:
        mutex_unref(s.obj);
        break;
    case K_SEMAPHORE:
        semaphore_unref(s.obj);
        break;
    default:
        free(s.obj);
        break;
    }
    return 1;
}

/* ---------------------------------------------------------------- memory */

static void get_system_info(struct SYSTEM_INFO *si) {
    if (si == NULL)
        return;
    memset(si, 0, sizeof *si);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    si->wProcessorArchitecture = 9; /* PROCESSOR_ARCHITECTURE_AMD64 */
    si->dwPageSize = (uint32_t)page_size();
    si->lpMinimumApplicationAddress = (void *)(uintptr_t)MIN_APP_ADDRESS;
    si->lpMaximumApplicationAddress = (void *)(uintptr_t)MAX_APP_ADDRESS;
    si->dwActiveProcessorMask = n >= 64 ? ~0ULL : (1ULL << n) - 1;
    si->dwNumberOfProcessors = (uint32_t)n;
    si->dwProcessorType = 8664; /* PROCESSOR_AMD_X8664 */
    si->dwAllocationGranularity = (uint32_t)GRANULARITY;
    si->wProcessorLevel = 6;
    si->wProcessorRevision = 0;
}

static char *read_all(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (len + 4096 + 1 > cap) {
            char *b = realloc(buf, cap * 2);
            if (b == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (buf != NULL)
        buf[len] = 0;
    return buf;
}

static uint32_t maps_protect(const char *perms) {
    int r = perms[0] == 'r', w = perms[1] == 'w', x = perms[2] == 'x';
    if (x)
        return w ? 0x40u : r ? 0x20u : 0x10u; /* PAGE_EXECUTE_READWRITE / _READ / PAGE_EXECUTE */
    if (w)
        return PAGE_READWRITE;
    if (r)
        return PAGE_READONLY;
    return PAGE_NOACCESS;
}

static uint32_t maps_type(const char *path) {
    if (*path == 0 || (path[0] == '[' && strcmp(path, "[vdso]") != 0))
        return MEM_PRIVATE;
    if (path[0] == '[')
        return MEM_IMAGE;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    size_t len = strlen(path);
    const char *deleted = " (deleted)";
    if (len > strlen(deleted) && strcmp(path + len - strlen(deleted), deleted) == 0)
        len -= strlen(deleted);
    if (n > 0 && (size_t)n == len && strncmp(path, exe, len) == 0)
        return MEM_IMAGE;
    if ((len >= 3 && strncmp(path + len - 3, ".so", 3) == 0) || memmem(path, len, ".so.", 4) != NULL)
        return MEM_IMAGE;
    return MEM_MAPPED;
}

static unsigned long long virtual_query(const void *addr, struct MEMORY_BASIC_INFORMATION *mbi, unsigned long long n) {
    if (mbi == NULL)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    if (n < sizeof *mbi)
        FAIL(E_BAD_LENGTH, 0);
    uintptr_t a = (uintptr_t)addr;
    if (a > MAX_APP_ADDRESS)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    uintptr_t page = page_floor(a);
    memset(mbi, 0, sizeof *mbi);
    mbi->BaseAddress = (void *)page;
    struct view *v = view_containing(a);
    if (v != NULL) {
        mbi->AllocationBase = (void *)v->base;
        mbi->AllocationProtect = v->protect;
        mbi->Type = MEM_MAPPED;
        if (page < v->base + v->committed) {
            mbi->RegionSize = v->base + v->committed - page;
            mbi->State = MEM_COMMIT;
            mbi->Protect = v->protect;
        } else {
            mbi->RegionSize = v->base + v->len - page;
            mbi->State = MEM_RESERVE;
            mbi->Protect = 0;
        }
        return sizeof *mbi;
    }
    char *maps = read_all("/proc/self/maps");
    if (maps == NULL)
        FAIL(E_GEN_FAILURE, 0);
    uintptr_t next = MAX_APP_ADDRESS + 1;
    int found = 0;
    for (char *line = maps; line != NULL && *line;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = 0;
        unsigned long s, e;
        char perms[8] = "";
        int pathpos = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &s, &e, perms, &pathpos) >= 3) {
            if (a >= s && a < e) {
                const char *path = pathpos > 0 ? line + pathpos : "";
                mbi->AllocationBase = (void *)s;
                mbi->RegionSize = e - page;
                if (strncmp(perms, "---", 3) == 0) {
                    mbi->State = MEM_RESERVE;
                    mbi->AllocationProtect = PAGE_NOACCESS;
                    mbi->Protect = 0;
                } else {
                    mbi->State = MEM_COMMIT;
                    mbi->AllocationProtect = mbi->Protect = maps_protect(perms);
                }
                mbi->Type = maps_type(path);
                found = 1;
                break;
            }
            if (s > a && s < next)
                next = s;
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    free(maps);
    if (!found) {
        mbi->State = MEM_FREE;
        mbi->Protect = PAGE_NOACCESS;
        mbi->RegionSize = next - page;
    }
    return sizeof *mbi;
}

static int locked_reserve(size_t extra) {
    if (g_nlocked + extra <= g_caplocked)
        return 0;
    size_t cap = g_caplocked ? g_caplocked * 2 : 16;
    while (cap < g_nlocked + extra)
        cap *= 2;
    struct range *r = realloc(g_locked, cap * sizeof *r);
    if (r == NULL)
        return -1;
    g_locked = r;
    g_caplocked = cap;
    return 0;
}

static int cmp_range(const void *x, const void *y) {
    const struct range *a = x, *b = y;
    return a->s < b->s ? -1 : a->s > b->s;
}

static void locked_add(uintptr_t s, uintptr_t e) {
    g_locked[g_nlocked].s = s;
    g_locked[g_nlocked].e = e;
    g_nlocked++;
    qsort(g_locked, g_nlocked, sizeof *g_locked, cmp_range);
    size_t o = 0;
    for (size_t i = 0; i < g_nlocked; i++) {
        if (o > 0 && g_locked[i].s <= g_locked[o - 1].e) {
            if (g_locked[i].e > g_locked[o - 1].e)
                g_locked[o - 1].e = g_locked[i].e;
        } else {
            g_locked[o++] = g_locked[i];
        }
    }
    g_nlocked = o;
}

static int locked_covers(uintptr_t s, uintptr_t e) {
    for (size_t i = 0; i < g_nlocked; i++)
        if (g_locked[i].s <= s && e <= g_locked[i].e)
            return 1;
    return 0;
}

static void locked_remove(uintptr_t s, uintptr_t e) {
    for (size_t i = 0; i < g_nlocked;) {
        struct range r = g_locked[i];
        if (r.e <= s || r.s >= e) {
            i++;
            continue;
        }
        if (r.s < s && r.e > e) { /* split: one more entry */
            if (locked_reserve(1) != 0)
                return;
            memmove(&g_locked[i + 2], &g_locked[i + 1], (g_nlocked - i - 1) * sizeof *g_locked);
            g_locked[i].e = s;
            g_locked[i + 1].s = e;
            g_locked[i + 1].e = r.e;
            g_nlocked++;
            return;
        }
        if (r.s < s) {
            g_locked[i].e = s;
            i++;
        } else if (r.e > e) {
            g_locked[i].s = e;
            i++;
        } else {
            memmove(&g_locked[i], &g_locked[i + 1], (g_nlocked - i - 1) * sizeof *g_locked);
            g_nlocked--;
        }
    }
}

/* whether /proc/self/maps covers [s, e) without a hole (lines are sorted by address) */
static int range_mapped(uintptr_t s, uintptr_t e) {
    char *maps = read_all("/proc/self/maps");
    if (maps == NULL)
        return 1;
    uintptr_t pos = s;
    for (char *line = maps; line != NULL && *line && pos < e; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        unsigned long ls, le;
        if (sscanf(line, "%lx-%lx", &ls, &le) == 2 && ls <= pos && pos < le)
            pos = le;
    }
    free(maps);
    return pos >= e;
}

static unsigned long long g_ws_min = WS_DEFAULT_MIN, g_ws_max = WS_DEFAULT_MAX;

static int32_t virtual_lock(void *addr, unsigned long long size) {
    if (size == 0 || (uintptr_t)addr + size < (uintptr_t)addr)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    uintptr_t s = page_floor((uintptr_t)addr), e = page_ceil((uintptr_t)addr + size);
    if (locked_reserve(1) != 0)
        FAIL(ERROR_NOT_ENOUGH_MEMORY, 0);
    if (!range_mapped(s, e))
        FAIL(ERROR_INVALID_ADDRESS, 0);
    unsigned long long locked = 0;
    for (size_t i = 0; i < g_nlocked; i++)
        locked += g_locked[i].e - g_locked[i].s;
    if (locked + (e - s) + WS_OVERHEAD_PAGES * page_size() > g_ws_min)
        FAIL(ERROR_WORKING_SET_QUOTA, 0); /* Windows: no more than the minimum working set, less a few pages */
    if (mlock((void *)s, e - s) != 0)
        FAIL(errno == EINVAL ? ERROR_INVALID_PARAMETER : ERROR_WORKING_SET_QUOTA, 0);
    locked_add(s, e);
    return 1;
}

static int32_t virtual_unlock(void *addr, unsigned long long size) {
    if (size == 0 || (uintptr_t)addr + size < (uintptr_t)addr)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    uintptr_t s = page_floor((uintptr_t)addr), e = page_ceil((uintptr_t)addr + size);
    if (!locked_covers(s, e))
        FAIL(ERROR_NOT_LOCKED, 0);
    if (munlock((void *)s, e - s) != 0)
        FAIL(ERROR_INVALID_ADDRESS, 0);
    locked_remove(s, e);
    return 1;
}

static int32_t prefetch(void *h, unsigned long long n, struct WIN32_MEMORY_RANGE_ENTRY *entries, uint32_t flags) {
    int own = h == PSEUDO_PROCESS;
    if (!own) {
        struct slot *sl = handle_get(h, K_PROCESS);
        if (sl == NULL)
            FAIL(ERROR_INVALID_HANDLE, 0);
        own = ((struct procobj *)sl->obj)->pid == getpid();
    }
    if (flags != 0 || (n > 0 && entries == NULL))
        FAIL(ERROR_INVALID_PARAMETER, 0);
    if (!own)
        return 1; /* a hint for another process: nothing to do here */
    for (unsigned long long i = 0; i < n; i++) {
        uintptr_t s = page_floor((uintptr_t)entries[i].VirtualAddress);
        uintptr_t e = page_ceil((uintptr_t)entries[i].VirtualAddress + entries[i].NumberOfBytes);
        if (e > s)
            madvise((void *)s, e - s, MADV_WILLNEED);
    }
    return 1;
}

/* ---------------------------------------------------------------- FormatMessageW */

static const struct {
    uint32_t code;
    const char *text;
} messages[] = {
    {0, "The operation completed successfully."},
    {1, "Incorrect function."},
    {ERROR_FILE_NOT_FOUND, "The system cannot find the file specified."},
    {ERROR_PATH_NOT_FOUND, "The system cannot find the path specified."},
    {ERROR_TOO_MANY_OPEN_FILES, "The system cannot open the file."},
    {ERROR_ACCESS_DENIED, "Access is denied."},
    {ERROR_INVALID_HANDLE, "The handle is invalid."},
    {ERROR_NOT_ENOUGH_MEMORY, "Not enough memory resources are available to process this command."},
    {ERROR_OUTOFMEMORY, "Not enough memory resources are available to complete this operation."},
    {ERROR_WRITE_PROTECT, "The media is write protected."},
    {24, "The program issued a command but the command length is incorrect."},
    {31, "A device attached to the system is not functioning."},
    {ERROR_SHARING_VIOLATION, "The process cannot access the file because it is being used by another process."},
    {ERROR_LOCK_VIOLATION,
     "The process cannot access the file because another process has locked a portion of the file."},
    {ERROR_HANDLE_DISK_FULL, "The disk is full."},
    {ERROR_NOT_SUPPORTED, "The request is not supported."},
    {ERROR_FILE_EXISTS, "The file exists."},
    {ERROR_INVALID_PARAMETER, "The parameter is incorrect."},
    {ERROR_DISK_FULL, "There is not enough space on the disk."},
    {122, "The data area passed to a system call is too small."},
    {ERROR_INVALID_NAME, "The filename, directory name, or volume label syntax is incorrect."},
    {131, "An attempt was made to move the file pointer before the beginning of the file."},
    {ERROR_NOT_LOCKED, "The segment is already unlocked."},
    {ERROR_BAD_PATHNAME, "The specified path is invalid."},
    {ERROR_ALREADY_EXISTS, "Cannot create a file when that file already exists."},
    {ERROR_FILENAME_EXCED_RANGE, "The filename or extension is too long."},
    {ERROR_NOT_OWNER, "Attempt to release mutex not owned by caller."},
    {307, "An invalid file lock range was specified."},
    {ERROR_INVALID_ADDRESS, "Attempt to access invalid address."},
    {1006, "The volume for a file has been externally altered so that the opened file is no longer valid."},
    {ERROR_MAPPED_ALIGNMENT, "The base address or the file offset specified does not have the proper alignment."},
    {ERROR_USER_MAPPED_FILE, "The requested operation cannot be performed on a file with a user-mapped section open."},
    {1336, "The access control list (ACL) structure is invalid."},
    {1337, "The security ID structure is invalid."},
    {1338, "The security descriptor structure is invalid."},
    {ERROR_NO_SYSTEM_RESOURCES, "Insufficient system resources exist to complete the requested service."},
    {ERROR_WORKING_SET_QUOTA, "Insufficient quota to complete the requested service."},
    {ERROR_COMMITMENT_LIMIT, "The paging file is too small for this operation to complete."},
};

static uint32_t format_message(uint32_t flags, const void *src, uint32_t code, uint32_t lang, uint16_t *buf,
                               uint32_t size, void *args) {
    (void)src;
    (void)lang;
    (void)args;
    if (!(flags & FORMAT_MESSAGE_FROM_SYSTEM) || (flags & (FM_FROM_STRING | FM_FROM_HMODULE)) || buf == NULL)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    char text[256];
    const char *known = NULL;
    for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++)
        if (messages[i].code == code)
            known = messages[i].text;
    int wide = (flags & FM_MAX_WIDTH_MASK) == FM_MAX_WIDTH_MASK;
    if (known != NULL)
        snprintf(text, sizeof text, "(emulated) %s%s", known, wide ? "" : "\r\n");
    else
        snprintf(text, sizeof text, "(emulated) error %u%s", code, wide ? "" : "\r\n");
    uint32_t len = (uint32_t)strlen(text);
    uint16_t *out = buf;
    if (flags & FM_ALLOCATE_BUFFER) {
        uint32_t n = len + 1 > size ? len + 1 : size;
        out = local_alloc((size_t)n * 2);
        if (out == NULL)
            FAIL(ERROR_NOT_ENOUGH_MEMORY, 0);
        *(uint16_t **)buf = out;
    } else if (size < len + 1) {
        FAIL(E_INSUFFICIENT_BUFFER, 0);
    }
    for (uint32_t i = 0; i <= len; i++)
        out[i] = (uint16_t)(unsigned char)text[i];
    return len;
}

static void *local_free(void *p) {
    if (p == NULL)
        return NULL;
    ssize_t i = local_find(p);
    if (i < 0)
        FAIL(ERROR_INVALID_HANDLE, p);
    free(p);
    g_allocs[i] = g_allocs[--g_nallocs];
    return NULL;
}

/* ---------------------------------------------------------------- tokens and SIDs */

#define SID_BYTES 28 /* revision, count 5, authority 5, 5 sub-authorities */

static void make_sid(uint8_t *out, uid_t uid) {
    const uint32_t subs[5] = {21, 1000, 1000, 1000, (uint32_t)uid};
    out[0] = 1;
    out[1] = 5;
    memset(out + 2, 0, 5);
    out[7] = 5; /* SECURITY_NT_AUTHORITY */
    for (int i = 0; i < 5; i++)
        for (int b = 0; b < 4; b++)
            out[8 + 4 * i + b] = (uint8_t)(subs[i] >> (8 * b));
}

static int32_t open_process_token(void *process, uint32_t access, void **token) {
    uid_t uid;
    if (process == PSEUDO_PROCESS) {
        uid = getuid();
    } else {
        struct slot *sl = handle_get(process, K_PROCESS);
        if (sl == NULL)
            FAIL(ERROR_INVALID_HANDLE, 0);
        char path[32];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%d", (int)((struct procobj *)sl->obj)->pid);
        if (stat(path, &st) != 0)
            FAIL(ERROR_ACCESS_DENIED, 0);
        uid = st.st_uid;
    }
    if (token == NULL)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    struct tokenobj *t = malloc(sizeof *t);
    if (t == NULL)
        FAIL(ERROR_NOT_ENOUGH_MEMORY, 0);
    t->uid = uid;
    void *h = handle_new(K_TOKEN, t, access);
    if (h == NULL) {
        free(t);
        FAIL(NO_HANDLE_ERROR, 0);
    }
    *token = h;
    return 1;
}

static int32_t get_token_information(void *token, int32_t cls, void *buf, uint32_t len, uint32_t *ret) {
    struct slot *sl = handle_get(token, K_TOKEN);
    if (sl == NULL)
        FAIL(ERROR_INVALID_HANDLE, 0);
    if (!(sl->access & TOKEN_QUERY))
        FAIL(ERROR_ACCESS_DENIED, 0);
    if (cls != TokenUser || ret == NULL)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    uint32_t need = (uint32_t)(sizeof(struct SID_AND_ATTRIBUTES) + SID_BYTES);
    *ret = need;
    if (buf == NULL || len < need)
        FAIL(E_INSUFFICIENT_BUFFER, 0);
    struct SID_AND_ATTRIBUTES sa;
    memset(&sa, 0, sizeof sa);
    uint8_t *sid = (uint8_t *)buf + sizeof sa;
    sa.Sid = sid;
    sa.Attributes = 0;
    memcpy(buf, &sa, sizeof sa);
    make_sid(sid, ((struct tokenobj *)sl->obj)->uid);
    return 1;
}

static int32_t sid_to_string(void *sidp, uint16_t **out) {
    if (sidp == NULL || out == NULL)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    const uint8_t *sid = sidp;
    if (sid[0] != 1 || sid[1] > 15)
        FAIL(E_INVALID_SID, 0);
    char text[256];
    uint64_t auth = 0;
    for (int i = 2; i < 8; i++)
        auth = auth << 8 | sid[i];
    int o = auth >> 32 ? snprintf(text, sizeof text, "S-1-0x%012llX", (unsigned long long)auth)
                       : snprintf(text, sizeof text, "S-1-%llu", (unsigned long long)auth);
    for (int i = 0; i < sid[1]; i++) {
        uint32_t v = 0;
        for (int b = 3; b >= 0; b--)
            v = v << 8 | sid[8 + 4 * i + b];
        o += snprintf(text + o, sizeof text - (size_t)o, "-%u", v);
    }
    uint16_t *w = local_alloc(((size_t)o + 1) * 2);
    if (w == NULL)
        FAIL(ERROR_NOT_ENOUGH_MEMORY, 0);
    for (int i = 0; i <= o; i++)
        w[i] = (uint16_t)(unsigned char)text[i];
    *out = w;
    return 1;
}

static int32_t string_to_sd(const uint16_t *sddl, uint32_t rev, void **sd, uint32_t *size) {
    if (sddl == NULL || sd == NULL || rev != SDDL_REVISION_1)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    char *u8 = u16_to_u8(sddl);
    if (u8 == NULL)
        FAIL(ERROR_NOT_ENOUGH_MEMORY, 0);
    if (!sddl_valid(u8)) {
        free(u8);
        FAIL(E_INVALID_ACL, 0);
    }
    size_t n = sizeof(struct emu_sd) + strlen(u8) + 1;
    struct emu_sd *d = local_alloc(n);
    if (d == NULL) {
        free(u8);
        FAIL(ERROR_NOT_ENOUGH_MEMORY, 0);
    }
    memcpy(d->magic, SD_MAGIC, 8);
    d->size = (uint32_t)n;
    memcpy(d->sddl, u8, strlen(u8) + 1);
    free(u8);
    *sd = d;
    if (size != NULL)
        *size = (uint32_t)n;
    return 1;
}


/* ---------------------------------------------------------------- added for the second Windows pass */

/* OpenMutexW: an existing mutex only (this process's, or another's by its shm file) */
static void *open_mutex(uint32_t access, int32_t inherit, const uint16_t *lpName) {
    (void)access;
    (void)inherit;
    if (lpName == NULL || lpName[0] == 0)
        FAIL(ERROR_INVALID_PARAMETER, NULL);
    char *name = canon_name(lpName);
    if (name == NULL)
        return NULL;
    struct mutexobj *m = mutex_by_name(name);
    if (m != NULL) {
        free(name);
        void *h = handle_new(K_MUTEX, m, MUTEX_ALL);
        if (h == NULL)
            FAIL(NO_HANDLE_ERROR, NULL);
        m->refs++;
        return h;
    }
    if (name_held_by(K_SECTION, name)) {
        free(name);
        FAIL(ERROR_INVALID_HANDLE, NULL);
    }
    char *path = object_path(MUTEX_PREFIX, name);
    if (path == NULL) {
        free(name);
        FAIL(ERROR_NOT_ENOUGH_MEMORY, NULL);
    }
    int created = 0;
    int fd = named_open(path, 0, MUTEX_REF_BYTE, NULL, NULL, &created);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || (m = calloc(1, sizeof *m)) == NULL)) {
        close(fd);
        fd = -1;
        t_err = ERROR_NOT_ENOUGH_MEMORY;
    }
    if (fd < 0) {
        free(name);
        free(path);
        return NULL;
    }
    m->fd = fd;
    m->name = name;
    m->path = path;
    m->dev = st.st_dev;
    m->ino = st.st_ino;
    m->next = g_mutexes;
    g_mutexes = m;
    void *h = handle_new(K_MUTEX, m, MUTEX_ALL);
    if (h == NULL) {
        m->refs = 1;
        mutex_unref(m);
        FAIL(NO_HANDLE_ERROR, NULL);
    }
    m->refs++;
    return h;
}

/*
 * Semaphores: a shm file /dev/shm/panmap-emu-sem-<name> whose first 8 bytes are the count and the
 * maximum, changed with atomic operations on a shared mapping of them, so that every process sees one
 * count; lifetime by a reference lock on byte 8, as for mutexes. Waits poll every millisecond. Not
 * emulated: a name held by a semaphore is not checked against sections and mutexes of that name.
 */
struct semobj {
    int refs;
    int fd;
    char *name;
    char *path;
    dev_t dev;
    ino_t ino;
    int32_t *word; /* [0] count, [1] maximum: a shared mapping of the file's first 8 bytes */
    char *sddl;
    struct semobj *next;
};
static struct semobj *g_semaphores;

struct sem_init_arg {
    int32_t initial, maximum;
};

static int init_semaphore(int fd, void *arg) {
    struct sem_init_arg *a = arg;
    int32_t rec[2] = {a->initial, a->maximum};
    if (ftruncate(fd, 4096) != 0)
        return errno;
    return pwrite(fd, rec, sizeof rec, 0) == (ssize_t)sizeof rec ? 0 : errno ? errno : EIO;
}

static struct semobj *semaphore_by_name(const char *name) {
    for (struct semobj *m = g_semaphores; m; m = m->next)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

static void semaphore_unref(void *obj) {
    struct semobj *m = obj;
    if (--m->refs > 0)
        return;
    LIST_REMOVE(g_semaphores, m);
    munmap(m->word, 4096);
    named_release(m->fd, m->path, m->dev, m->ino, SEMAPHORE_REF_BYTE);
    free(m->name);
    free(m->path);
    free(m->sddl);
    free(m);
}

static void *semaphore_open(struct SECURITY_ATTRIBUTES *sa, int32_t initial, int32_t maximum, const uint16_t *lpName, int create) {
    if (lpName == NULL || lpName[0] == 0)
        FAIL(ERROR_INVALID_PARAMETER, NULL); /* unnamed semaphores are not emulated */
    if (create && (maximum <= 0 || initial < 0 || initial > maximum))
        FAIL(ERROR_INVALID_PARAMETER, NULL);
    char *name = canon_name(lpName);
    if (name == NULL)
        return NULL;
    struct semobj *m = semaphore_by_name(name);
    if (m != NULL) {
        free(name);
        void *h = handle_new(K_SEMAPHORE, m, SEMAPHORE_ALL);
        if (h == NULL)
            FAIL(NO_HANDLE_ERROR, NULL);
        m->refs++;
        if (create)
            t_err = ERROR_ALREADY_EXISTS;
        return h;
    }
    char *sddl = NULL;
    if (create && sddl_from_sa(sa, &sddl) != 0) {
        free(name);
        return NULL;
    }
    char *path = object_path(SEMAPHORE_PREFIX, name);
    if (path == NULL) {
        free(name);
        free(sddl);
        FAIL(ERROR_NOT_ENOUGH_MEMORY, NULL);
    }
    int created = 0;
    struct sem_init_arg arg = {initial, maximum};
    int fd = named_open(path, create, SEMAPHORE_REF_BYTE, init_semaphore, &arg, &created);
    if (fd < 0) {
        free(name);
        free(path);
        free(sddl);
        return NULL;
    }
    struct stat st;
    void *word = MAP_FAILED;
    if (fstat(fd, &st) != 0 || (word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED ||
        (m = calloc(1, sizeof *m)) == NULL) {
        if (word != MAP_FAILED)
            munmap(word, 4096);
        close(fd);
        free(name);
        free(path);
        free(sddl);
        FAIL(ERROR_NOT_ENOUGH_MEMORY, NULL);
    }
    m->fd = fd;
    m->name = name;
    m->path = path;
    m->dev = st.st_dev;
    m->ino = st.st_ino;
    m->word = word;
    m->sddl = created ? sddl : NULL;
    if (!created)
        free(sddl);
    m->next = g_semaphores;
    g_semaphores = m;
    void *h = handle_new(K_SEMAPHORE, m, SEMAPHORE_ALL);
    if (h == NULL) {
        m->refs = 1;
        semaphore_unref(m);
        FAIL(NO_HANDLE_ERROR, NULL);
    }
    m->refs++;
    t_err = create && !created ? ERROR_ALREADY_EXISTS : E_SUCCESS;
    return h;
}

static uint32_t semaphore_try(void *obj) {
    struct semobj *m = obj;
    int32_t c = __atomic_load_n(&m->word[0], __ATOMIC_ACQUIRE);
    while (c > 0)
        if (__atomic_compare_exchange_n(&m->word[0], &c, c - 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return WAIT_OBJECT_0;
    return WAIT_TIMEOUT;
}

static int32_t release_semaphore(void *h, int32_t n, int32_t *previous) {
    struct slot *sl = handle_get(h, K_SEMAPHORE);
    if (sl == NULL)
        FAIL(ERROR_INVALID_HANDLE, 0);
    if (n <= 0)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    struct semobj *m = sl->obj;
    int32_t max = m->word[1];
    int32_t c = __atomic_load_n(&m->word[0], __ATOMIC_ACQUIRE);
    do {
        if (c > max - n)
            FAIL(ERROR_TOO_MANY_POSTS, 0);
    } while (!__atomic_compare_exchange_n(&m->word[0], &c, c + n, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    if (previous != NULL)
        *previous = c;
    return 1;
}

/* GetFileInformationByHandle: st_dev as the volume serial number, st_ino as the file index */
static int32_t file_information(void *h, struct BY_HANDLE_FILE_INFORMATION *info) {
    struct fileobj *f = file_of(h);
    if (f == NULL)
        FAIL(ERROR_INVALID_HANDLE, 0);
    if (info == NULL)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        FAIL(E_GEN_FAILURE, 0);
    memset(info, 0, sizeof *info);
    info->dwFileAttributes = FILE_ATTRIBUTE_NORMAL;
    info->dwVolumeSerialNumber = (uint32_t)st.st_dev;
    info->nFileSizeHigh = (uint32_t)((unsigned long long)st.st_size >> 32);
    info->nFileSizeLow = (uint32_t)st.st_size;
    info->nNumberOfLinks = (uint32_t)st.st_nlink;
    info->nFileIndexHigh = (uint32_t)((unsigned long long)st.st_ino >> 32);
    info->nFileIndexLow = (uint32_t)st.st_ino;
    return 1;
}

/*
 * VirtualAlloc: only MEM_COMMIT of pages of a view of a SEC_RESERVE section (what panmap uses it for),
 * and only as a growth of the view's committed prefix: other uses fail with ERROR_INVALID_PARAMETER.
 * Committing committed pages succeeds and changes nothing, as on Windows.
 */
static void *virtual_alloc(void *addr, unsigned long long size, uint32_t type, uint32_t protect) {
    if (type != MEM_COMMIT || addr == NULL || size == 0)
        FAIL(ERROR_INVALID_PARAMETER, NULL);
    struct view *v = view_containing((uintptr_t)addr);
    uintptr_t s = page_floor((uintptr_t)addr), e = page_ceil((uintptr_t)addr + size);
    if (v == NULL || e > v->base + v->len)
        FAIL(ERROR_INVALID_ADDRESS, NULL);
    if (protect != PAGE_READONLY && protect != PAGE_READWRITE && protect != PAGE_WRITECOPY)
        FAIL(ERROR_INVALID_PARAMETER, NULL);
    if ((protect == PAGE_READWRITE || protect == PAGE_WRITECOPY) && v->protect == PAGE_READONLY)
        FAIL(ERROR_ACCESS_DENIED, NULL);
    if (e <= v->base + v->committed)
        return (void *)s;
    if (s > v->base + v->committed)
        FAIL(ERROR_INVALID_PARAMETER, NULL); /* not emulated: a commit that leaves a hole */
    uintptr_t from = v->base + v->committed;
    int prot = v->protect == PAGE_READONLY ? PROT_READ : PROT_READ | PROT_WRITE;
    if (mprotect((void *)from, e - from, prot) != 0)
        FAIL(ERROR_NOT_ENOUGH_MEMORY, NULL);
    v->committed = e - v->base;
    return (void *)s;
}

static int32_t get_working_set(void *h, unsigned long long *min, unsigned long long *max, uint32_t *flags) {
    if (h != PSEUDO_PROCESS)
        FAIL(ERROR_INVALID_HANDLE, 0); /* only the current process is emulated */
    if (min == NULL || max == NULL || flags == NULL)
        FAIL(ERROR_INVALID_PARAMETER, 0);
    *min = g_ws_min;
    *max = g_ws_max;
    *flags = QUOTA_LIMITS_HARDWS_MIN_DISABLE | QUOTA_LIMITS_HARDWS_MAX_DISABLE;
    return 1;
}

static int32_t set_working_set(void *h, unsigned long long min, unsigned long long max, uint32_t flags) {
    (void)flags;
    if (h != PSEUDO_PROCESS)
        FAIL(ERROR_INVALID_HANDLE, 0);
    if (min > max || min < 20 * page_size())
        FAIL(ERROR_INVALID_PARAMETER, 0);
    g_ws_min = min;
    g_ws_max = max;
    return 1;
}

/* GetSecurityInfo(SE_KERNEL_OBJECT, DACL): the SDDL recorded with the object ("" if none) in a LocalAlloc'd descriptor */
static uint32_t get_security_info(void *h, int32_t type, uint32_t info, void **owner, void **group, struct ACL **dacl,
                                  struct ACL **sacl, void **sd) {
    if (type != SE_KERNEL_OBJECT || info != DACL_SECURITY_INFORMATION || sd == NULL || owner != NULL || group != NULL ||
        dacl != NULL || sacl != NULL)
        return ERROR_INVALID_PARAMETER; /* only what panmap asks is emulated */
    struct slot *sl = handle_get(h, K_NONE);
    if (sl == NULL)
        return ERROR_INVALID_HANDLE;
    const char *text = "";
    if (sl->kind == K_SECTION && ((struct section *)sl->obj)->sddl != NULL)
        text = ((struct section *)sl->obj)->sddl;
    else if (sl->kind == K_MUTEX && ((struct mutexobj *)sl->obj)->sddl != NULL)
        text = ((struct mutexobj *)sl->obj)->sddl;
    size_t n = sizeof(struct emu_sd) + strlen(text) + 1;
    struct emu_sd *d = local_alloc(n);
    if (d == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    memcpy(d->magic, SD_MAGIC, 8);
    d->size = (uint32_t)n;
    memcpy(d->sddl, text, strlen(text) + 1);
    *sd = d;
    return 0;
}

/* ================================================================ the exported Win32 surface */

EXPORT void *CreateFileMappingW(void *hFile, struct SECURITY_ATTRIBUTES *lpAttributes, uint32_t flProtect,
                                uint32_t dwMaximumSizeHigh, uint32_t dwMaximumSizeLow, const uint16_t *lpName) {
    ENTRY(CreateFileMappingW, (void *)NULL,
          LOCKED(create_file_mapping(hFile, lpAttributes, flProtect, dwMaximumSizeHigh, dwMaximumSizeLow, lpName)));
}

EXPORT void *OpenFileMappingW(uint32_t dwDesiredAccess, int32_t bInheritHandle, const uint16_t *lpName) {
    ENTRY(OpenFileMappingW, (void *)NULL, LOCKED(open_file_mapping(dwDesiredAccess, bInheritHandle, lpName)));
}

EXPORT void *MapViewOfFileEx(void *hFileMappingObject, uint32_t dwDesiredAccess, uint32_t dwFileOffsetHigh,
                             uint32_t dwFileOffsetLow, unsigned long long dwNumberOfBytesToMap, void *lpBaseAddress) {
    ENTRY(MapViewOfFileEx, (void *)NULL,
          LOCKED(map_view(hFileMappingObject, dwDesiredAccess, dwFileOffsetHigh, dwFileOffsetLow, dwNumberOfBytesToMap,
                          lpBaseAddress)));
}

EXPORT int32_t UnmapViewOfFile(const void *lpBaseAddress) {
    ENTRY(UnmapViewOfFile, (int32_t)0, LOCKED(unmap_view(lpBaseAddress)));
}

EXPORT int32_t FlushViewOfFile(const void *lpBaseAddress, unsigned long long dwNumberOfBytesToFlush) {
    ENTRY(FlushViewOfFile, (int32_t)0, LOCKED(flush_view(lpBaseAddress, dwNumberOfBytesToFlush)));
}

EXPORT int32_t CloseHandle(void *hObject) { ENTRY(CloseHandle, (int32_t)0, LOCKED(close_handle(hObject))); }

EXPORT void *CreateFileW(const uint16_t *lpFileName, uint32_t dwDesiredAccess, uint32_t dwShareMode,
                         struct SECURITY_ATTRIBUTES *lpSecurityAttributes, uint32_t dwCreationDisposition,
                         uint32_t dwFlagsAndAttributes, void *hTemplateFile) {
    ENTRY(CreateFileW, INVALID_HANDLE,
          LOCKED(create_file(lpFileName, dwDesiredAccess, dwShareMode, lpSecurityAttributes, dwCreationDisposition,
                             dwFlagsAndAttributes, hTemplateFile)));
}

EXPORT int32_t DeleteFileW(const uint16_t *lpFileName) {
    ENTRY(DeleteFileW, (int32_t)0, LOCKED(delete_file(lpFileName)));
}

EXPORT int32_t GetFileSizeEx(void *hFile, long long *lpFileSize) {
    ENTRY(GetFileSizeEx, (int32_t)0, LOCKED(get_file_size(hFile, lpFileSize)));
}

EXPORT int32_t SetFilePointerEx(void *hFile, long long liDistanceToMove, long long *lpNewFilePointer,
                                uint32_t dwMoveMethod) {
    ENTRY(SetFilePointerEx, (int32_t)0, LOCKED(set_file_pointer(hFile, liDistanceToMove, lpNewFilePointer, dwMoveMethod)));
}

EXPORT int32_t SetEndOfFile(void *hFile) { ENTRY(SetEndOfFile, (int32_t)0, LOCKED(set_end_of_file(hFile))); }

EXPORT uint32_t GetFileType(void *hFile) { ENTRY(GetFileType, (uint32_t)TYPE_UNKNOWN, LOCKED(get_file_type(hFile))); }

EXPORT int32_t FlushFileBuffers(void *hFile) { ENTRY(FlushFileBuffers, (int32_t)0, LOCKED(flush_file(hFile))); }

EXPORT int32_t LockFileEx(void *hFile, uint32_t dwFlags, uint32_t dwReserved, uint32_t nNumberOfBytesToLockLow,
                          uint32_t nNumberOfBytesToLockHigh, struct OVERLAPPED *lpOverlapped) {
    ENTRY(LockFileEx, (int32_t)0,
          lock_file(hFile, dwFlags, dwReserved, nNumberOfBytesToLockLow, nNumberOfBytesToLockHigh, lpOverlapped));
}

EXPORT int32_t UnlockFileEx(void *hFile, uint32_t dwReserved, uint32_t nNumberOfBytesToUnlockLow,
                            uint32_t nNumberOfBytesToUnlockHigh, struct OVERLAPPED *lpOverlapped) {
    ENTRY(UnlockFileEx, (int32_t)0,
          LOCKED(unlock_file(hFile, dwReserved, nNumberOfBytesToUnlockLow, nNumberOfBytesToUnlockHigh, lpOverlapped)));
}

EXPORT void *CreateMutexW(struct SECURITY_ATTRIBUTES *lpMutexAttributes, int32_t bInitialOwner, const uint16_t *lpName) {
    ENTRY(CreateMutexW, (void *)NULL, LOCKED(create_mutex(lpMutexAttributes, bInitialOwner, lpName)));
}

EXPORT uint32_t WaitForSingleObject(void *hHandle, uint32_t dwMilliseconds) {
    ENTRY(WaitForSingleObject, (uint32_t)WAIT_FAILED, wait_for(hHandle, dwMilliseconds));
}

EXPORT int32_t ReleaseMutex(void *hMutex) { ENTRY(ReleaseMutex, (int32_t)0, LOCKED(release_mutex(hMutex))); }

EXPORT void GetSystemInfo(struct SYSTEM_INFO *lpSystemInfo) {
    emu_enter(FN_GetSystemInfo);
    get_system_info(lpSystemInfo);
    errno = 0;
}

EXPORT unsigned long long VirtualQuery(const void *lpAddress, struct MEMORY_BASIC_INFORMATION *lpBuffer,
                                       unsigned long long dwLength) {
    ENTRY(VirtualQuery, (unsigned long long)0, LOCKED(virtual_query(lpAddress, lpBuffer, dwLength)));
}

EXPORT int32_t VirtualLock(void *lpAddress, unsigned long long dwSize) {
    ENTRY(VirtualLock, (int32_t)0, LOCKED(virtual_lock(lpAddress, dwSize)));
}

EXPORT int32_t VirtualUnlock(void *lpAddress, unsigned long long dwSize) {
    ENTRY(VirtualUnlock, (int32_t)0, LOCKED(virtual_unlock(lpAddress, dwSize)));
}

EXPORT int32_t PrefetchVirtualMemory(void *hProcess, unsigned long long NumberOfEntries,
                                     struct WIN32_MEMORY_RANGE_ENTRY *VirtualAddresses, uint32_t Flags) {
    ENTRY(PrefetchVirtualMemory, (int32_t)0, LOCKED(prefetch(hProcess, NumberOfEntries, VirtualAddresses, Flags)));
}

EXPORT void *GetCurrentProcess(void) {
    emu_enter(FN_GetCurrentProcess);
    errno = 0;
    return PSEUDO_PROCESS;
}

EXPORT uint32_t GetCurrentProcessId(void) {
    emu_enter(FN_GetCurrentProcessId);
    errno = 0;
    return (uint32_t)getpid();
}

EXPORT void *OpenProcess(uint32_t dwDesiredAccess, int32_t bInheritHandle, uint32_t dwProcessId) {
    ENTRY(OpenProcess, (void *)NULL, LOCKED(open_process(dwDesiredAccess, bInheritHandle, dwProcessId)));
}

EXPORT int32_t GetProcessTimes(void *hProcess, struct FILETIME *lpCreationTime, struct FILETIME *lpExitTime,
                               struct FILETIME *lpKernelTime, struct FILETIME *lpUserTime) {
    ENTRY(GetProcessTimes, (int32_t)0,
          LOCKED(get_process_times(hProcess, lpCreationTime, lpExitTime, lpKernelTime, lpUserTime)));
}

EXPORT int32_t GetExitCodeProcess(void *hProcess, uint32_t *lpExitCode) {
    ENTRY(GetExitCodeProcess, (int32_t)0, LOCKED(get_exit_code(hProcess, lpExitCode)));
}

EXPORT uint32_t FormatMessageW(uint32_t dwFlags, const void *lpSource, uint32_t dwMessageId, uint32_t dwLanguageId,
                               uint16_t *lpBuffer, uint32_t nSize, void *Arguments) {
    ENTRY(FormatMessageW, (uint32_t)0,
          LOCKED(format_message(dwFlags, lpSource, dwMessageId, dwLanguageId, lpBuffer, nSize, Arguments)));
}

EXPORT void *LocalFree(void *hMem) { ENTRY(LocalFree, hMem, LOCKED(local_free(hMem))); }

EXPORT int32_t OpenProcessToken(void *ProcessHandle, uint32_t DesiredAccess, void **TokenHandle) {
    ENTRY(OpenProcessToken, (int32_t)0, LOCKED(open_process_token(ProcessHandle, DesiredAccess, TokenHandle)));
}

EXPORT int32_t GetTokenInformation(void *TokenHandle, int32_t TokenInformationClass, void *TokenInformation,
                                   uint32_t TokenInformationLength, uint32_t *ReturnLength) {
    ENTRY(GetTokenInformation, (int32_t)0,
          LOCKED(get_token_information(TokenHandle, TokenInformationClass, TokenInformation, TokenInformationLength,
                                       ReturnLength)));
}

EXPORT int32_t ConvertSidToStringSidW(void *Sid, uint16_t **StringSid) {
    ENTRY(ConvertSidToStringSidW, (int32_t)0, LOCKED(sid_to_string(Sid, StringSid)));
}

EXPORT int32_t ConvertStringSecurityDescriptorToSecurityDescriptorW(const uint16_t *StringSecurityDescriptor,
                                                                    uint32_t StringSDRevision, void **SecurityDescriptor,
                                                                    uint32_t *SecurityDescriptorSize) {
    ENTRY(ConvertStringSecurityDescriptorToSecurityDescriptorW, (int32_t)0,
          LOCKED(string_to_sd(StringSecurityDescriptor, StringSDRevision, SecurityDescriptor, SecurityDescriptorSize)));
}

/* ================================================================ test hooks */


EXPORT void *OpenMutexW(uint32_t dwDesiredAccess, int32_t bInheritHandle, const uint16_t *lpName) {
    ENTRY(OpenMutexW, (void *)NULL, LOCKED(open_mutex(dwDesiredAccess, bInheritHandle, lpName)));
}

EXPORT void *CreateSemaphoreW(struct SECURITY_ATTRIBUTES *lpSemaphoreAttributes, int32_t lInitialCount, int32_t lMaximumCount,
                              const uint16_t *lpName) {
    ENTRY(CreateSemaphoreW, (void *)NULL, LOCKED(semaphore_open(lpSemaphoreAttributes, lInitialCount, lMaximumCount, lpName, 1)));
}

EXPORT void *OpenSemaphoreW(uint32_t dwDesiredAccess, int32_t bInheritHandle, const uint16_t *lpName) {
    (void)dwDesiredAccess;
    (void)bInheritHandle;
    ENTRY(OpenSemaphoreW, (void *)NULL, LOCKED(semaphore_open(NULL, 0, 0, lpName, 0)));
}

EXPORT int32_t ReleaseSemaphore(void *hSemaphore, int32_t lReleaseCount, int32_t *lpPreviousCount) {
    ENTRY(ReleaseSemaphore, (int32_t)0, LOCKED(release_semaphore(hSemaphore, lReleaseCount, lpPreviousCount)));
}

EXPORT int32_t GetFileInformationByHandle(void *hFile, struct BY_HANDLE_FILE_INFORMATION *lpFileInformation) {
    ENTRY(GetFileInformationByHandle, (int32_t)0, LOCKED(file_information(hFile, lpFileInformation)));
}

EXPORT void *VirtualAlloc(void *lpAddress, unsigned long long dwSize, uint32_t flAllocationType, uint32_t flProtect) {
    ENTRY(VirtualAlloc, (void *)NULL, LOCKED(virtual_alloc(lpAddress, dwSize, flAllocationType, flProtect)));
}

EXPORT int32_t GetProcessWorkingSetSizeEx(void *hProcess, unsigned long long *lpMinimumWorkingSetSize,
                                          unsigned long long *lpMaximumWorkingSetSize, uint32_t *Flags) {
    ENTRY(GetProcessWorkingSetSizeEx, (int32_t)0,
          LOCKED(get_working_set(hProcess, lpMinimumWorkingSetSize, lpMaximumWorkingSetSize, Flags)));
}

EXPORT int32_t SetProcessWorkingSetSizeEx(void *hProcess, unsigned long long dwMinimumWorkingSetSize,
                                          unsigned long long dwMaximumWorkingSetSize, uint32_t Flags) {
    ENTRY(SetProcessWorkingSetSizeEx, (int32_t)0,
          LOCKED(set_working_set(hProcess, dwMinimumWorkingSetSize, dwMaximumWorkingSetSize, Flags)));
}

/* returns its error instead of setting the last error, as advapi32 does (errno is left as it was) */
EXPORT uint32_t GetSecurityInfo(void *handle, int32_t ObjectType, uint32_t SecurityInfo, void **ppsidOwner, void **ppsidGroup,
                                struct ACL **ppDacl, struct ACL **ppSacl, void **ppSecurityDescriptor) {
    int saved = errno;
    uint32_t r = emu_enter(FN_GetSecurityInfo) ? t_err
        : LOCKED(get_security_info(handle, ObjectType, SecurityInfo, ppsidOwner, ppsidGroup, ppDacl, ppSacl, ppSecurityDescriptor));
    errno = saved;
    return r;
}

EXPORT void emu_fail_next(const char *function, uint32_t error) {
    int fn = find_fn(function);
    if (fn < 0 || fn == FN_GetSystemInfo || fn == FN_GetCurrentProcess || fn == FN_GetCurrentProcessId) {
        fprintf(stderr, "kernel32_emu: emu_fail_next(\"%s\"): %s\n", function ? function : "(null)",
                fn < 0 ? "no such function" : "this function cannot fail on Windows");
        return;
    }
    pthread_mutex_lock(&g_armed_mu);
    if (g_narmed < MAX_ARMED) {
        g_armed[g_narmed].fn = fn;
        g_armed[g_narmed].error = error;
        g_narmed++;
    } else {
        fprintf(stderr, "kernel32_emu: emu_fail_next: more than %d failures armed\n", MAX_ARMED);
    }
    pthread_mutex_unlock(&g_armed_mu);
}

EXPORT int emu_open_handles(void) { return (int)LOCKED(g_used); }

EXPORT int emu_live_views(void) { return (int)LOCKED(g_nviews); }

EXPORT int emu_live_allocations(void) { return (int)LOCKED(g_nallocs); }

static const char *sddl_of(void *h) {
    struct slot *sl = handle_get(h, K_NONE);
    if (sl == NULL)
        return NULL;
    switch (sl->kind) {
    case K_SECTION:
        return ((struct section *)sl->obj)->sddl;
    case K_FILE:
        return ((struct fileobj *)sl->obj)->sddl;
    case K_MUTEX:
        return ((struct mutexobj *)sl->obj)->sddl;
    default:
        return NULL;
    }
}

EXPORT const char *emu_sddl_of(void *handle) { return LOCKED(sddl_of(handle)); }

static uint32_t protect_of(void *h) {
    struct slot *sl = handle_get(h, K_SECTION);
    return sl ? ((struct section *)sl->obj)->protect : 0;
}

EXPORT uint32_t emu_protect_of(void *section) { return LOCKED(protect_of(section)); }

static uint32_t access_of(void *h) {
    struct slot *sl = handle_get(h, K_NONE);
    return sl ? sl->access : 0;
}

EXPORT uint32_t emu_access_of(void *section) { return LOCKED(access_of(section)); }

static unsigned long long size_of(void *h) {
    struct slot *sl = handle_get(h, K_SECTION);
    return sl ? ((struct section *)sl->obj)->size : 0;
}

EXPORT unsigned long long emu_section_size(void *section) { return LOCKED(size_of(section)); }

EXPORT int emu_calls(const char *function) {
    int fn = find_fn(function);
    return fn < 0 ? -1 : __atomic_load_n(&fn_calls[fn], __ATOMIC_RELAXED);
}

EXPORT void emu_reset(void) {
    for (int i = 0; i < FN_COUNT; i++)
        __atomic_store_n(&fn_calls[i], 0, __ATOMIC_RELAXED);
    pthread_mutex_lock(&g_armed_mu);
    g_narmed = 0;
    pthread_mutex_unlock(&g_armed_mu);
}
