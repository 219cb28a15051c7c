#!/usr/bin/env bash
# Regenerates the jextract bindings of one platform and compares them with the committed ones.
#
#   scripts/bindings.sh [--update] [PLATFORM]     (PLATFORM defaults to linux)
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
headers="$root/native-headers/$platform"
package=dev.panmap.internal.generated.$platform
committed="$root/src/main/java/${package//.//}"
case "$platform" in
  linux) header=panmap_linux.h; class=Libc ;;
  windows) header=panmap_windows.h; class=Win32 ;;
  *) echo "bindings: unknown platform $platform (linux or windows)" >&2; exit 2 ;;
esac

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
   "${libraries[@]}" @symbols.txt "$header")

# jextract ignores --include-* names it cannot find: every requested name must be in its dump
(cd "$headers" && "$jextract" --dump-includes "$out/includes.txt" "$header" >/dev/null)
missing=0
while read -r kind name; do
  case "$kind" in --include-*) ;; *) continue ;; esac
  grep -qE -- "^$kind $name( |\$)" "$out/includes.txt" || { echo "not in the headers: $kind $name" >&2; missing=1; }
done < "$headers/symbols.txt"
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
