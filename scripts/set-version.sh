#!/usr/bin/env bash
# Sets the version of every panmap pom (parent, library, cli, demo, jmh, jcstress) and, for a release
# version, project.build.outputTimestamp to now (UTC, whole seconds): the release commit then holds
# everything a byte-identical rebuild needs. See docs/RELEASING.md.
#
#   scripts/set-version.sh 0.1.0            the release commit
#   scripts/set-version.sh 0.2.0-SNAPSHOT   the commit after it
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
new=${1:?usage: scripts/set-version.sh VERSION}
[[ $new =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[A-Za-z0-9.]+)?$ ]] || { echo "set-version: not a version: $new" >&2; exit 2; }
old=$(sed -n 's|^  <version>\(.*\)</version>|\1|p' "$root/parent/pom.xml" | head -n 1)
for pom in parent/pom.xml pom.xml cli/pom.xml demo/pom.xml jmh/pom.xml jcstress/pom.xml; do
  # the project's own version and its parent's: the only <version> lines that hold the old version
  sed -i "s|<version>$old</version>|<version>$new</version>|" "$root/$pom"
  grep -q "<version>$new</version>" "$root/$pom" || { echo "set-version: $pom has no <version>$old</version>" >&2; exit 1; }
done
if [[ $new != *-SNAPSHOT ]]; then
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  sed -i "s|<project.build.outputTimestamp>[^<]*</project.build.outputTimestamp>|<project.build.outputTimestamp>$now</project.build.outputTimestamp>|" \
    "$root/parent/pom.xml"
  echo "set-version: $old -> $new, outputTimestamp $now"
else
  echo "set-version: $old -> $new"
fi
