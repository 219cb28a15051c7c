#!/usr/bin/env bash
# The release, dry (make release-check; CI runs it after make test): builds the tree as it is twice,
# in two fresh copies under target/release-check/{a,b}, with
#
#   ./mvnw -P release verify -Dgpg.skip -DskipTests      (make test has run the tests)
#
# then checks that every artifact a release publishes is there (for panmap and panmap-cli: the jar,
# its sources and javadoc jars; the CLI's executable jar and distribution), that the library jar
# holds the library only and has no runtime dependency, and that the two builds are byte for byte
# the same (project.build.outputTimestamp). Exit 0 only if all of it holds. RELEASE_CHECK_REUSE=1
# checks the builds of the last run again without building.
#
# What it cannot do here: sign (no key; the release workflow signs with MAVEN_GPG_KEY) and upload
# to the Central Portal (no credentials; central-publishing-maven-plugin builds its bundle only to
# upload it). docs/RELEASING.md has the rest.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
JAVA_HOME=$(scripts/find-jdk)
export JAVA_HOME
out=$root/target/release-check
# RELEASE_CHECK_REUSE=1: check the two builds of the last run again, without building
reuse=${RELEASE_CHECK_REUSE:-}
if [ -z "$reuse" ]; then
  rm -rf "$out"
  mkdir -p "$out"
fi

version=$(sed -n 's|^  <version>\(.*\)</version>|\1|p' parent/pom.xml | head -n 1)
[ -n "$version" ] || { echo "release-check: cannot read the version from parent/pom.xml" >&2; exit 1; }
echo "== release-check: version $version, built twice (target/release-check/a and b)"

# the tree as it is: tracked files and new ones, not ignored ones (no target/)
for side in a b; do
  [ -n "$reuse" ] && break
  mkdir -p "$out/$side"
  git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -x -C "$out/$side"
done

for side in a b; do
  [ -n "$reuse" ] && break
  start=$SECONDS
  if ! (cd "$out/$side" && ./mvnw -B -q --no-transfer-progress -f parent/pom.xml -P release -Dgpg.skip -DskipTests verify) \
      >"$out/build-$side.log" 2>&1; then
    tail -n 60 "$out/build-$side.log"
    echo "release-check: the release build ($side) failed: $out/build-$side.log" >&2
    exit 1
  fi
  echo "build $side: $((SECONDS - start)) s"
done

failed=0
fail() { echo "FAIL: $*"; failed=1; }

# what a release publishes (besides panmap-parent's pom), and the CLI's distribution
published=(
  "target/panmap-$version.jar" "target/panmap-$version-sources.jar" "target/panmap-$version-javadoc.jar"
  "cli/target/panmap-cli.jar" "cli/target/panmap-cli-sources.jar" "cli/target/panmap-cli-javadoc.jar"
  "cli/target/panmap-cli-$version-all.jar" "cli/target/panmap-cli-bin.tar.gz" "cli/target/panmap-cli-bin.zip"
)
echo "== the artifacts (sha256, and whether build b made the same bytes)"
for f in "${published[@]}"; do
  [ -f "$out/a/$f" ] || { fail "$f was not built"; continue; }
done
# every archive the two builds made, published or not (the tests jar, the demo's)
while IFS= read -r f; do
  if [ ! -f "$out/b/$f" ]; then
    fail "$f: only build a made it"
  elif cmp -s "$out/a/$f" "$out/b/$f"; then
    printf '%s  %s  identical\n' "$(sha256sum <"$out/a/$f" | cut -c1-16)" "$f"
  else
    fail "$f differs between the two builds:"
    case $f in
      *.tar.gz) diff <(tar tzvf "$out/a/$f") <(tar tzvf "$out/b/$f") | head -n 20 || true ;;
      *) diff <(unzip -lv "$out/a/$f" | awk '{print $7, $8}') <(unzip -lv "$out/b/$f" | awk '{print $7, $8}') | head -n 20 || true ;;
    esac
  fi
done < <(cd "$out/a" && find . cli demo -maxdepth 2 -path '*/target/*' -type f \( -name '*.jar' -o -name '*.zip' -o -name '*.tar.gz' \) \
           | sed 's|^\./||' | sort -u)

echo "== the license in every jar"
for f in "target/panmap-$version.jar" cli/target/panmap-cli.jar "cli/target/panmap-cli-$version-all.jar"; do
  [ -f "$out/a/$f" ] || continue
  entries=$(unzip -Z1 "$out/a/$f")   # (not piped into grep -q: pipefail would see unzip's SIGPIPE)
  for entry in META-INF/LICENSE META-INF/NOTICE; do
    grep -qx "$entry" <<<"$entries" || fail "$f has no $entry"
  done
done
echo "META-INF/LICENSE and META-INF/NOTICE checked"

echo "== the library jar holds the library only"
lib=$out/a/target/panmap-$version.jar
if [ -f "$lib" ]; then
  entries=$(unzip -Z1 "$lib")
  others=$(grep -Ev '^(META-INF/|dev/$|dev/panmap/|module-info\.class$)' <<<"$entries" || true)
  [ -z "$others" ] || fail "the library jar holds more than dev.panmap: $others"
  ! grep -Eq '^dev/panmap/(cli|demo)/' <<<"$entries" || fail "the library jar holds the command line or the demo"
  grep -qx 'module-info.class' <<<"$entries" || fail "the library jar has no module-info.class"
  echo "$(grep -c '\.class$' <<<"$entries") classes, all in dev.panmap (module dev.panmap)"
fi

echo "== the library's runtime dependencies (none expected)"
deps=$(cd "$out/a" && ./mvnw -B -q --no-transfer-progress -f parent/pom.xml -pl :panmap \
         org.apache.maven.plugins:maven-dependency-plugin:3.8.1:list -DincludeScope=runtime -DexcludeTransitive=false \
         -DoutputFile="$out/runtime-deps.txt" >/dev/null 2>&1 && grep -E '^ +[^ ]+:[^ ]+:' "$out/runtime-deps.txt" || true)
if [ -n "$deps" ]; then fail "the library has runtime dependencies: $deps"; else echo "none"; fi

echo "== the command line's distribution"
dist=$out/a/cli/target/panmap-cli-bin.tar.gz
if [ -f "$dist" ]; then
  listing=$(tar tzvf "$dist")
  echo "$listing"
  for entry in bin/panmap lib/panmap-cli.jar LICENSE NOTICE README.md; do
    grep -q " panmap-cli-$version/$entry\$" <<<"$listing" || fail "the distribution has no $entry"
  done
  grep -Eq '^-rwxr-xr-x .* panmap-cli-'"$version"'/bin/panmap$' <<<"$listing" || fail "bin/panmap is not executable in the distribution"
fi

if [ $failed = 1 ]; then
  echo "release-check: FAILED (builds and logs under $out)"
  exit 1
fi
echo "release-check: passed: every artifact built, byte-identical across two builds"
