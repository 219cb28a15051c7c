#!/usr/bin/env bash
# Runs COMMAND... with one more argument: a hugetlbfs mount (2 MiB pages) that has at least PAGES free
# pages, or "" when this machine cannot give one (not root, no hugetlb support, too little memory),
# after saying why on stderr. What it changes it puts back on exit, whatever happens: the 2 MiB pool
# size (/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages) and the mount.
#
# usage: hugepages.sh PAGES COMMAND...
set -u
pages=$1
shift
pool=/sys/kernel/mm/hugepages/hugepages-2048kB
dir=""
before=""
cleanup() {
    if [ -n "$dir" ]; then umount "$dir" 2>/dev/null; rmdir "$dir" 2>/dev/null; fi
    if [ -n "$before" ]; then echo "$before" > "$pool/nr_hugepages"; fi
}
trap cleanup EXIT
if [ "$(id -u)" != 0 ]; then
    echo "hugepages.sh: not root: no huge-page rows (they need $pages free 2 MiB pages and a hugetlbfs mount)" >&2
elif [ ! -w "$pool/nr_hugepages" ]; then
    echo "hugepages.sh: no 2 MiB hugetlb pool here ($pool): no huge-page rows" >&2
else
    before=$(cat "$pool/nr_hugepages")
    free=$(cat "$pool/free_hugepages")
    if [ "$free" -lt "$pages" ]; then echo $((before + pages - free)) > "$pool/nr_hugepages"; fi
    if [ "$(cat "$pool/free_hugepages")" -lt "$pages" ]; then
        # memory full of clean page cache in pieces under 2 MiB: drop the clean cache (nothing is lost), compact, ask again
        echo 1 > /proc/sys/vm/drop_caches; echo 1 > /proc/sys/vm/compact_memory
        echo $((before + pages - free)) > "$pool/nr_hugepages"
    fi
    free=$(cat "$pool/free_hugepages")
    if [ "$free" -lt "$pages" ]; then
        echo "hugepages.sh: the kernel gave only $free free 2 MiB pages of $pages: no huge-page rows" >&2
    else
        dir=$(mktemp -d /tmp/panmap-hugetlbfs.XXXXXX)
        if ! mount -t hugetlbfs -o pagesize=2M none "$dir"; then
            echo "hugepages.sh: mount -t hugetlbfs failed: no huge-page rows" >&2
            rmdir "$dir"; dir=""
        fi
    fi
fi
"$@" "$dir"
