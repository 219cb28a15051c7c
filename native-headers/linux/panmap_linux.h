/*
 * The POSIX surface panmap calls on Linux, for jextract.
 * Only the symbols listed in symbols.txt are generated; this header just makes them visible.
 * _GNU_SOURCE exposes MAP_FIXED_NOREPLACE, F_OFD_* and fallocate().
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
/* futex waits (IPC rings), memfd regions passed over Unix sockets, huge pages */
#include <linux/futex.h>
#include <linux/magic.h>
#include <linux/memfd.h>
#include <linux/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
/*
 * Under _GNU_SOURCE, <sys/socket.h> declares bind/connect/accept4 with a transparent union
 * (__SOCKADDR_ARG), which jextract would pass by value; without __USE_GNU they take plain
 * `struct sockaddr *`, which is the ABI. So the socket headers are read without it, and struct ucred
 * (which <bits/socket.h> defines only under __USE_GNU) is declared here exactly as glibc does;
 * the ABI conformance test checks its layout against the C compiler's.
 */
#undef __USE_GNU
#include <sys/socket.h>
#include <sys/un.h>
#define __USE_GNU 1
struct ucred {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};
#include <sys/vfs.h>
