#!/usr/bin/env bash
# Keeps a long-lived cargo target directory from filling the disk: every build of a test or
# binary leaves a 200-400 MB executable under a new hash, and cargo never removes the old ones.
# Keeps the newest executable of each name, drops the rest and the incremental caches.
# Usage: scripts/prune-build-cache.sh [TARGET_DIR]   (default: $CARGO_TARGET_DIR or ./target)
set -euo pipefail
dir="${1:-${CARGO_TARGET_DIR:-target}}"
[ -d "$dir" ] || exit 0
before=$(du -sm "$dir" | cut -f1)
for profile in "$dir"/debug "$dir"/release; do
    [ -d "$profile/deps" ] || continue
    rm -rf "$profile/incremental"
    # Executables are named <crate>-<16 hex digits> with no extension; newest first per name.
    find "$profile/deps" -maxdepth 1 -type f -executable -regextype posix-extended \
        -regex '.*/[A-Za-z0-9_]+-[0-9a-f]{16}' -printf '%T@ %p\n' |
        sort -rn |
        awk '{ path = $2; name = path; sub(/.*\//, "", name); sub(/-[0-9a-f]+$/, "", name);
               if (seen[name]++) print path }' |
        xargs -r rm -f
done
after=$(du -sm "$dir" | cut -f1)
echo "prune-build-cache: $dir ${before} MB -> ${after} MB"
