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
