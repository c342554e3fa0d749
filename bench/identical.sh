#!/usr/bin/env bash
# Byte-identical proof for refactors: builds the whole catalog
# (examples/catalog, every definition, every architecture) from the same
# locks with temper built at REV and with temper built from the working
# tree, each into a fresh OCI layout, and compares every image index digest.
# Exit 0 when all are equal; 1 with the differing references otherwise.
# Usage: bench/identical.sh [REV] (default: origin/main, else HEAD~1).
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-$(git rev-parse --verify -q origin/main || git rev-parse HEAD~1)}
out=bench/out/identical
rm -rf "$out" && mkdir -p "$out"
git worktree remove --force "$out/base-src" 2>/dev/null || true
git worktree add -f --detach "$out/base-src" "$rev" >/dev/null
trap 'git worktree remove --force "$out/base-src" 2>/dev/null || true' EXIT
(cd "$out/base-src" && go build -o ../temper-base ./cmd/temper)
go build -o "$out/temper-new" ./cmd/temper
export TEMPER_CACHE_DIR=${TEMPER_CACHE_DIR:-$HOME/.cache/temper}
for which in base new; do
  # Both binaries read the working tree's locks and definitions.
  "$out/temper-$which" --cache "$TEMPER_CACHE_DIR" build examples/catalog -o "$out/layout-$which" >"$out/$which.log" 2>&1 ||
    { echo "build with $which failed:"; tail -20 "$out/$which.log"; exit 2; }
  python3 -c '
import json, sys
for m in sorted(json.load(open(sys.argv[1]))["manifests"], key=lambda m: m["annotations"]["org.opencontainers.image.ref.name"]):
    print(m["annotations"]["org.opencontainers.image.ref.name"], m["digest"])
' "$out/layout-$which/index.json" >"$out/$which.txt"
done
n=$(wc -l <"$out/new.txt")
if diff -u "$out/base.txt" "$out/new.txt"; then
  echo "identical: $n image indexes (every architecture) built by $(git rev-parse --short "$rev") and by the working tree have the same digests"
else
  echo "DIFFERENT: see above ($out/base.txt vs $out/new.txt)"; exit 1
fi
