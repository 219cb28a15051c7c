#!/usr/bin/env bash
# Regenerates the jextract bindings of one platform and compares them with the committed ones.
#
#   scripts/bindings.sh [--update] [PLATFORM]     (PLATFORM: linux (x86_64, the default), linux-aarch64
#                                                  or windows)
#
# linux-aarch64 is generated from the same header and symbol list as linux, by jextract run in
# native-headers/linux/aarch64/, whose compile_flags.txt points clang at the aarch64 target and Debian's
# aarch64 sysroot (/usr/aarch64-linux-gnu/include, packages libc6-dev-arm64-cross and
# linux-libc-dev-arm64-cross); its output goes to its own package, dev.panmap.internal.generated.linux_aarch64.
#
# jextract is taken from $JEXTRACT, else from PATH. The command below is the exact one that produced
# the committed sources (native-headers/<platform>/PROVENANCE.md records jextract's version). After
# jextract, one reviewable post-processing step makes the output compile with --release 22:
# jextract's master emits SymbolLookup.findOrThrow(name), which exists only from JDK 23, and this
# rewrites it to the JDK 22 equivalent find(name).orElseThrow(). Nothing else is touched.
set -euo pipefail

update=false
if [ "${1:-}" = "--update" ]; then update=true; shift; fi
platform=${1:-linux}

root=$(cd "$(dirname "$0")/.." && pwd)
# headers: the folder jextract runs in (its compile_flags.txt, if any, holds clang's options);
# header and symbols are relative to it
headers="$root/native-headers/$platform"
package=dev.panmap.internal.generated.$platform
symbols=symbols.txt
case "$platform" in
  linux) header=panmap_linux.h; class=Libc ;;
  linux-aarch64)
    headers="$root/native-headers/linux/aarch64"; package=dev.panmap.internal.generated.linux_aarch64
    header=../panmap_linux.h; symbols=../symbols.txt; class=Libc
    if [ ! -f /usr/aarch64-linux-gnu/include/sys/syscall.h ] || [ ! -f /usr/aarch64-linux-gnu/include/linux/futex.h ]; then
      echo "bindings: no aarch64 sysroot in /usr/aarch64-linux-gnu/include (Debian: apt-get install libc6-dev-arm64-cross linux-libc-dev-arm64-cross)" >&2
      exit 1
    fi ;;
  windows) header=panmap_windows.h; class=Win32 ;;
  *) echo "bindings: unknown platform $platform (linux, linux-aarch64 or windows)" >&2; exit 2 ;;
esac
committed="$root/src/main/java/${package//.//}"

jextract=${JEXTRACT:-$(command -v jextract || true)}
if [ -z "$jextract" ] || [ ! -x "$jextract" ]; then
  echo "make bindings: no jextract found: set JEXTRACT=/path/to/bin/jextract or put jextract on PATH" >&2
  exit 1
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# the generation command (run inside the header folder so that paths in the output stay relative)
case "$platform" in
  # Windows: the generated lookup opens kernel32.dll and advapi32.dll by name (SymbolLookup.libraryLookup,
  # so LoadLibrary: both are KnownDLLs, always the system's own copies, never one found on java.library.path)
  windows) libraries=(--library kernel32 --library advapi32) ;;
  *) libraries=() ;;
esac
(cd "$headers" && "$jextract" --output "$out" --target-package "$package" --header-class-name "$class" \
   "${libraries[@]}" "@$symbols" "$header")

# jextract ignores --include-* names it cannot find: every requested name must be in its dump
(cd "$headers" && "$jextract" --dump-includes "$out/includes.txt" "$header" >/dev/null)
missing=0
while read -r kind name; do
  case "$kind" in --include-*) ;; *) continue ;; esac
  grep -qE -- "^$kind $name( |\$)" "$out/includes.txt" || { echo "not in the headers: $kind $name" >&2; missing=1; }
done < "$headers/$symbols"
[ "$missing" = 0 ] || exit 1

generated="$out/${package//.//}"
# post-processing: JDK 23's findOrThrow(name) -> JDK 22's find(name).orElseThrow()
sed -i -E 's/\.findOrThrow\(("[^"]*")\)/.find(\1).orElseThrow()/g' "$generated"/*.java
if [ "$platform" = windows ]; then
  # post-processing: drop the unused C_LONG constant (it would throw on Windows, see above)
  sed -i '/public static final ValueLayout.OfLong C_LONG = /d' "$generated/$class\$shared.java"
  if grep -rq 'C_LONG\b' "$generated"; then echo "bindings: the Windows output uses C_LONG: the header has a long in it" >&2; exit 1; fi
fi

if $update; then
  rm -rf "$committed"; mkdir -p "$committed"; cp "$generated"/*.java "$committed"/
  echo "bindings: wrote $(ls "$committed" | wc -l) files to ${committed#$root/}"
elif diff -ru "$committed" "$generated"; then
  echo "bindings: the jextract output is identical to the committed sources (${committed#$root/})"
else
  echo "bindings: the jextract output differs from the committed sources (diff above); run scripts/bindings.sh --update and review" >&2
  exit 1
fi
