/*
 * The Windows backend's call sequences, run against Wine's kernel32/advapi32.
 *
 * scripts/windows-harness.sh builds this file with mingw-w64 and runs it under wine64. Each check makes
 * the calls the Java Windows backend makes, with the same flags, and prints one line:
 *
 *   ok   <name>                      the calls did what Windows documents
 *   FAIL <name>: <what happened>     with GetLastError and its FormatMessageW text where there is one
 *   skip <name>: <what Wine did>     Wine cannot do it; counts neither as passed nor as failed
 *   note <name>: <observation>       a report only (timings, values the backend puts in messages)
 *
 * and at the end "harness: N passed, M failed"; the exit code is 0 only when nothing failed.
 *
 * For the cross-process steps the harness runs itself again as a child:
 *
 *   harness.exe child <role> <args...>
 *
 * A child exits 0 when its part worked, else with the GetLastError of the call that failed (or
 * CHILD_MISMATCH when a call worked but gave the wrong value) after printing one "child <role>: ..."
 * line. The parent kills and waits for every child on every path, and every child is in a job that
 * kills it when the parent ends, however it ends, so no Wine process outlives a run. A watchdog thread
 * ends the whole harness after WATCHDOG_MS. Every kernel object and temporary file name carries the
 * parent's process id, so that parallel runs cannot collide.
 */
#define __USE_MINGW_ANSI_STDIO 1 /* C99 printf: %zu, %llx, %ls */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <sddl.h>
#include <aclapi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

#ifndef WATCHDOG_MS
#define WATCHDOG_MS 50000   /* the whole harness, children included (-D to try the watchdog out) */
#endif
#define CHILD_WAIT_MS 10000 /* how long the parent waits for a child's signal or reply */
#define NOERR ((DWORD)-1)   /* "no GetLastError belongs to this failure" */
#define CHILD_MISMATCH 1000 /* a child's exit code: the calls worked, a value was wrong */

/* Fixed 64 KiB-aligned bases for DIRECT mappings, far from what Wine puts in the address space; each
   check has its own, so that what one check leaves mapped cannot fail another. */
#define BASE_DIRECT ((void *)0x600080000000ULL)
#define BASE_ATTACH ((void *)0x600100000000ULL)
#define BASE_FREE_AREA ((void *)0x600200000000ULL)
#define BASE_PLACEHOLDER ((void *)0x600300000000ULL)

/* winnt.h of this mingw-w64 lacks the placeholder flags (values from the Windows SDK) */
#ifndef MEM_RESERVE_PLACEHOLDER
#define MEM_RESERVE_PLACEHOLDER 0x00040000
#endif
#ifndef MEM_REPLACE_PLACEHOLDER
#define MEM_REPLACE_PLACEHOLDER 0x00004000
#endif
#ifndef MEM_PRESERVE_PLACEHOLDER
#define MEM_PRESERVE_PLACEHOLDER 0x00000002
#endif

#define PRINTF_LIKE(f, a) __attribute__((format(gnu_printf, f, a)))

static DWORD g_pid;                 /* this process's id, part of every name */
static wchar_t g_self[MAX_PATH];    /* this executable, run again for the children */
static int g_passed, g_failed, g_skipped;

/* ------------------------------------------------------------------------------------------------ */
/* Reporting                                                                                         */
/* ------------------------------------------------------------------------------------------------ */

/* The FormatMessageW text of a Win32 error code (the backend's NativeException message); returns its
   length in characters, 0 when the system has no text for it. */
static DWORD format_message(DWORD code, wchar_t *out, DWORD n)
{
    DWORD len = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code, 0,
                               out, n, NULL);
    while (len > 0 && (out[len - 1] == L'\r' || out[len - 1] == L'\n' || out[len - 1] == L' '))
        len--;
    out[len] = 0;
    return len;
}

/* "GetLastError=<code> (<text>)" in UTF-8 */
static void describe_error(DWORD code, char *out, size_t n)
{
    wchar_t text[512];
    char utf8[1024];
    if (format_message(code, text, ARRAYSIZE(text)) == 0) {
        snprintf(out, n, "GetLastError=%lu (no message text)", code);
        return;
    }
    int m = WideCharToMultiByte(CP_UTF8, 0, text, -1, utf8, sizeof utf8, NULL, NULL);
    if (m <= 0)
        utf8[0] = 0;
    snprintf(out, n, "GetLastError=%lu (%s)", code, utf8);
}

/* One line "<tag> <name>[: <what>[: <error>]]", written in one piece so that children's lines cannot
   cut into it. */
static void report(const char *tag, const char *name, DWORD err, const char *fmt, va_list *ap)
{
    char line[2048], error[1100];
    size_t used = (size_t)snprintf(line, sizeof line, "%s %s", tag, name);
    if (fmt && used < sizeof line) {
        used += (size_t)snprintf(line + used, sizeof line - used, ": ");
        if (used < sizeof line)
            used += (size_t)vsnprintf(line + used, sizeof line - used, fmt, *ap);
    }
    if (err != NOERR && used < sizeof line) {
        describe_error(err, error, sizeof error);
        snprintf(line + used, sizeof line - used, ": %s", error);
    }
    printf("%s\n", line);
    fflush(stdout);
}

static void pass(const char *name)
{
    g_passed++;
    report("ok  ", name, NOERR, NULL, NULL);
}

static PRINTF_LIKE(3, 4) void fail(const char *name, DWORD err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_failed++;
    report("FAIL", name, err, fmt, &ap);
    va_end(ap);
}

static PRINTF_LIKE(3, 4) void skip(const char *name, DWORD err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_skipped++;
    report("skip", name, err, fmt, &ap);
    va_end(ap);
}

static PRINTF_LIKE(2, 3) void note(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report("note", name, NOERR, fmt, &ap);
    va_end(ap);
}

/* ok <name> when cond holds, else FAIL <name> with what happened and err; returns cond */
static PRINTF_LIKE(4, 5) BOOL expect(BOOL cond, const char *name, DWORD err, const char *fmt, ...)
{
    if (cond) {
        pass(name);
        return TRUE;
    }
    va_list ap;
    va_start(ap, fmt);
    g_failed++;
    report("FAIL", name, err, fmt, &ap);
    va_end(ap);
    return FALSE;
}

static void wformat(wchar_t *out, size_t n, const wchar_t *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    __mingw_vsnwprintf(out, n, fmt, ap);
    va_end(ap);
    out[n - 1] = 0;
}

static const char *state_name(DWORD state)
{
    switch (state) {
    case MEM_FREE: return "MEM_FREE";
    case MEM_RESERVE: return "MEM_RESERVE";
    case MEM_COMMIT: return "MEM_COMMIT";
    default: return "?";
    }
}

static const char *type_name(DWORD type)
{
    switch (type) {
    case 0: return "0";
    case MEM_MAPPED: return "MEM_MAPPED";
    case MEM_PRIVATE: return "MEM_PRIVATE";
    case MEM_IMAGE: return "MEM_IMAGE";
    default: return "?";
    }
}

/* "State=... Type=... AllocationBase=... RegionSize=..." of the region at p (the backend's text for
   ADDRESS_IN_USE) */
static void describe_region(const void *p, char *out, size_t n)
{
    MEMORY_BASIC_INFORMATION mbi;
    if (VirtualQuery(p, &mbi, sizeof mbi) != sizeof mbi) {
        snprintf(out, n, "VirtualQuery(%p) failed: GetLastError=%lu", p, GetLastError());
        return;
    }
    snprintf(out, n, "State=%s Type=%s AllocationBase=%p RegionSize=%zu", state_name(mbi.State),
             type_name(mbi.Type), mbi.AllocationBase, mbi.RegionSize);
}

/* ------------------------------------------------------------------------------------------------ */
/* The backend's calls, with its flags                                                               */
/* ------------------------------------------------------------------------------------------------ */

/* L"Local\\panmap-h-<pid>-<what>" */
static void object_name(wchar_t *out, size_t n, const wchar_t *what)
{
    wformat(out, n, L"Local\\panmap-h-%lu-%ls", g_pid, what);
}

/* <GetTempPathW>panmap-h-<pid>-<what>, removed first in case a crashed run with the same (reused)
   process id left it behind */
static void temp_path(wchar_t *out, size_t n, const wchar_t *what)
{
    wchar_t dir[MAX_PATH];
    if (GetTempPathW(ARRAYSIZE(dir), dir) == 0)
        wcscpy(dir, L".\\");
    wformat(out, n, L"%lspanmap-h-%lu-%ls", dir, g_pid, what);
    DeleteFileW(out);
}

/* SharedRegion.create, page-file mode: a named section of a 64-bit size split into two DWORDs */
static HANDLE create_section(const wchar_t *name, ULONGLONG size, SECURITY_ATTRIBUTES *sa, DWORD *err)
{
    SetLastError(0);
    HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, sa, PAGE_READWRITE | SEC_COMMIT, (DWORD)(size >> 32),
                                  (DWORD)size, name);
    *err = GetLastError();
    return h;
}

/* SharedRegion.open, page-file mode */
static HANDLE open_section(const wchar_t *name, DWORD *err)
{
    HANDLE h = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
    *err = h ? 0 : GetLastError();
    return h;
}

/* a view at a 64-bit offset; base NULL is OFFSET mode, a fixed base is DIRECT mode */
static void *map_view(HANDLE section, DWORD access, ULONGLONG offset, SIZE_T size, void *base, DWORD *err)
{
    void *view = MapViewOfFileEx(section, access, (DWORD)(offset >> 32), (DWORD)offset, size, base);
    *err = view ? 0 : GetLastError();
    return view;
}

/* file-backed regions: every handle shares read, write and delete, as the backend's do */
static HANDLE open_file(const wchar_t *path, DWORD access, DWORD disposition, DWORD *err)
{
    HANDLE f = CreateFileW(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           disposition, FILE_ATTRIBUTE_NORMAL, NULL);
    *err = f != INVALID_HANDLE_VALUE ? 0 : GetLastError();
    return f;
}

/* WriterLock on a file: the byte at 2^63-2, beyond any real size (the Linux backend's byte too) */
static BOOL lock_writer_byte(HANDLE f, DWORD *err)
{
    OVERLAPPED ov = {0};
    ov.Offset = 0xFFFFFFFE;
    ov.OffsetHigh = 0x7FFFFFFF;
    BOOL ok = LockFileEx(f, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov);
    *err = ok ? 0 : GetLastError();
    return ok;
}

static BOOL unlock_writer_byte(HANDLE f, DWORD *err)
{
    OVERLAPPED ov = {0};
    ov.Offset = 0xFFFFFFFE;
    ov.OffsetHigh = 0x7FFFFFFF;
    BOOL ok = UnlockFileEx(f, 0, 1, 0, &ov);
    *err = ok ? 0 : GetLastError();
    return ok;
}

/* What a region holds open: the file (file-backed regions only), the section and a whole view; when a
   step fails, the call that failed and its GetLastError. */
typedef struct {
    HANDLE file, section;
    void *view;
    const char *failed;
    DWORD err;
} Mapping;

/* a view of all of m->section */
static void *map_whole(Mapping *m, DWORD view_access)
{
    m->view = map_view(m->section, view_access, 0, 0, NULL, &m->err);
    m->failed = m->view ? NULL : "MapViewOfFileEx";
    return m->view;
}

/* SharedRegion on a file: a section over m->file (protect PAGE_*) and a view of all of it (FILE_MAP_*) */
static void *map_file(Mapping *m, DWORD protect, DWORD view_access)
{
    m->section = CreateFileMappingW(m->file, NULL, protect, 0, 0, NULL);
    if (!m->section) {
        m->err = GetLastError();
        m->failed = "CreateFileMappingW(file)";
        return NULL;
    }
    return map_whole(m, view_access);
}

/* an existing file opened with file_access, then map_file */
static void *open_and_map_file(Mapping *m, const wchar_t *path, DWORD file_access, DWORD protect, DWORD view_access)
{
    memset(m, 0, sizeof *m);
    m->file = open_file(path, file_access, OPEN_EXISTING, &m->err);
    if (m->file == INVALID_HANDLE_VALUE) {
        m->file = NULL;
        m->failed = "CreateFileW(OPEN_EXISTING)";
        return NULL;
    }
    return map_file(m, protect, view_access);
}

/* a new page-file section and a view of all of it, anywhere (OFFSET mode) */
static void *create_and_map(Mapping *m, const wchar_t *name, ULONGLONG size, DWORD view_access)
{
    memset(m, 0, sizeof *m);
    m->section = create_section(name, size, NULL, &m->err);
    if (!m->section) {
        m->failed = "CreateFileMappingW(INVALID_HANDLE_VALUE)";
        return NULL;
    }
    return map_whole(m, view_access);
}

/* SharedRegion.close: unmaps and closes whatever m holds */
static void unmap_and_close(Mapping *m)
{
    if (m->view)
        UnmapViewOfFile(m->view);
    if (m->section)
        CloseHandle(m->section);
    if (m->file)
        CloseHandle(m->file);
    memset(m, 0, sizeof *m);
}

/* each 64-bit word holds its offset mixed with a seed */
static void fill_pattern(void *p, SIZE_T size, ULONGLONG seed)
{
    ULONGLONG *w = p;
    for (SIZE_T i = 0; i < size / 8; i++)
        w[i] = (i * 8) ^ seed;
}

/* the offset of the first word that breaks the pattern, or size when none does */
static SIZE_T check_pattern(const void *p, SIZE_T size, ULONGLONG seed)
{
    const ULONGLONG *w = p;
    for (SIZE_T i = 0; i < size / 8; i++)
        if (w[i] != ((i * 8) ^ seed))
            return i * 8;
    return size;
}

/* ------------------------------------------------------------------------------------------------ */
/* Child processes                                                                                   */
/* ------------------------------------------------------------------------------------------------ */

/* Every child is in this job: closing it, which the end of this process does however it comes, kills
   them (JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE). */
static HANDLE g_children;

static BOOL create_child_job(DWORD *err)
{
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = {0};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    g_children = CreateJobObjectW(NULL, NULL);
    BOOL ok = g_children && SetInformationJobObject(g_children, JobObjectExtendedLimitInformation, &limits,
                                                    sizeof limits);
    *err = ok ? 0 : GetLastError();
    return ok;
}

/* Starts "harness.exe child <role> <args>" in the job; the child writes to this process's stdout. */
static BOOL spawn_child(PROCESS_INFORMATION *pi, DWORD *err, const wchar_t *role, const wchar_t *args)
{
    wchar_t cmd[2048];
    wformat(cmd, ARRAYSIZE(cmd), L"\"%ls\" child %ls %ls", g_self, role, args);
    STARTUPINFOW si = {0};
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    memset(pi, 0, sizeof *pi);
    /* Starting a child is the harness's scaffolding, not a backend call. Once in some 330 runs under
       Wine 8.0, creating a section and starting a child for it gave ERROR_INTERNAL_ERROR (that run did
       not tell which of the two calls): most likely this one, as Wine's NtCreateUserProcess returns it
       when the new process ends before it has started. So that error is tried again here, and said.
       bInheritHandles is for the standard handles: every other handle here is made non-inheritable. */
    for (int attempt = 1;; attempt++) {
        if (CreateProcessW(g_self, cmd, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &si, pi))
            break;
        *err = GetLastError();
        if (*err != ERROR_INTERNAL_ERROR || attempt == 3)
            return FALSE;
        note("spawn-child", "CreateProcessW(child %ls) failed with GetLastError=%lu; starting it again", role, *err);
    }
    if (!AssignProcessToJobObject(g_children, pi->hProcess)) {
        *err = GetLastError();
        TerminateProcess(pi->hProcess, 9);
        WaitForSingleObject(pi->hProcess, 5000);
        CloseHandle(pi->hThread);
        CloseHandle(pi->hProcess);
        memset(pi, 0, sizeof *pi);
        return FALSE;
    }
    ResumeThread(pi->hThread);
    *err = 0;
    return TRUE;
}

/* Waits up to wait_ms for the child to end by itself, else kills it (TerminateProcess, as kill -9) and
   waits for that; closes its handles and returns its exit code (STILL_ACTIVE when it had to be killed). */
static DWORD end_child(PROCESS_INFORMATION *pi, DWORD wait_ms)
{
    DWORD code = STILL_ACTIVE;
    if (!pi->hProcess)
        return code;
    if (WaitForSingleObject(pi->hProcess, wait_ms) != WAIT_OBJECT_0) {
        TerminateProcess(pi->hProcess, 9);
        WaitForSingleObject(pi->hProcess, 5000);
    } else {
        GetExitCodeProcess(pi->hProcess, &code);
    }
    CloseHandle(pi->hThread);
    CloseHandle(pi->hProcess);
    memset(pi, 0, sizeof *pi);
    return code;
}

/* a manual-reset event named L"Local\\panmap-h-<pid>-<what>" that a child sets when it is ready */
static HANDLE create_ready_event(const wchar_t *what, wchar_t *name, size_t n)
{
    object_name(name, n, what);
    return CreateEventW(NULL, TRUE, FALSE, name);
}

/* TRUE when the child set the event within CHILD_WAIT_MS (FALSE when it ended first or timed out) */
static BOOL wait_ready(HANDLE event, const PROCESS_INFORMATION *pi)
{
    HANDLE both[2] = {event, pi->hProcess};
    return WaitForMultipleObjects(2, both, FALSE, CHILD_WAIT_MS) == WAIT_OBJECT_0;
}

/* Polls a word of a shared view until it holds want (TRUE), the child ends or the time is up. */
static BOOL poll_word(volatile ULONGLONG *word, ULONGLONG want, HANDLE child, DWORD timeout_ms)
{
    ULONGLONG start = GetTickCount64();
    while (GetTickCount64() - start < timeout_ms) {
        if (*word == want)
            return TRUE;
        if (WaitForSingleObject(child, 1) == WAIT_OBJECT_0)
            return *word == want;
    }
    return *word == want;
}

/* ------------------------------------------------------------------------------------------------ */
/* Checks 1-6: one process                                                                           */
/* ------------------------------------------------------------------------------------------------ */

/* 1. Platform constants: Platform.baseAlignment (64 KiB) and the page size. */
static void check_system_info(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    expect(si.dwAllocationGranularity == 65536, "system-info-granularity", NOERR,
           "dwAllocationGranularity = %lu", si.dwAllocationGranularity);
    expect(si.dwPageSize == 4096, "system-info-page-size", NOERR, "dwPageSize = %lu", si.dwPageSize);
}

/* 4. Attach learns a section's size: a whole-section FILE_MAP_READ view, VirtualQuery, unmap. */
static void check_size_by_query(const char *name, HANDLE section, SIZE_T want)
{
    DWORD err;
    void *view = map_view(section, FILE_MAP_READ, 0, 0, NULL, &err);
    if (!view) {
        fail(name, err, "MapViewOfFileEx(FILE_MAP_READ, whole section) = NULL");
        return;
    }
    MEMORY_BASIC_INFORMATION mbi = {0};
    SIZE_T got = VirtualQuery(view, &mbi, sizeof mbi);
    expect(got == sizeof mbi && mbi.RegionSize == want && mbi.Type == MEM_MAPPED, name,
           got == sizeof mbi ? NOERR : GetLastError(), "VirtualQuery: RegionSize=%zu (want %zu) Type=%s",
           mbi.RegionSize, want, type_name(mbi.Type));
    UnmapViewOfFile(view);
}

/* 2-4. SharedRegion.create / open in page-file mode, ALREADY_EXISTS, NOT_FOUND, the size on attach. */
static void check_page_file_section(void)
{
    wchar_t name[128], missing[128], odd[128];
    DWORD err;
    object_name(name, ARRAYSIZE(name), L"a");
    HANDLE h = create_section(name, 1 * MiB, NULL, &err);
    if (!expect(h != NULL && err != ERROR_ALREADY_EXISTS, "section-create", err,
                "CreateFileMappingW(%ls, 1 MiB) = %p", name, h)) {
        if (h)
            CloseHandle(h);
        return;
    }

    /* the backend closes this handle and reports ALREADY_EXISTS */
    HANDLE again = create_section(name, 1 * MiB, NULL, &err);
    expect(again != NULL && err == ERROR_ALREADY_EXISTS, "section-create-again-already-exists", err,
           "second CreateFileMappingW(%ls) = %p", name, again);
    if (again)
        CloseHandle(again);

    HANDLE opened = open_section(name, &err);
    expect(opened != NULL, "section-open-by-name", err, "OpenFileMappingW(%ls) = NULL", name);

    object_name(missing, ARRAYSIZE(missing), L"missing");
    HANDLE none = open_section(missing, &err);
    expect(none == NULL && err == ERROR_FILE_NOT_FOUND, "section-open-missing-not-found", err,
           "OpenFileMappingW(%ls) = %p", missing, none);
    if (none)
        CloseHandle(none);

    check_size_by_query("section-size-by-query", opened ? opened : h, 1 * MiB);
    if (opened)
        CloseHandle(opened);
    CloseHandle(h);

    /* a size that is not a whole number of pages comes back page-rounded */
    object_name(odd, ARRAYSIZE(odd), L"odd");
    h = create_section(odd, 1 * MiB + 100, NULL, &err);
    if (!h) {
        fail("section-size-by-query-page-rounded", err, "CreateFileMappingW(%ls, 1 MiB + 100) = NULL", odd);
        return;
    }
    check_size_by_query("section-size-by-query-page-rounded", h, 1 * MiB + 4096);
    CloseHandle(h);
}

/* 5. 64-bit sizes and offsets split into DWORDs: 4 GiB + 64 KiB, a view at offset 4 GiB. */
static void check_64bit_offset(void)
{
    const char *check = "section-64bit-size-and-offset";
    wchar_t name[128];
    DWORD err;
    object_name(name, ARRAYSIZE(name), L"big");
    HANDLE h = create_section(name, 4 * GiB + 64 * KiB, NULL, &err); /* high 1, low 0x10000 */
    if (!h) {
        if (err == ERROR_NOT_ENOUGH_MEMORY || err == ERROR_OUTOFMEMORY || err == ERROR_COMMITMENT_LIMIT ||
            err == ERROR_DISK_FULL)
            skip(check, err, "CreateFileMappingW(4 GiB + 64 KiB) refused for lack of memory");
        else
            fail(check, err, "CreateFileMappingW(%ls, 4 GiB + 64 KiB) = NULL", name);
        return;
    }
    /* MapViewOfFileEx(h, FILE_MAP_READ | FILE_MAP_WRITE, 1, 0, 65536, NULL), twice: two addresses of the
       same 64 KiB must show the same bytes */
    ULONGLONG *a = map_view(h, FILE_MAP_READ | FILE_MAP_WRITE, 4 * GiB, 64 * KiB, NULL, &err);
    DWORD err_b = 0;
    ULONGLONG *b = a ? map_view(h, FILE_MAP_READ | FILE_MAP_WRITE, 4 * GiB, 64 * KiB, NULL, &err_b) : NULL;
    if (!a || !b) {
        if (err == ERROR_NOT_ENOUGH_MEMORY || err_b == ERROR_NOT_ENOUGH_MEMORY)
            skip(check, a ? err_b : err, "MapViewOfFileEx at offset 4 GiB refused for lack of memory");
        else
            fail(check, a ? err_b : err, "MapViewOfFileEx(offset high 1 low 0, 64 KiB) = NULL");
    } else {
        fill_pattern(a, 64 * KiB, 0x4000000000ULL);
        SIZE_T bad = check_pattern(b, 64 * KiB, 0x4000000000ULL);
        expect(bad == 64 * KiB, check, NOERR, "the second view differs at byte %zu", bad);
    }
    if (a)
        UnmapViewOfFile(a);
    if (b)
        UnmapViewOfFile(b);
    CloseHandle(h);
}

/* 6. DIRECT mode: a view at a fixed base; the base taken (ADDRESS_IN_USE), a misaligned base. */
static void check_direct_base(void)
{
    wchar_t name[128];
    char region[256];
    DWORD err;
    const SIZE_T size = 1 * MiB;
    object_name(name, ARRAYSIZE(name), L"direct");
    HANDLE h = create_section(name, size, NULL, &err);
    if (!h) {
        fail("direct-map-at-base", err, "CreateFileMappingW(%ls) = NULL", name);
        return;
    }
    void *view = map_view(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, size, BASE_DIRECT, &err);
    if (!expect(view == BASE_DIRECT, "direct-map-at-base", err, "MapViewOfFileEx(base %p) = %p", BASE_DIRECT,
                view)) {
        if (view)
            UnmapViewOfFile(view);
        CloseHandle(h);
        return;
    }
    MEMORY_BASIC_INFORMATION mbi = {0};
    VirtualQuery(view, &mbi, sizeof mbi);
    expect(mbi.Type == MEM_MAPPED && mbi.AllocationBase == view, "direct-base-query-mapped", NOERR,
           "VirtualQuery(%p): Type=%s AllocationBase=%p", view, type_name(mbi.Type), mbi.AllocationBase);

    void *again = map_view(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, size, BASE_DIRECT, &err);
    expect(again == NULL && err == ERROR_INVALID_ADDRESS, "direct-base-taken-invalid-address", err,
           "second MapViewOfFileEx(base %p) = %p", BASE_DIRECT, again);
    if (again)
        UnmapViewOfFile(again);
    describe_region(BASE_DIRECT, region, sizeof region);
    note("direct-base-taken-query", "VirtualQuery(%p): %s", BASE_DIRECT, region);

    /* page-aligned but not 64 KiB-aligned, in an area that is free */
    void *misaligned = (char *)BASE_FREE_AREA + 4096;
    VirtualQuery(misaligned, &mbi, sizeof mbi);
    if (mbi.State != MEM_FREE) {
        describe_region(misaligned, region, sizeof region);
        fail("direct-base-misaligned-mapped-alignment", NOERR, "the area at %p is not free: %s", misaligned,
             region);
    } else {
        void *odd = map_view(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, size, misaligned, &err);
        expect(odd == NULL && err == ERROR_MAPPED_ALIGNMENT, "direct-base-misaligned-mapped-alignment", err,
               "MapViewOfFileEx(base %p) = %p", misaligned, odd);
        if (odd)
            UnmapViewOfFile(odd);
    }

    /* close: once unmapped nothing holds the base (the gap placeholders would close, see check 16) */
    UnmapViewOfFile(view);
    VirtualQuery(BASE_DIRECT, &mbi, sizeof mbi);
    expect(mbi.State == MEM_FREE, "direct-unmap-frees-base", NOERR, "after UnmapViewOfFile the base is %s",
           state_name(mbi.State));
    CloseHandle(h);
}

/* ------------------------------------------------------------------------------------------------ */
/* Checks 7-12: two processes                                                                        */
/* ------------------------------------------------------------------------------------------------ */

/* 7. A second process attaches by name, at the same base (DIRECT) or anywhere (OFFSET, base NULL):
   it reads the parent's word and writes a reply that the parent sees in its own view. */
static void check_child_attach(const char *check, void *base)
{
    wchar_t name[128], args[256];
    DWORD err;
    object_name(name, ARRAYSIZE(name), base ? L"attach-direct" : L"attach-offset");
    HANDLE h = create_section(name, 64 * KiB, NULL, &err);
    if (!h) {
        fail(check, err, "CreateFileMappingW(%ls) = NULL", name);
        return;
    }
    volatile ULONGLONG *view = map_view(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 64 * KiB, base, &err);
    if (!view || (base && (void *)view != base)) {
        fail(check, err, "parent's MapViewOfFileEx(base %p) = %p", base, (void *)view);
        if (view)
            UnmapViewOfFile((void *)view);
        CloseHandle(h);
        return;
    }
    const ULONGLONG magic = 0x70616e6d61700000ULL ^ ((ULONGLONG)g_pid << 8) ^ (base ? 1 : 2);
    view[0] = magic;
    view[1] = 0;

    PROCESS_INFORMATION pi;
    wformat(args, ARRAYSIZE(args), L"%ls %llx %llx", name, (ULONGLONG)(ULONG_PTR)base, magic);
    if (!spawn_child(&pi, &err, L"attach", args)) {
        fail(check, err, "CreateProcessW(%ls) failed", g_self);
    } else {
        BOOL replied = poll_word(&view[1], ~magic, pi.hProcess, CHILD_WAIT_MS);
        DWORD code = end_child(&pi, 5000);
        expect(replied && code == 0, check, NOERR, "the child's reply %s in the parent's view; child exit code %lu",
               replied ? "arrived" : "did not arrive", code);
    }
    UnmapViewOfFile((void *)view);
    CloseHandle(h);
}

/* 8b. The read-only reopen (OpenMode.READ_ONLY on a file) sees what was written and flushed. */
static void check_file_read_only(const wchar_t *path, SIZE_T size, ULONGLONG seed)
{
    const char *check = "file-reopen-read-only-sees-pattern";
    Mapping m;
    if (!open_and_map_file(&m, path, GENERIC_READ, PAGE_READONLY, FILE_MAP_READ)) {
        fail(check, m.err, "%s of %ls (GENERIC_READ, PAGE_READONLY, FILE_MAP_READ) failed", m.failed, path);
    } else {
        SIZE_T bad = check_pattern(m.view, size, seed);
        expect(bad == size, check, NOERR, "the read-only view differs at byte %zu", bad);
    }
    unmap_and_close(&m);
}

/* reads the 64-bit word at offset of a file through ReadFile, apart from any mapping */
static BOOL read_file_word(const wchar_t *path, ULONGLONG offset, ULONGLONG *word, DWORD *err)
{
    HANDLE f = open_file(path, GENERIC_READ, OPEN_EXISTING, err);
    if (f == INVALID_HANDLE_VALUE)
        return FALSE;
    LARGE_INTEGER at = {.QuadPart = (LONGLONG)offset};
    DWORD got = 0;
    BOOL ok = SetFilePointerEx(f, at, NULL, FILE_BEGIN) && ReadFile(f, word, sizeof *word, &got, NULL) &&
              got == sizeof *word;
    *err = ok ? 0 : GetLastError();
    CloseHandle(f);
    return ok;
}

/* 8c. OpenMode.COPY_ON_WRITE: a FILE_MAP_COPY view, whose writes the view sees and the file does not. */
static void check_copy_on_write(const char *check, const wchar_t *path, DWORD file_access, DWORD protect,
                                SIZE_T size, ULONGLONG seed)
{
    DWORD err;
    Mapping m;
    ULONGLONG *view = open_and_map_file(&m, path, file_access, protect, FILE_MAP_COPY);
    if (!view) {
        fail(check, m.err, "%s of %ls (FILE_MAP_COPY) failed", m.failed, path);
        unmap_and_close(&m);
        return;
    }
    const SIZE_T last = size / 8 - 1;
    view[0] = ~view[0];
    view[last] = ~view[last];
    BOOL seen = view[0] == ~seed && view[last] == ~((last * 8) ^ seed);
    BOOL flushed = FlushViewOfFile(view, size);
    DWORD flush_err = flushed ? 0 : GetLastError();
    unmap_and_close(&m);

    ULONGLONG first = 0, end = 0;
    BOOL read = read_file_word(path, 0, &first, &err) && read_file_word(path, last * 8, &end, &err);
    if (!read)
        fail(check, err, "reading %ls back with ReadFile failed", path);
    else if (!flushed)
        fail(check, flush_err, "FlushViewOfFile of the copy-on-write view failed");
    else
        expect(seen && first == seed && end == ((last * 8) ^ seed), check, NOERR,
               "the view %s its own writes; the file's first/last words are %llx/%llx (want %llx/%llx)",
               seen ? "sees" : "does not see", first, end, seed, (last * 8) ^ seed);
}

/* 8. A file-backed region: CREATE_NEW, FILE_EXISTS, NOT_FOUND, the size, map, write, flush, reopen. */
static void check_file_region(void)
{
    wchar_t path[MAX_PATH + 64], missing[MAX_PATH + 64];
    DWORD err;
    const SIZE_T size = 1 * MiB;
    const ULONGLONG seed = 0x66696c6500000000ULL ^ g_pid;
    temp_path(path, ARRAYSIZE(path), L"file.bin");
    temp_path(missing, ARRAYSIZE(missing), L"missing.bin");

    HANDLE f = open_file(path, GENERIC_READ | GENERIC_WRITE, CREATE_NEW, &err);
    if (!expect(f != INVALID_HANDLE_VALUE, "file-create-new", err, "CreateFileW(%ls, CREATE_NEW) failed", path))
        return;
    HANDLE again = open_file(path, GENERIC_READ | GENERIC_WRITE, CREATE_NEW, &err);
    expect(again == INVALID_HANDLE_VALUE && err == ERROR_FILE_EXISTS, "file-create-new-again-file-exists", err,
           "second CreateFileW(CREATE_NEW) %s", again == INVALID_HANDLE_VALUE ? "failed" : "succeeded");
    if (again != INVALID_HANDLE_VALUE)
        CloseHandle(again);
    HANDLE none = open_file(missing, GENERIC_READ | GENERIC_WRITE, OPEN_EXISTING, &err);
    expect(none == INVALID_HANDLE_VALUE && err == ERROR_FILE_NOT_FOUND, "file-open-missing-not-found", err,
           "CreateFileW(%ls, OPEN_EXISTING) %s", missing, none == INVALID_HANDLE_VALUE ? "failed" : "succeeded");
    if (none != INVALID_HANDLE_VALUE)
        CloseHandle(none);

    DWORD type = GetFileType(f);
    expect(type == FILE_TYPE_DISK, "file-type-disk", type == FILE_TYPE_UNKNOWN ? GetLastError() : NOERR,
           "GetFileType = %lu", type);

    LARGE_INTEGER want = {.QuadPart = (LONGLONG)size}, got = {.QuadPart = -1};
    BOOL sized = SetFilePointerEx(f, want, NULL, FILE_BEGIN) && SetEndOfFile(f) && GetFileSizeEx(f, &got);
    expect(sized && got.QuadPart == want.QuadPart, "file-set-size", sized ? NOERR : GetLastError(),
           "SetFilePointerEx + SetEndOfFile + GetFileSizeEx: size %lld, want %lld", got.QuadPart, want.QuadPart);

    Mapping m = {.file = f};
    if (!map_file(&m, PAGE_READWRITE, FILE_MAP_READ | FILE_MAP_WRITE)) {
        fail("file-map-write-flush", m.err, "%s failed", m.failed);
    } else {
        fill_pattern(m.view, size, seed);
        BOOL flushed = FlushViewOfFile(m.view, size);
        err = flushed ? 0 : GetLastError();
        if (flushed) {
            flushed = FlushFileBuffers(f);
            err = flushed ? 0 : GetLastError();
        }
        expect(flushed, "file-map-write-flush", err, "FlushViewOfFile / FlushFileBuffers failed");
    }
    unmap_and_close(&m); /* closes f too */

    check_file_read_only(path, size, seed);
    /* the two ways to ask for copy-on-write: a PAGE_WRITECOPY section over a read-only handle, and a
       FILE_MAP_COPY view of a PAGE_READWRITE section */
    check_copy_on_write("file-copy-on-write-writecopy-section", path, GENERIC_READ, PAGE_WRITECOPY, size, seed);
    check_copy_on_write("file-copy-on-write-readwrite-section", path, GENERIC_READ | GENERIC_WRITE,
                        PAGE_READWRITE, size, seed);

    BOOL deleted = DeleteFileW(path);
    expect(deleted, "file-delete", deleted ? NOERR : GetLastError(), "DeleteFileW(%ls) failed", path);
}

/* 9. WriterLock on a file: LockFileEx on the byte at 2^63-2, per handle and across processes. */
static void check_file_lock(void)
{
    wchar_t path[MAX_PATH + 64], event_name[128], args[512];
    DWORD err;
    temp_path(path, ARRAYSIZE(path), L"lock.bin");
    HANDLE a = open_file(path, GENERIC_READ | GENERIC_WRITE, CREATE_NEW, &err);
    if (a == INVALID_HANDLE_VALUE) {
        fail("lock-file-take", err, "CreateFileW(%ls, CREATE_NEW) failed", path);
        return;
    }
    HANDLE b = open_file(path, GENERIC_READ | GENERIC_WRITE, OPEN_EXISTING, &err);
    expect(lock_writer_byte(a, &err), "lock-file-take", err, "LockFileEx(byte 2^63-2) failed");

    BOOL got = lock_writer_byte(b, &err);
    expect(!got && err == ERROR_LOCK_VIOLATION, "lock-file-second-handle-refused", got ? NOERR : err,
           "LockFileEx on a second handle of the same file %s", got ? "succeeded" : "failed");
    if (got)
        unlock_writer_byte(b, &err);
    BOOL moved = unlock_writer_byte(a, &err) && lock_writer_byte(b, &err);
    expect(moved, "lock-file-unlock-then-other-handle-locks", err, "UnlockFileEx, then LockFileEx on the other handle");
    if (moved)
        unlock_writer_byte(b, &err);
    CloseHandle(b);

    /* across processes: a child takes the lock and signals; killing it frees the lock */
    HANDLE ready = create_ready_event(L"lock-ready", event_name, ARRAYSIZE(event_name));
    PROCESS_INFORMATION pi;
    wformat(args, ARRAYSIZE(args), L"\"%ls\" %ls", path, event_name);
    if (!ready || !spawn_child(&pi, &err, L"lock", args)) {
        fail("lock-file-held-by-child-refused", ready ? err : GetLastError(), "could not start the child");
    } else if (!wait_ready(ready, &pi)) {
        fail("lock-file-held-by-child-refused", NOERR, "the child did not take the lock; exit code %lu",
             end_child(&pi, 0));
    } else {
        got = lock_writer_byte(a, &err);
        expect(!got && err == ERROR_LOCK_VIOLATION, "lock-file-held-by-child-refused", got ? NOERR : err,
               "the parent's LockFileEx %s while the child holds the lock", got ? "succeeded" : "failed");
        if (got)
            unlock_writer_byte(a, &err);

        TerminateProcess(pi.hProcess, 9);
        WaitForSingleObject(pi.hProcess, 5000);
        ULONGLONG start = GetTickCount64();
        while (!(got = lock_writer_byte(a, &err)) && GetTickCount64() - start < 5000)
            Sleep(5);
        ULONGLONG took = GetTickCount64() - start;
        if (expect(got, "lock-file-free-after-child-killed", err, "LockFileEx still refused %llu ms after the kill",
                   took))
            note("lock-file-free-after-child-killed", "the lock was free %llu ms after the child's end", took);
        end_child(&pi, 0);
    }
    if (ready)
        CloseHandle(ready);
    CloseHandle(a);
    DeleteFileW(path);
}

/* the exit code of a thread that tries to release a mutex it does not own: 0 or GetLastError */
static DWORD WINAPI release_from_other_thread(void *mutex)
{
    return ReleaseMutex(mutex) ? 0 : GetLastError();
}

/* 10. WriterLock on a page-file section: a named mutex; ALREADY_EXISTS, held, not owner, abandoned. */
static void check_mutex_lock(void)
{
    wchar_t name[128], event_name[128], args[512];
    DWORD err, code;
    object_name(name, ARRAYSIZE(name), L"lock");
    HANDLE m = CreateMutexW(NULL, FALSE, name);
    err = GetLastError();
    DWORD taken = m ? WaitForSingleObject(m, 0) : WAIT_FAILED;
    if (!expect(m != NULL && err != ERROR_ALREADY_EXISTS && taken == WAIT_OBJECT_0, "mutex-create-and-take",
                m ? NOERR : err, "CreateMutexW(%ls) = %p, then WaitForSingleObject(0) = 0x%lx", name, m, taken)) {
        if (m)
            CloseHandle(m);
        return;
    }

    HANDLE thread = CreateThread(NULL, 0, release_from_other_thread, m, 0, NULL);
    code = 0;
    if (thread && WaitForSingleObject(thread, 5000) == WAIT_OBJECT_0)
        GetExitCodeThread(thread, &code);
    expect(thread && code == ERROR_NOT_OWNER, "mutex-release-by-other-thread-not-owner", code ? code : NOERR,
           "ReleaseMutex from a thread that does not own it %s", code ? "failed" : "succeeded");
    if (thread)
        CloseHandle(thread);

    /* the child: CreateMutexW gives ERROR_ALREADY_EXISTS and a handle, WaitForSingleObject(0) times out */
    PROCESS_INFORMATION pi;
    if (!spawn_child(&pi, &err, L"mutex-probe", name)) {
        fail("mutex-held-seen-by-child", err, "could not start the child");
    } else {
        code = end_child(&pi, CHILD_WAIT_MS);
        expect(code == 0, "mutex-held-seen-by-child", NOERR, "child exit code %lu", code);
    }
    BOOL released = ReleaseMutex(m);
    expect(released, "mutex-release", released ? NOERR : GetLastError(), "ReleaseMutex by its owner failed");

    /* a child takes it and is killed: the parent's wait says WAIT_ABANDONED and the parent owns it */
    HANDLE ready = create_ready_event(L"mutex-ready", event_name, ARRAYSIZE(event_name));
    wformat(args, ARRAYSIZE(args), L"%ls %ls", name, event_name);
    if (!ready || !spawn_child(&pi, &err, L"mutex-hold", args)) {
        fail("mutex-abandoned-by-killed-child", ready ? err : GetLastError(), "could not start the child");
    } else if (!wait_ready(ready, &pi)) {
        fail("mutex-abandoned-by-killed-child", NOERR, "the child did not take the mutex; exit code %lu",
             end_child(&pi, 0));
    } else {
        DWORD held = WaitForSingleObject(m, 0);
        TerminateProcess(pi.hProcess, 9);
        WaitForSingleObject(pi.hProcess, 5000);
        DWORD after = WaitForSingleObject(m, 0);
        released = after == WAIT_ABANDONED && ReleaseMutex(m);
        expect(held == WAIT_TIMEOUT && released, "mutex-abandoned-by-killed-child", NOERR,
               "wait while the child held it = 0x%lx (want WAIT_TIMEOUT), after the kill = 0x%lx "
               "(want WAIT_ABANDONED 0x80), then ReleaseMutex %s",
               held, after, released ? "succeeded" : "failed");
        if (after == WAIT_OBJECT_0)
            ReleaseMutex(m);
        end_child(&pi, 0);
    }
    if (ready)
        CloseHandle(ready);
    CloseHandle(m);
}

/* Permissions.SAME_USER: the user's SID as text, from the process token (LocalFree it) */
static wchar_t *current_user_sid(DWORD *err)
{
    HANDLE token;
    wchar_t *text = NULL;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
        *err = GetLastError();
        return NULL;
    }
    DWORD len = 0;
    GetTokenInformation(token, TokenUser, NULL, 0, &len);
    TOKEN_USER *user = len ? LocalAlloc(LPTR, len) : NULL;
    if (user && GetTokenInformation(token, TokenUser, user, len, &len) &&
        ConvertSidToStringSidW(user->User.Sid, &text))
        *err = 0;
    else
        *err = GetLastError();
    LocalFree(user);
    CloseHandle(token);
    return text;
}

/* A section with the security descriptor of an SDDL string, and a child that opens it: NULL and the
   child's exit code, or the call that failed and its error. */
static const char *child_opens_with_sddl(const wchar_t *sddl, const wchar_t *what, DWORD *child_code, DWORD *err)
{
    wchar_t name[128];
    PSECURITY_DESCRIPTOR sd = NULL;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &sd, NULL)) {
        *err = GetLastError();
        return "ConvertStringSecurityDescriptorToSecurityDescriptorW";
    }
    SECURITY_ATTRIBUTES sa = {sizeof sa, sd, FALSE};
    object_name(name, ARRAYSIZE(name), what);
    HANDLE h = create_section(name, 64 * KiB, &sa, err);
    LocalFree(sd);
    if (!h)
        return "CreateFileMappingW";
    PROCESS_INFORMATION pi;
    BOOL started = spawn_child(&pi, err, L"open", name);
    if (started)
        *child_code = end_child(&pi, CHILD_WAIT_MS);
    CloseHandle(h);
    return started ? NULL : "CreateProcessW";
}

/* 11. Permissions.SAME_USER as D:P(A;;GA;;;<user SID>), and whether Wine enforces an empty DACL. */
static void check_security(void)
{
    wchar_t sddl[256];
    DWORD err, code = 0;
    wchar_t *sid = current_user_sid(&err);
    if (!expect(sid != NULL, "security-user-sid", err, "OpenProcessToken / GetTokenInformation(TokenUser) / "
                                                        "ConvertSidToStringSidW failed"))
        return;
    note("security-user-sid", "%ls", sid);
    wformat(sddl, ARRAYSIZE(sddl), L"D:P(A;;GA;;;%ls)", sid);
    LocalFree(sid);

    const char *failed = child_opens_with_sddl(sddl, L"same-user", &code, &err);
    if (failed)
        fail("security-same-user-child-opens", err, "%s failed (descriptor %ls)", failed, sddl);
    else
        expect(code == 0, "security-same-user-child-opens", code ? code : NOERR,
               "the child's OpenFileMappingW of a section with %ls failed", sddl);

    /* protected and empty: nobody may open it */
    failed = child_opens_with_sddl(L"D:P", L"nobody", &code, &err);
    if (failed)
        fail("security-empty-dacl-denies", err, "%s failed (descriptor D:P)", failed);
    else if (code == 0)
        skip("security-empty-dacl-denies", NOERR, "Wine lets another process open a section whose DACL is "
                                                  "empty (D:P); Windows gives ERROR_ACCESS_DENIED");
    else
        expect(code == ERROR_ACCESS_DENIED, "security-empty-dacl-denies", code,
               "the child's OpenFileMappingW failed, but not with ERROR_ACCESS_DENIED");
}

/* ProcessInfo: a process's creation time, 0 when it cannot be read */
static ULONGLONG creation_time(HANDLE process)
{
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(process, &created, &exited, &kernel, &user))
        return 0;
    return ((ULONGLONG)created.dwHighDateTime << 32) | created.dwLowDateTime;
}

/* 12. Process liveness (the reader table's owners): OpenProcess, GetProcessTimes, GetExitCodeProcess. */
static void check_liveness(void)
{
    DWORD err, code = 0;
    PROCESS_INFORMATION pi;
    if (!spawn_child(&pi, &err, L"sleep", L"")) {
        fail("liveness-running-child", err, "could not start the child");
        return;
    }
    const DWORD pid = pi.dwProcessId;
    HANDLE p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    err = p ? 0 : GetLastError();
    ULONGLONG t1 = p ? creation_time(p) : 0, t2 = p ? creation_time(p) : 0;
    BOOL alive = p && GetExitCodeProcess(p, &code) && code == STILL_ACTIVE;
    expect(p && t1 != 0 && t1 == t2 && alive, "liveness-running-child", p ? NOERR : err,
           "OpenProcess(%lu) = %p, creation times %llu / %llu, exit code %lu", pid, p, t1, t2, code);

    TerminateProcess(pi.hProcess, 9);
    WaitForSingleObject(pi.hProcess, 5000);
    code = STILL_ACTIVE;
    if (p)
        GetExitCodeProcess(p, &code);
    expect(p && code != STILL_ACTIVE, "liveness-killed-child-exit-code", NOERR,
           "after TerminateProcess and the wait the exit code is %lu", code);
    note("liveness-killed-child-exit-code", "exit code %lu after TerminateProcess(child, 9)", code);
    if (p)
        CloseHandle(p);
    end_child(&pi, 0);

    /* the child reaped (no handle left): Windows frees its id at once, so OpenProcess gives NULL with
       ERROR_INVALID_PARAMETER; whatever a lingering handle shows, the backend's test (OpenProcess, then
       GetExitCodeProcess) must call it dead */
    ULONGLONG start = GetTickCount64(), took;
    BOOL dead = TRUE, lingered = FALSE;
    HANDLE reaped;
    for (;;) {
        reaped = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
        err = reaped ? 0 : GetLastError();
        took = GetTickCount64() - start;
        if (!reaped)
            break;
        lingered = TRUE;
        code = STILL_ACTIVE;
        GetExitCodeProcess(reaped, &code);
        CloseHandle(reaped);
        dead = dead && code != STILL_ACTIVE;
        if (!dead || took > 3000)
            break;
        Sleep(10);
    }
    expect(dead && !reaped && err == ERROR_INVALID_PARAMETER, "liveness-reaped-child-dead", reaped ? NOERR : err,
           "OpenProcess(%lu) of the reaped child: %s after %llu ms (exit code %lu)", pid,
           reaped ? "still opens" : "NULL", took, code);
    if (lingered && !reaped)
        note("liveness-reaped-child-dead", "OpenProcess still opened the reaped child's id for %llu ms (its "
                                           "exit code said dead), then gave NULL with GetLastError=%lu",
             took, err);

    /* a process id that never existed */
    HANDLE never = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, 0x7FFFFFF0);
    err = never ? 0 : GetLastError();
    expect(never == NULL && err == ERROR_INVALID_PARAMETER, "liveness-missing-pid-invalid-parameter",
           never ? NOERR : err, "OpenProcess(0x7FFFFFF0) = %p", never);
    if (never)
        CloseHandle(never);
}

/* ------------------------------------------------------------------------------------------------ */
/* Checks 13-16                                                                                      */
/* ------------------------------------------------------------------------------------------------ */

/* 13. NativeException's text: FormatMessageW for every code the backend reports. */
static void check_error_text(void)
{
    static const DWORD codes[] = {ERROR_FILE_NOT_FOUND, ERROR_ACCESS_DENIED, ERROR_FILE_EXISTS,
                                  ERROR_ALREADY_EXISTS, ERROR_INVALID_ADDRESS, ERROR_MAPPED_ALIGNMENT};
    for (size_t i = 0; i < ARRAYSIZE(codes); i++) {
        char name[64];
        wchar_t text[512];
        snprintf(name, sizeof name, "error-text-%lu", codes[i]);
        DWORD len = format_message(codes[i], text, ARRAYSIZE(text));
        expect(len > 0, name, GetLastError(), "FormatMessageW(%lu) gave no text", codes[i]);
    }
}

/* 14. A page-file section lives while a handle does, in any process, and vanishes with the last one. */
static void check_section_lifetime(void)
{
    wchar_t name[128], early[128], event_name[128], args[512];
    DWORD err;
    Mapping m;
    object_name(name, ARRAYSIZE(name), L"life");
    if (!create_and_map(&m, name, 64 * KiB, FILE_MAP_READ | FILE_MAP_WRITE)) {
        fail("lifetime-gone-after-last-close", m.err, "%s failed", m.failed);
        unmap_and_close(&m);
        return;
    }
    *(volatile ULONGLONG *)m.view = 1;
    unmap_and_close(&m);
    HANDLE gone = open_section(name, &err);
    expect(gone == NULL && err == ERROR_FILE_NOT_FOUND, "lifetime-gone-after-last-close", gone ? NOERR : err,
           "OpenFileMappingW after the last unmap and close = %p", gone);
    if (gone)
        CloseHandle(gone);

    /* report only: the last handle closed while a view is still mapped */
    object_name(early, ARRAYSIZE(early), L"life-view");
    if (create_and_map(&m, early, 64 * KiB, FILE_MAP_READ)) {
        CloseHandle(m.section);
        m.section = NULL;
        HANDLE still = open_section(early, &err);
        note("lifetime-handle-closed-view-mapped", "OpenFileMappingW while only a view remains %s (GetLastError=%lu)",
             still ? "succeeds" : "fails", err);
        if (still)
            CloseHandle(still);
    }
    unmap_and_close(&m);

    /* a child's handle keeps it alive after the creator closed its own */
    HANDLE h = create_section(name, 64 * KiB, NULL, &err);
    HANDLE ready = create_ready_event(L"life-ready", event_name, ARRAYSIZE(event_name));
    PROCESS_INFORMATION pi;
    wformat(args, ARRAYSIZE(args), L"%ls %ls", name, event_name);
    if (!h || !ready || !spawn_child(&pi, &err, L"hold", args)) {
        fail("lifetime-kept-by-child-handle", err, "could not create the section or start the child");
    } else if (!wait_ready(ready, &pi)) {
        fail("lifetime-kept-by-child-handle", NOERR, "the child did not open the section; exit code %lu",
             end_child(&pi, 0));
    } else {
        CloseHandle(h);
        h = NULL;
        HANDLE kept = open_section(name, &err);
        expect(kept != NULL, "lifetime-kept-by-child-handle", err, "OpenFileMappingW while the child holds a handle");
        if (kept)
            CloseHandle(kept);
        end_child(&pi, 0);
        gone = open_section(name, &err);
        expect(gone == NULL && err == ERROR_FILE_NOT_FOUND, "lifetime-gone-after-child-killed", gone ? NOERR : err,
               "OpenFileMappingW after the child was killed = %p", gone);
        if (gone)
            CloseHandle(gone);
    }
    if (ready)
        CloseHandle(ready);
    if (h)
        CloseHandle(h);
}

/* a function of kernelbase.dll or kernel32.dll, NULL when this Windows (or Wine) lacks it */
static FARPROC find_function(const char *name)
{
    static const wchar_t *dlls[] = {L"kernelbase.dll", L"kernel32.dll"};
    for (size_t i = 0; i < ARRAYSIZE(dlls); i++) {
        HMODULE dll = GetModuleHandleW(dlls[i]);
        FARPROC f = dll ? GetProcAddress(dll, name) : NULL;
        if (f)
            return f;
    }
    return NULL;
}

/* FARPROC to a typed function pointer, through void (*)(void) so that -Wcast-function-type stays quiet */
#define AS_FUNCTION(type, f) ((type)(void (*)(void))(f))

typedef BOOL(WINAPI *PrefetchVirtualMemoryFn)(HANDLE, ULONG_PTR, WIN32_MEMORY_RANGE_ENTRY *, ULONG);

/* 15. Advice: VirtualLock / VirtualUnlock (LOCK, and the working-set trim used for DONT_NEED) and
   PrefetchVirtualMemory (WILL_NEED) on a view. */
static void check_advice(void)
{
    wchar_t name[128];
    DWORD err;
    Mapping m;
    const SIZE_T size = 256 * KiB, locked = 64 * KiB; /* within the default working-set quota */
    object_name(name, ARRAYSIZE(name), L"advice");
    char *view = create_and_map(&m, name, size, FILE_MAP_READ | FILE_MAP_WRITE);
    if (!view) {
        fail("virtual-lock-view", m.err, "%s failed", m.failed);
        unmap_and_close(&m);
        return;
    }
    if (!VirtualLock(view, locked)) {
        skip("virtual-lock-view", GetLastError(), "VirtualLock(view, 64 KiB) refused");
    } else {
        BOOL unlocked = VirtualUnlock(view, locked);
        expect(unlocked, "virtual-lock-view", unlocked ? NOERR : GetLastError(),
               "VirtualLock worked, VirtualUnlock of the locked range failed");
    }

    /* DONT_NEED: VirtualUnlock of a range never locked trims it from the working set and, on Windows,
       returns FALSE with ERROR_NOT_LOCKED */
    char *unlocked_range = view + 128 * KiB;
    SetLastError(0);
    BOOL trimmed = VirtualUnlock(unlocked_range, 64 * KiB);
    err = GetLastError();
    if (!trimmed && err == ERROR_NOT_LOCKED)
        pass("virtual-unlock-unlocked-not-locked");
    else
        skip("virtual-unlock-unlocked-not-locked", err, "Wine's VirtualUnlock of a range never locked returns %s "
                                                        "(Windows: FALSE with ERROR_NOT_LOCKED 158)",
             trimmed ? "TRUE" : "FALSE");

    /* WILL_NEED */
    PrefetchVirtualMemoryFn prefetch = AS_FUNCTION(PrefetchVirtualMemoryFn, find_function("PrefetchVirtualMemory"));
    if (!prefetch) {
        skip("prefetch-virtual-memory", NOERR, "Wine has no PrefetchVirtualMemory in kernelbase or kernel32");
    } else {
        WIN32_MEMORY_RANGE_ENTRY entry = {view, size};
        if (prefetch(GetCurrentProcess(), 1, &entry, 0))
            pass("prefetch-virtual-memory");
        else
            skip("prefetch-virtual-memory", GetLastError(), "PrefetchVirtualMemory exists and returns FALSE");
    }
    unmap_and_close(&m);
}

typedef PVOID(WINAPI *VirtualAlloc2Fn)(HANDLE, PVOID, SIZE_T, ULONG, ULONG, MEM_EXTENDED_PARAMETER *, ULONG);
typedef PVOID(WINAPI *MapViewOfFile3Fn)(HANDLE, HANDLE, PVOID, ULONG64, SIZE_T, ULONG, ULONG,
                                        MEM_EXTENDED_PARAMETER *, ULONG);
typedef BOOL(WINAPI *UnmapViewOfFile2Fn)(HANDLE, PVOID, ULONG);

/* 16 (report only). Could DIRECT keep its base through close? A placeholder reserved at the base, the
   view put into it, unmapped back to the placeholder: the base must stay taken (487) until released. */
static void check_placeholders(void)
{
    const char *check = "placeholder-keeps-base";
    VirtualAlloc2Fn alloc2 = AS_FUNCTION(VirtualAlloc2Fn, find_function("VirtualAlloc2"));
    MapViewOfFile3Fn map3 = AS_FUNCTION(MapViewOfFile3Fn, find_function("MapViewOfFile3"));
    UnmapViewOfFile2Fn unmap2 = AS_FUNCTION(UnmapViewOfFile2Fn, find_function("UnmapViewOfFile2"));
    if (!alloc2 || !map3 || !unmap2) {
        skip(check, NOERR, "GetProcAddress finds%s%s%s in neither kernelbase.dll nor kernel32.dll",
             alloc2 ? "" : " VirtualAlloc2", map3 ? "" : " MapViewOfFile3", unmap2 ? "" : " UnmapViewOfFile2");
        return;
    }
    wchar_t name[128];
    DWORD err;
    const SIZE_T size = 256 * KiB;
    object_name(name, ARRAYSIZE(name), L"placeholder");
    HANDLE h = create_section(name, size, NULL, &err);
    if (!h) {
        fail(check, err, "CreateFileMappingW(%ls) = NULL", name);
        return;
    }
    HANDLE self = GetCurrentProcess();
    void *hole = alloc2(self, BASE_PLACEHOLDER, size, MEM_RESERVE | MEM_RESERVE_PLACEHOLDER, PAGE_NOACCESS, NULL, 0);
    if (hole != BASE_PLACEHOLDER) {
        skip(check, GetLastError(), "VirtualAlloc2, MapViewOfFile3 and UnmapViewOfFile2 exist, but "
             "VirtualAlloc2(MEM_RESERVE | MEM_RESERVE_PLACEHOLDER at %p) = %p", BASE_PLACEHOLDER, hole);
        if (hole)
            VirtualFree(hole, 0, MEM_RELEASE);
        CloseHandle(h);
        return;
    }
    volatile ULONGLONG *view = map3(h, self, hole, 0, size, MEM_REPLACE_PLACEHOLDER, PAGE_READWRITE, NULL, 0);
    if ((void *)view != hole) {
        skip(check, GetLastError(), "MapViewOfFile3(MEM_REPLACE_PLACEHOLDER at %p) = %p", hole, (void *)view);
    } else {
        view[0] = 42;
        BOOL kept = unmap2(self, (void *)view, MEM_PRESERVE_PLACEHOLDER);
        err = kept ? 0 : GetLastError();
        MEMORY_BASIC_INFORMATION mbi = {0};
        VirtualQuery(hole, &mbi, sizeof mbi);
        void *taken = map_view(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, size, hole, &err);
        if (!kept)
            skip(check, err, "UnmapViewOfFile2(MEM_PRESERVE_PLACEHOLDER) failed");
        else if (mbi.State == MEM_RESERVE && taken == NULL)
            pass(check);
        else
            skip(check, NOERR, "after UnmapViewOfFile2 the base is %s and MapViewOfFileEx there gives %p",
                 state_name(mbi.State), taken);
        if (taken)
            UnmapViewOfFile(taken);
    }
    VirtualFree(hole, 0, MEM_RELEASE);
    CloseHandle(h);
}


/* 17. The second pass: what the Java backend now relies on. */
static void check_second_pass(void)
{
    wchar_t name[128], other[128];
    DWORD err;

    /* waits on a word: a count semaphore read by a release of 1 and a wait of 0, a sleepers' semaphore */
    object_name(name, ARRAYSIZE(name), L"wake-s");
    object_name(other, ARRAYSIZE(other), L"wake-n");
    HANDLE sleepers = CreateSemaphoreW(NULL, 0, 0x7FFFFFFF, name);
    HANDLE count = CreateSemaphoreW(NULL, 0, 0x7FFFFFFF, other);
    if (!sleepers || !count) {
        fail("semaphore-wake", GetLastError(), "CreateSemaphoreW failed");
    } else {
        LONG before = -1, sleeping = -1;
        ReleaseSemaphore(count, 1, &before);              /* a sleeper counts itself */
        ReleaseSemaphore(count, 1, &sleeping);            /* the waker reads the count ... */
        DWORD w1 = WaitForSingleObject(count, 0);         /* ... and undoes its +1 */
        BOOL released = ReleaseSemaphore(sleepers, sleeping, NULL);
        DWORD got = WaitForSingleObject(sleepers, 0), again = WaitForSingleObject(sleepers, 0);
        SetLastError(0);
        BOOL over = ReleaseSemaphore(count, 0x7FFFFFFF, NULL);
        DWORD overErr = GetLastError();
        expect(before == 0 && sleeping == 1 && w1 == WAIT_OBJECT_0 && released && got == WAIT_OBJECT_0 && again == WAIT_TIMEOUT
               && !over && overErr == ERROR_TOO_MANY_POSTS, "semaphore-wake", NOERR,
               "counts %ld %ld, waits %lu %lu %lu, past the maximum %s (error %lu)", (long)before, (long)sleeping, w1, got,
               again, over ? "TRUE" : "FALSE", overErr);
        HANDLE opened = OpenSemaphoreW(SYNCHRONIZE | SEMAPHORE_MODIFY_STATE, FALSE, name);
        expect(opened != NULL, "semaphore-open-existing", opened ? NOERR : GetLastError(), "OpenSemaphoreW failed");
        if (opened)
            CloseHandle(opened);
    }
    if (sleepers)
        CloseHandle(sleepers);
    if (count)
        CloseHandle(count);

    /* a probe of a lock nobody made: OpenMutexW fails with ERROR_FILE_NOT_FOUND */
    object_name(name, ARRAYSIZE(name), L"never-made");
    SetLastError(0);
    HANDLE none = OpenMutexW(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, name);
    err = GetLastError();
    expect(none == NULL && err == ERROR_FILE_NOT_FOUND, "open-mutex-missing", err, "OpenMutexW = %p", none);
    if (none)
        CloseHandle(none);

    /* why one owner thread per section: a mutex is recursive for its owning thread */
    object_name(name, ARRAYSIZE(name), L"recursive");
    HANDLE mutex = CreateMutexW(NULL, FALSE, name);
    if (mutex) {
        HANDLE second = OpenMutexW(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, name);
        DWORD a = WaitForSingleObject(mutex, 0), b = second ? WaitForSingleObject(second, 0) : WAIT_FAILED;
        expect(a == WAIT_OBJECT_0 && b == WAIT_OBJECT_0, "mutex-recursive-per-thread", NOERR,
               "the owning thread's second wait, through another handle, gave %lu (first %lu)", b, a);
        ReleaseMutex(mutex);
        if (b == WAIT_OBJECT_0)
            ReleaseMutex(mutex);
        if (second)
            CloseHandle(second);
        CloseHandle(mutex);
    }

    /* growth: a SEC_RESERVE section, a view of the whole span, commit what is used */
    object_name(name, ARRAYSIZE(name), L"reserve");
    const SIZE_T span = 16 * MiB;
    HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_RESERVE, 0, (DWORD)span, name);
    if (!h) {
        fail("sec-reserve-commit", GetLastError(), "CreateFileMappingW(SEC_RESERVE, 16 MiB) failed");
    } else {
        volatile ULONGLONG *one = map_view(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, span, NULL, &err);
        volatile ULONGLONG *two = map_view(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, span, NULL, &err);
        MEMORY_BASIC_INFORMATION before = {0}, after = {0}, beside = {0};
        if (one && two) {
            VirtualQuery((void *)one, &before, sizeof before);
            void *c1 = VirtualAlloc((void *)one, 4 * MiB, MEM_COMMIT, PAGE_READWRITE);
            VirtualQuery((void *)one, &after, sizeof after);
            VirtualQuery((void *)two, &beside, sizeof beside);
            void *c2 = VirtualAlloc((void *)two, 4 * MiB, MEM_COMMIT, PAGE_READWRITE);
            if (c1 && c2) {
                one[(4 * MiB - 8) / 8] = 0x5EC5E5E;
            }
            expect(before.State == MEM_RESERVE && c1 == (void *)one && after.State == MEM_COMMIT && after.RegionSize == 4 * MiB
                   && c2 == (void *)two && two[(4 * MiB - 8) / 8] == 0x5EC5E5E, "sec-reserve-commit", c1 && c2 ? NOERR : GetLastError(),
                   "before %s, commit %p, after %s of %zu bytes, second view's commit %p",
                   state_name(before.State), c1, state_name(after.State), (size_t)after.RegionSize, c2);
            note("sec-reserve-commit", "a commit through one view shows in another view as %s", state_name(beside.State));
        } else {
            fail("sec-reserve-commit", err, "MapViewOfFileEx of the whole span failed");
        }
        if (one)
            UnmapViewOfFile((void *)one);
        if (two)
            UnmapViewOfFile((void *)two);
        CloseHandle(h);
    }

    /* lockInMemory: beyond the minimum working set, raise it and lock again */
    object_name(name, ARRAYSIZE(name), L"working-set");
    Mapping m;
    char *view = create_and_map(&m, name, 8 * MiB, FILE_MAP_READ | FILE_MAP_WRITE);
    if (view) {
        SetLastError(0);
        BOOL locked = VirtualLock(view, 8 * MiB);
        DWORD lockErr = GetLastError();
        if (!locked && lockErr == ERROR_WORKING_SET_QUOTA) {
            SIZE_T min = 0, max = 0;
            DWORD flags = 0;
            GetProcessWorkingSetSizeEx(GetCurrentProcess(), &min, &max, &flags);
            BOOL raised = SetProcessWorkingSetSizeEx(GetCurrentProcess(), min + 9 * MiB, max + 18 * MiB,
                                                     QUOTA_LIMITS_HARDWS_MIN_DISABLE | QUOTA_LIMITS_HARDWS_MAX_DISABLE);
            BOOL again = raised && VirtualLock(view, 8 * MiB);
            expect(again, "working-set-raised-lock", again ? NOERR : GetLastError(), "SetProcessWorkingSetSizeEx %s",
                   raised ? "worked, VirtualLock again failed" : "failed");
            if (again)
                VirtualUnlock(view, 8 * MiB);
        } else if (locked) {
            skip("working-set-raised-lock", NOERR, "Wine's VirtualLock of 8 MiB needs no larger working set (Windows: ERROR_WORKING_SET_QUOTA)");
            VirtualUnlock(view, 8 * MiB);
        } else {
            fail("working-set-raised-lock", lockErr, "VirtualLock of 8 MiB failed otherwise");
        }
    }
    unmap_and_close(&m);

    /* the section's DACL, for the lock objects an opener makes */
    object_name(name, ARRAYSIZE(name), L"dacl");
    h = create_section(name, 64 * KiB, NULL, &err);
    if (h) {
        HANDLE o = OpenFileMappingW(FILE_MAP_READ | READ_CONTROL, FALSE, name);
        PSECURITY_DESCRIPTOR sd = NULL;
        DWORD r = o ? GetSecurityInfo(o, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, NULL, NULL, &sd) : GetLastError();
        object_name(other, ARRAYSIZE(other), L"dacl-lock");
        SECURITY_ATTRIBUTES sa = {sizeof sa, sd, FALSE};
        HANDLE lock = r == ERROR_SUCCESS ? CreateMutexW(&sa, FALSE, other) : NULL;
        expect(lock != NULL, "lock-object-with-section-dacl", r != ERROR_SUCCESS ? r : lock ? NOERR : GetLastError(),
               "OpenFileMappingW(READ_CONTROL) %p, GetSecurityInfo %lu", o, r);
        if (lock)
            CloseHandle(lock);
        if (sd)
            LocalFree(sd);
        if (o)
            CloseHandle(o);
        CloseHandle(h);
    }

    /* a file's identity whatever the handle, for its wait objects' names; and force on a read-only view */
    wchar_t path[MAX_PATH + 64];
    temp_path(path, ARRAYSIZE(path), L"file-id");
    HANDLE f1 = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                            CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
    if (f1 != INVALID_HANDLE_VALUE) {
        LARGE_INTEGER at = {.QuadPart = 64 * KiB};
        SetFilePointerEx(f1, at, NULL, FILE_BEGIN);
        SetEndOfFile(f1);
        HANDLE f2 = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                                FILE_ATTRIBUTE_NORMAL, NULL);
        BY_HANDLE_FILE_INFORMATION a = {0}, b = {0};
        BOOL ia = GetFileInformationByHandle(f1, &a), ib = f2 != INVALID_HANDLE_VALUE && GetFileInformationByHandle(f2, &b);
        expect(ia && ib && a.dwVolumeSerialNumber == b.dwVolumeSerialNumber && a.nFileIndexHigh == b.nFileIndexHigh
               && a.nFileIndexLow == b.nFileIndexLow, "file-identity", ia && ib ? NOERR : GetLastError(),
               "volume %lx / %lx, index %lx:%lx / %lx:%lx", a.dwVolumeSerialNumber, b.dwVolumeSerialNumber, a.nFileIndexHigh,
               a.nFileIndexLow, b.nFileIndexHigh, b.nFileIndexLow);
        if (f2 != INVALID_HANDLE_VALUE) {
            HANDLE sec = CreateFileMappingW(f2, NULL, PAGE_READONLY, 0, 0, NULL);
            void *ro = sec ? MapViewOfFile(sec, FILE_MAP_READ, 0, 0, 0) : NULL;
            BOOL flushed = ro && FlushViewOfFile(ro, 0);
            SetLastError(0);
            BOOL buffers = FlushFileBuffers(f2);
            DWORD buffersErr = GetLastError();
            expect(flushed, "flush-read-only-view", flushed ? NOERR : GetLastError(), "FlushViewOfFile of a read-only view failed");
            note("flush-read-only-view", "FlushFileBuffers through a GENERIC_READ handle: %s (error %lu)", buffers ? "TRUE" : "FALSE",
                 buffersErr);
            if (ro)
                UnmapViewOfFile(ro);
            if (sec)
                CloseHandle(sec);
            CloseHandle(f2);
        }
        CloseHandle(f1);
        DeleteFileW(path);
    } else {
        fail("file-identity", GetLastError(), "CreateFileW(%ls) failed", path);
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* The children's side                                                                               */
/* ------------------------------------------------------------------------------------------------ */

/* prints "child <role>: <what>: <error>" and returns the exit code for it */
static PRINTF_LIKE(3, 4) int child_failed(const char *role, DWORD err, const char *fmt, ...)
{
    char name[64];
    va_list ap;
    va_start(ap, fmt);
    snprintf(name, sizeof name, "%s:", role);
    report("child", name, err, fmt, &ap);
    va_end(ap);
    return err == NOERR || err == 0 ? CHILD_MISMATCH : (int)err;
}

/* sets the parent's ready event, then waits to be killed (or for the watchdog) */
static int signal_and_park(const char *role, const wchar_t *event_name)
{
    HANDLE ready = OpenEventW(EVENT_MODIFY_STATE, FALSE, event_name);
    if (!ready || !SetEvent(ready))
        return child_failed(role, GetLastError(), "OpenEventW / SetEvent(%ls)", event_name);
    Sleep(INFINITE);
    return 0;
}

/* attach <name> <base-hex> <magic-hex>: check 7's other process */
static int child_attach(wchar_t **arg)
{
    void *base = (void *)(ULONG_PTR)wcstoull(arg[1], NULL, 16);
    ULONGLONG magic = wcstoull(arg[2], NULL, 16);
    DWORD err;
    HANDLE h = open_section(arg[0], &err);
    if (!h)
        return child_failed("attach", err, "OpenFileMappingW(%ls)", arg[0]);
    volatile ULONGLONG *view = map_view(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, base, &err);
    if (!view)
        return child_failed("attach", err, "MapViewOfFileEx(base %p)", base);
    if (base && (void *)view != base)
        return child_failed("attach", NOERR, "the view is at %p, not %p", (void *)view, base);
    if (view[0] != magic)
        return child_failed("attach", NOERR, "read %llx, the parent wrote %llx", view[0], magic);
    view[1] = ~magic;
    return 0;
}

/* lock <path> <event>: takes the file's writer lock and holds it (check 9) */
static int child_lock(wchar_t **arg)
{
    DWORD err;
    HANDLE f = open_file(arg[0], GENERIC_READ | GENERIC_WRITE, OPEN_EXISTING, &err);
    if (f == INVALID_HANDLE_VALUE)
        return child_failed("lock", err, "CreateFileW(%ls, OPEN_EXISTING)", arg[0]);
    if (!lock_writer_byte(f, &err))
        return child_failed("lock", err, "LockFileEx");
    return signal_and_park("lock", arg[1]);
}

/* mutex-probe <name>: the mutex exists and is held by the parent (check 10) */
static int child_mutex_probe(wchar_t **arg)
{
    HANDLE m = CreateMutexW(NULL, FALSE, arg[0]);
    DWORD err = GetLastError();
    if (!m || err != ERROR_ALREADY_EXISTS)
        return child_failed("mutex-probe", err, "CreateMutexW(%ls) = %p", arg[0], m);
    DWORD wait = WaitForSingleObject(m, 0);
    if (wait != WAIT_TIMEOUT)
        return child_failed("mutex-probe", NOERR, "WaitForSingleObject(0) = 0x%lx, want WAIT_TIMEOUT", wait);
    return 0;
}

/* mutex-hold <name> <event>: takes the mutex and holds it until killed (check 10) */
static int child_mutex_hold(wchar_t **arg)
{
    HANDLE m = CreateMutexW(NULL, FALSE, arg[0]);
    if (!m)
        return child_failed("mutex-hold", GetLastError(), "CreateMutexW(%ls)", arg[0]);
    DWORD wait = WaitForSingleObject(m, 0);
    if (wait != WAIT_OBJECT_0)
        return child_failed("mutex-hold", NOERR, "WaitForSingleObject(0) = 0x%lx", wait);
    return signal_and_park("mutex-hold", arg[1]);
}

/* open <name>: exit 0 when OpenFileMappingW works, else its error (check 11) */
static int child_open(wchar_t **arg)
{
    DWORD err;
    HANDLE h = open_section(arg[0], &err);
    if (h)
        CloseHandle(h);
    return h ? 0 : (int)err;
}

/* hold <name> <event>: keeps a handle of the section open until killed (check 14) */
static int child_hold(wchar_t **arg)
{
    DWORD err;
    if (!open_section(arg[0], &err))
        return child_failed("hold", err, "OpenFileMappingW(%ls)", arg[0]);
    return signal_and_park("hold", arg[1]);
}

/* harness.exe child <role> <args...> */
static int child_main(int argc, wchar_t **argv)
{
    static const struct {
        const wchar_t *role;
        int args;
        int (*run)(wchar_t **arg);
    } roles[] = {
        {L"attach", 3, child_attach},         {L"lock", 2, child_lock},
        {L"mutex-probe", 1, child_mutex_probe}, {L"mutex-hold", 2, child_mutex_hold},
        {L"open", 1, child_open},             {L"hold", 2, child_hold},
        {L"sleep", 0, NULL},
    };
    for (size_t i = 0; argc >= 1 && i < ARRAYSIZE(roles); i++) {
        if (wcscmp(argv[0], roles[i].role) != 0)
            continue;
        if (argc - 1 < roles[i].args)
            return child_failed("child", NOERR, "%ls needs %d arguments", roles[i].role, roles[i].args);
        if (!roles[i].run) {
            Sleep(INFINITE); /* until killed */
            return 0;
        }
        return roles[i].run(argv + 1);
    }
    return child_failed("child", NOERR, "unknown role %ls", argc >= 1 ? argv[0] : L"(none)");
}

/* ------------------------------------------------------------------------------------------------ */

static void print_summary(void)
{
    printf("harness: %d skipped\n", g_skipped);
    printf("harness: %d passed, %d failed\n", g_passed, g_failed);
    fflush(stdout);
}

static HANDLE g_finished; /* set when the checks are done: the watchdog stands down */

/* The harness's watchdog: whatever hangs, the run ends in WATCHDOG_MS with its children killed. It waits
   on an event rather than sleeping, so that main can end it before the process exits: under Wine 8.0 a
   thread still blocked in a wait while its process exits sometimes makes Wine print "wine client error:
   ... sendmsg: Socket operation on non-socket". */
static DWORD WINAPI watchdog(void *unused)
{
    (void)unused;
    if (WaitForSingleObject(g_finished, WATCHDOG_MS) == WAIT_OBJECT_0)
        return 0;
    fail("watchdog", NOERR, "the harness did not finish in %.1f s; its children are killed", WATCHDOG_MS / 1000.0);
    TerminateJobObject(g_children, 9);
    print_summary();
    ExitProcess(3);
}

int wmain(int argc, wchar_t **argv)
{
    g_pid = GetCurrentProcessId();
    GetModuleFileNameW(NULL, g_self, ARRAYSIZE(g_self));
    if (argc >= 2 && wcscmp(argv[1], L"child") == 0)
        return child_main(argc - 2, argv + 2);

    printf("harness: pid %lu, %ls\n", g_pid, g_self);
    DWORD err;
    if (!create_child_job(&err)) {
        fail("child-job", err, "CreateJobObjectW / SetInformationJobObject(KILL_ON_JOB_CLOSE) failed");
        print_summary();
        return 1;
    }
    g_finished = CreateEventW(NULL, TRUE, FALSE, NULL);
    HANDLE dog = CreateThread(NULL, 0, watchdog, NULL, 0, NULL);

    check_system_info();          /* 1 */
    check_page_file_section();    /* 2, 3, 4 */
    check_64bit_offset();         /* 5 */
    check_direct_base();          /* 6 */
    check_child_attach("attach-direct-child", BASE_ATTACH); /* 7 */
    check_child_attach("attach-offset-child", NULL);
    check_file_region();          /* 8 */
    check_file_lock();            /* 9 */
    check_mutex_lock();           /* 10 */
    check_security();             /* 11 */
    check_liveness();             /* 12 */
    check_error_text();           /* 13 */
    check_section_lifetime();     /* 14 */
    check_advice();               /* 15 */
    check_placeholders();         /* 16 */
    check_second_pass();          /* 17 */

    SetEvent(g_finished);
    if (dog) {
        WaitForSingleObject(dog, INFINITE);
        CloseHandle(dog);
    }
    TerminateJobObject(g_children, 9); /* none should be left */
    print_summary();
    return g_failed == 0 ? 0 : 1;
}
