/*
 * The Win32 surface panmap calls on Windows x64, for jextract run on any host.
 *
 * Written with fixed-width types only, so that jextract on Linux (LP64) produces descriptors that are
 * right for Windows x64 (LLP64): there is no `long` and no `wchar_t` anywhere.
 *
 *   Windows type                         here
 *   DWORD, ULONG, UINT (32-bit unsigned)  uint32_t
 *   BOOL, LONG (32-bit signed)            int32_t
 *   WORD, WCHAR (16-bit)                  uint16_t
 *   HANDLE, LPVOID, PSID, HLOCAL, ...     void *
 *   SIZE_T, ULONG_PTR, DWORD_PTR          unsigned long long   (not uint64_t: that is `unsigned long` on Linux)
 *   LARGE_INTEGER (by value or pointer)   long long
 *   LONG * (32-bit signed, pointed to)    int32_t *
 *   LPCWSTR / LPWSTR                      const uint16_t * / uint16_t *   (UTF-16LE, NUL-terminated)
 *
 * Every value and layout below is checked against mingw-w64's real <windows.h> by
 * WindowsAbiConformanceTest (a probe compiled with x86_64-w64-mingw32-gcc). Only the names in
 * symbols.txt are generated.
 */
#include <stdint.h>

/* ---------------------------------------------------------------- structures */

struct SECURITY_ATTRIBUTES {
    uint32_t nLength;
    void *lpSecurityDescriptor;
    int32_t bInheritHandle;
};

struct SYSTEM_INFO {
    uint16_t wProcessorArchitecture;
    uint16_t wReserved;
    uint32_t dwPageSize;
    void *lpMinimumApplicationAddress;
    void *lpMaximumApplicationAddress;
    unsigned long long dwActiveProcessorMask;
    uint32_t dwNumberOfProcessors;
    uint32_t dwProcessorType;
    uint32_t dwAllocationGranularity;
    uint16_t wProcessorLevel;
    uint16_t wProcessorRevision;
};

/* the Offset/OffsetHigh arm of the union in <minwinbase.h> */
struct OVERLAPPED {
    unsigned long long Internal;
    unsigned long long InternalHigh;
    uint32_t Offset;
    uint32_t OffsetHigh;
    void *hEvent;
};

struct FILETIME {
    uint32_t dwLowDateTime;
    uint32_t dwHighDateTime;
};

struct MEMORY_BASIC_INFORMATION {
    void *BaseAddress;
    void *AllocationBase;
    uint32_t AllocationProtect;
    unsigned long long RegionSize;
    uint32_t State;
    uint32_t Protect;
    uint32_t Type;
};

struct WIN32_MEMORY_RANGE_ENTRY {
    void *VirtualAddress;
    unsigned long long NumberOfBytes;
};

/* GetFileInformationByHandle: the volume serial number and file index name a file whatever its path */
struct BY_HANDLE_FILE_INFORMATION {
    uint32_t dwFileAttributes;
    struct FILETIME ftCreationTime;
    struct FILETIME ftLastAccessTime;
    struct FILETIME ftLastWriteTime;
    uint32_t dwVolumeSerialNumber;
    uint32_t nFileSizeHigh;
    uint32_t nFileSizeLow;
    uint32_t nNumberOfLinks;
    uint32_t nFileIndexHigh;
    uint32_t nFileIndexLow;
};

/* TOKEN_USER is one SID_AND_ATTRIBUTES */
struct SID_AND_ATTRIBUTES {
    void *Sid;
    uint32_t Attributes;
};

/* an access control list: only pointed to (GetSecurityInfo) */
struct ACL;

/* ---------------------------------------------------------------- kernel32: sections and views */

void *CreateFileMappingW(void *hFile, struct SECURITY_ATTRIBUTES *lpAttributes, uint32_t flProtect,
                         uint32_t dwMaximumSizeHigh, uint32_t dwMaximumSizeLow, const uint16_t *lpName);
void *OpenFileMappingW(uint32_t dwDesiredAccess, int32_t bInheritHandle, const uint16_t *lpName);
void *MapViewOfFileEx(void *hFileMappingObject, uint32_t dwDesiredAccess, uint32_t dwFileOffsetHigh,
                      uint32_t dwFileOffsetLow, unsigned long long dwNumberOfBytesToMap, void *lpBaseAddress);
int32_t UnmapViewOfFile(const void *lpBaseAddress);
int32_t FlushViewOfFile(const void *lpBaseAddress, unsigned long long dwNumberOfBytesToFlush);
int32_t CloseHandle(void *hObject);

/* ---------------------------------------------------------------- kernel32: files */

void *CreateFileW(const uint16_t *lpFileName, uint32_t dwDesiredAccess, uint32_t dwShareMode,
                  struct SECURITY_ATTRIBUTES *lpSecurityAttributes, uint32_t dwCreationDisposition,
                  uint32_t dwFlagsAndAttributes, void *hTemplateFile);
int32_t DeleteFileW(const uint16_t *lpFileName);
int32_t GetFileSizeEx(void *hFile, long long *lpFileSize);
int32_t SetFilePointerEx(void *hFile, long long liDistanceToMove, long long *lpNewFilePointer, uint32_t dwMoveMethod);
int32_t SetEndOfFile(void *hFile);
uint32_t GetFileType(void *hFile);
int32_t FlushFileBuffers(void *hFile);
int32_t LockFileEx(void *hFile, uint32_t dwFlags, uint32_t dwReserved, uint32_t nNumberOfBytesToLockLow,
                   uint32_t nNumberOfBytesToLockHigh, struct OVERLAPPED *lpOverlapped);
int32_t UnlockFileEx(void *hFile, uint32_t dwReserved, uint32_t nNumberOfBytesToUnlockLow,
                     uint32_t nNumberOfBytesToUnlockHigh, struct OVERLAPPED *lpOverlapped);
int32_t GetFileInformationByHandle(void *hFile, struct BY_HANDLE_FILE_INFORMATION *lpFileInformation);

/* ---------------------------------------------------------------- kernel32: named mutexes and semaphores */

void *CreateMutexW(struct SECURITY_ATTRIBUTES *lpMutexAttributes, int32_t bInitialOwner, const uint16_t *lpName);
void *OpenMutexW(uint32_t dwDesiredAccess, int32_t bInheritHandle, const uint16_t *lpName);
uint32_t WaitForSingleObject(void *hHandle, uint32_t dwMilliseconds);
int32_t ReleaseMutex(void *hMutex);
void *CreateSemaphoreW(struct SECURITY_ATTRIBUTES *lpSemaphoreAttributes, int32_t lInitialCount, int32_t lMaximumCount,
                       const uint16_t *lpName);
void *OpenSemaphoreW(uint32_t dwDesiredAccess, int32_t bInheritHandle, const uint16_t *lpName);
int32_t ReleaseSemaphore(void *hSemaphore, int32_t lReleaseCount, int32_t *lpPreviousCount);

/* ---------------------------------------------------------------- kernel32: memory */

void GetSystemInfo(struct SYSTEM_INFO *lpSystemInfo);
void *VirtualAlloc(void *lpAddress, unsigned long long dwSize, uint32_t flAllocationType, uint32_t flProtect);
unsigned long long VirtualQuery(const void *lpAddress, struct MEMORY_BASIC_INFORMATION *lpBuffer, unsigned long long dwLength);
int32_t VirtualLock(void *lpAddress, unsigned long long dwSize);
int32_t VirtualUnlock(void *lpAddress, unsigned long long dwSize);
int32_t PrefetchVirtualMemory(void *hProcess, unsigned long long NumberOfEntries,
                              struct WIN32_MEMORY_RANGE_ENTRY *VirtualAddresses, uint32_t Flags);

/* ---------------------------------------------------------------- kernel32: processes and errors */

void *GetCurrentProcess(void);
uint32_t GetCurrentProcessId(void);
void *OpenProcess(uint32_t dwDesiredAccess, int32_t bInheritHandle, uint32_t dwProcessId);
int32_t GetProcessTimes(void *hProcess, struct FILETIME *lpCreationTime, struct FILETIME *lpExitTime,
                        struct FILETIME *lpKernelTime, struct FILETIME *lpUserTime);
int32_t GetExitCodeProcess(void *hProcess, uint32_t *lpExitCode);
int32_t GetProcessWorkingSetSizeEx(void *hProcess, unsigned long long *lpMinimumWorkingSetSize,
                                   unsigned long long *lpMaximumWorkingSetSize, uint32_t *Flags);
int32_t SetProcessWorkingSetSizeEx(void *hProcess, unsigned long long dwMinimumWorkingSetSize,
                                   unsigned long long dwMaximumWorkingSetSize, uint32_t Flags);
uint32_t FormatMessageW(uint32_t dwFlags, const void *lpSource, uint32_t dwMessageId, uint32_t dwLanguageId,
                        uint16_t *lpBuffer, uint32_t nSize, void *Arguments);
void *LocalFree(void *hMem);

/* ---------------------------------------------------------------- advapi32: same-user security */

int32_t OpenProcessToken(void *ProcessHandle, uint32_t DesiredAccess, void **TokenHandle);
int32_t GetTokenInformation(void *TokenHandle, int32_t TokenInformationClass, void *TokenInformation,
                            uint32_t TokenInformationLength, uint32_t *ReturnLength);
int32_t ConvertSidToStringSidW(void *Sid, uint16_t **StringSid);
int32_t ConvertStringSecurityDescriptorToSecurityDescriptorW(const uint16_t *StringSecurityDescriptor,
                                                             uint32_t StringSDRevision, void **SecurityDescriptor,
                                                             uint32_t *SecurityDescriptorSize);
/* returns a Win32 error code (0: ERROR_SUCCESS), not a BOOL; *ppSecurityDescriptor goes back through LocalFree */
uint32_t GetSecurityInfo(void *handle, int32_t ObjectType, uint32_t SecurityInfo, void **ppsidOwner, void **ppsidGroup,
                         struct ACL **ppDacl, struct ACL **ppSacl, void **ppSecurityDescriptor);

/* ---------------------------------------------------------------- constants (values of <windows.h>) */

/* page protection and section attributes */
#define PAGE_NOACCESS 0x01
#define PAGE_READONLY 0x02
#define PAGE_READWRITE 0x04
#define PAGE_WRITECOPY 0x08
#define SEC_COMMIT 0x08000000
#define SEC_RESERVE 0x04000000
/* view access */
#define FILE_MAP_COPY 0x0001
#define FILE_MAP_WRITE 0x0002
#define FILE_MAP_READ 0x0004
/* CreateFileW */
#define GENERIC_READ 0x80000000U
#define GENERIC_WRITE 0x40000000
#define FILE_SHARE_READ 0x00000001
#define FILE_SHARE_WRITE 0x00000002
#define FILE_SHARE_DELETE 0x00000004
#define CREATE_NEW 1
#define OPEN_EXISTING 3
#define FILE_ATTRIBUTE_NORMAL 0x00000080
#define FILE_BEGIN 0
#define FILE_TYPE_DISK 0x0001
/* LockFileEx */
#define LOCKFILE_FAIL_IMMEDIATELY 0x00000001
#define LOCKFILE_EXCLUSIVE_LOCK 0x00000002
/* named mutexes and semaphores: access rights */
#define MUTEX_MODIFY_STATE 0x0001
#define SEMAPHORE_MODIFY_STATE 0x0002
#define READ_CONTROL 0x00020000
/* waits */
#define WAIT_OBJECT_0 0x00000000
#define WAIT_ABANDONED 0x00000080
#define WAIT_TIMEOUT 0x00000102
#define WAIT_FAILED 0xFFFFFFFFU
/* VirtualQuery */
#define MEM_COMMIT 0x00001000
#define MEM_RESERVE 0x00002000
#define MEM_FREE 0x00010000
#define MEM_PRIVATE 0x00020000
#define MEM_MAPPED 0x00040000
#define MEM_IMAGE 0x01000000
/* processes and tokens */
#define PROCESS_QUERY_LIMITED_INFORMATION 0x1000
#define SYNCHRONIZE 0x00100000
#define STILL_ACTIVE 259
#define TOKEN_QUERY 0x0008
#define TokenUser 1
#define SDDL_REVISION_1 1
#define SE_KERNEL_OBJECT 6
#define OWNER_SECURITY_INFORMATION 0x00000001
#define DACL_SECURITY_INFORMATION 0x00000004
/* SetProcessWorkingSetSizeEx */
#define QUOTA_LIMITS_HARDWS_MIN_DISABLE 0x00000002
#define QUOTA_LIMITS_HARDWS_MAX_DISABLE 0x00000008
/* FormatMessageW */
#define FORMAT_MESSAGE_IGNORE_INSERTS 0x00000200
#define FORMAT_MESSAGE_FROM_SYSTEM 0x00001000
/* GetLastError codes */
#define ERROR_FILE_NOT_FOUND 2
#define ERROR_PATH_NOT_FOUND 3
#define ERROR_TOO_MANY_OPEN_FILES 4
#define ERROR_ACCESS_DENIED 5
#define ERROR_INVALID_HANDLE 6
#define ERROR_NOT_ENOUGH_MEMORY 8
#define ERROR_OUTOFMEMORY 14
#define ERROR_WRITE_PROTECT 19
#define ERROR_SHARING_VIOLATION 32
#define ERROR_LOCK_VIOLATION 33
#define ERROR_HANDLE_DISK_FULL 39
#define ERROR_NOT_SUPPORTED 50
#define ERROR_FILE_EXISTS 80
#define ERROR_INVALID_PARAMETER 87
#define ERROR_DISK_FULL 112
#define ERROR_INVALID_NAME 123
#define ERROR_NOT_LOCKED 158
#define ERROR_BAD_PATHNAME 161
#define ERROR_ALREADY_EXISTS 183
#define ERROR_FILENAME_EXCED_RANGE 206
#define ERROR_TOO_MANY_POSTS 298
#define ERROR_NOT_OWNER 288
#define ERROR_INVALID_ADDRESS 487
#define ERROR_MAPPED_ALIGNMENT 1132
#define ERROR_USER_MAPPED_FILE 1224
#define ERROR_NO_SYSTEM_RESOURCES 1450
#define ERROR_WORKING_SET_QUOTA 1453
#define ERROR_COMMITMENT_LIMIT 1455
#define ERROR_PRIVILEGE_NOT_HELD 1314
