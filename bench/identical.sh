#!/usr/bin/env bash
# Byte-identical proof for refactors: builds the whole catalog
# (examples/catalog, every definition, every architecture) from the same
# locks with temper built at REV and with temper built from the working
# tree, each into a fresh OCI layout, and compares every image index digest.
# Exit 0 when all are equal; 1 with the differing references otherwise.
# Usage: bench/identical.sh [REV] (default: origin/main, else HEAD~1).
# IGNORE_BUILD_KEY=1 compares each image (reference and architecture) by
# its layers and its config without the build-key label instead: across a
# build format change (the key names the format version, so every index
# digest moves) it lists the images whose bytes changed otherwise.
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
if [ "${IGNORE_BUILD_KEY:-0}" = 1 ]; then
  python3 - "$out/layout-base" "$out/layout-new" <<'PY'
import json, os, sys
def images(layout):
    blobs = os.path.join(layout, "blobs", "sha256")
    read = lambda d: json.load(open(os.path.join(blobs, d.split(":")[1])))
    out = {}
    for m in json.load(open(os.path.join(layout, "index.json")))["manifests"]:
        ref = m["annotations"]["org.opencontainers.image.ref.name"]
        for d in read(m["digest"])["manifests"]:
            man = read(d["digest"])
            cfg = read(man["config"]["digest"])
            cfg.get("config", {}).get("Labels", {}).pop("dev.temper.build.key", None)
            out[(ref, d["platform"]["architecture"])] = (man["layers"], cfg)
    return out
base, new = images(sys.argv[1]), images(sys.argv[2])
changed = sorted(k for k in base.keys() | new.keys() if base.get(k) != new.get(k))
for ref, arch in changed:
    print(f"changed: {ref} {arch}")
print(f"{len(new) - len(changed)} of {len(new)} images have the same layers and config but for the build key; {len(changed)} changed")
sys.exit(1 if changed else 0)
PY
  exit $?
fi
n=$(wc -l <"$out/new.txt")
if diff -u "$out/base.txt" "$out/new.txt"; then
  echo "identical: $n image indexes (every architecture) built by $(git rev-parse --short "$rev") and by the working tree have the same digests"
else
  echo "DIFFERENT: see above ($out/base.txt vs $out/new.txt)"; exit 1
fi
