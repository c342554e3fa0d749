#!/usr/bin/env bash
# Warm-cache build of the whole catalog (examples/catalog: every definition,
# every architecture) into a fresh OCI layout, with same-run baselines:
#   - read + SHA-256 every .deb the catalog's locks name, from the cache
#     (sha256sum over the cached files: the I/O floor of any build);
#   - one warm python3 (3.11 bookworm, amd64 + arm64) build.
# Measured: the catalog built by one temper process (which builds
# definitions side by side, --parallel = CPUs) and by JOBS processes (default 2, one per core) over a
# balanced split of the definitions (by installed size), each into its own
# layout. The first, unmeasured pass fills the cache (.debs and their zstd
# copies, the layers, the build memo) so that every measured pass is warm;
# the --force pass skips the build memo (each image assembled from its
# packages, its layers found in the layer cache).
# Usage: bench/catalog.sh [JOBS]. Figures go into docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-2}
out=bench/out/catalog-build
rm -rf "$out" && mkdir -p "$out"
export TEMPER_CACHE_DIR=${TEMPER_CACHE_DIR:-$HOME/.cache/temper}
go build -o "$out/temper" ./cmd/temper
T="$out/temper --cache $TEMPER_CACHE_DIR"

defs=$(find examples/catalog -name '*.yaml' ! -name '*.lock.yaml' | sort)
n=$(echo "$defs" | wc -l)
# Every image's lock: a definition's (NAME.lock.yaml) and its variants'
# (NAME.VARIANT.lock.yaml); one image per architecture of each.
locks=$(find examples/catalog -name '*.lock.yaml' | sort)
images=0
for l in $locks; do images=$((images + $(grep -c '^  [a-z0-9]*:$' "$l"))); done
echo "catalog: $n definitions, $(echo "$locks" | wc -l) locks (variants too), $images images"

echo "== warm-up (fills the cache; not measured)"
$T build examples/catalog -o "$out/warm" >/dev/null 2>&1

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.2f'; }

echo "== baseline: read + sha256 every .deb of the locks from the cache"
awk '/^        sha256:/{gsub(/"/, "", $2); print $2}' $locks | sort -u > "$out/debs.txt"
files=$(sed -E "s#^(..)(.*)#$TEMPER_CACHE_DIR/sha256/\1/\1\2#" "$out/debs.txt")
bytes=$(du -cb $files | tail -1 | cut -f1)
sync; s=$(now); sha256sum $files >/dev/null; e=$(now)
hash=$(secs "$s" "$e")
echo "read+hash $(wc -l < "$out/debs.txt") .debs ($bytes bytes): ${hash}s"

echo "== baseline: one warm python3 build (3.11 bookworm, amd64 + arm64)"
s=$(now); $T build examples/catalog/python/3.11-bookworm.yaml -o "$out/python" --force >/dev/null 2>&1; e=$(now)
py=$(secs "$s" "$e")
echo "python3: ${py}s"

echo "== catalog, one process"
s=$(now); $T build examples/catalog -o "$out/seq" >"$out/seq.log" 2>&1; e=$(now)
seq=$(secs "$s" "$e")
echo "catalog, 1 process: ${seq}s"

echo "== catalog, one process, --force (no build memo: every image assembled from its packages)"
s=$(now); $T build examples/catalog -o "$out/force" --force >"$out/force.log" 2>&1; e=$(now)
force=$(secs "$s" "$e")
echo "catalog, 1 process, --force: ${force}s"

echo "== catalog, $jobs processes"
# Balanced split: largest definitions first, each to the lightest bucket.
for d in $defs; do
  echo "$(awk '/installed_size:/{s+=$2} END{print s+0}' "${d%.yaml}.lock.yaml") $d"
done | sort -rn | awk -v j="$jobs" -v out="$out" '{
  b = 0; for (i = 1; i < j; i++) if (load[i] < load[b]) b = i
  load[b] += $1; print $2 >> (out "/part" b ".txt") }'
s=$(now)
for ((i = 0; i < jobs; i++)); do
  $T build $(cat "$out/part$i.txt") -o "$out/par$i" >"$out/par$i.log" 2>&1 &
done
wait
e=$(now)
par=$(secs "$s" "$e")
echo "catalog, $jobs processes: ${par}s"

echo "== catalog report over the one-process layout"
s=$(now); $T catalog report examples/catalog --layout "$out/seq" --published docs/published-sizes.yaml >"$out/catalog.md"; e=$(now)
report=$(secs "$s" "$e")
echo "catalog report: ${report}s"

{
  echo "catalog: $n definitions, $images images"
  echo "read+hash .debs: ${hash}s ($bytes bytes)"
  echo "python3 build: ${py}s"
  echo "catalog 1 process: ${seq}s ($(echo "$seq / $hash" | bc -l | xargs printf '%.1f')x read+hash, $(echo "$seq / $py" | bc -l | xargs printf '%.1f')x python3)"
  echo "catalog 1 process --force: ${force}s ($(echo "$force / $hash" | bc -l | xargs printf '%.1f')x read+hash)"
  echo "catalog report: ${report}s"
  echo "catalog $jobs processes: ${par}s ($(echo "$par / $hash" | bc -l | xargs printf '%.1f')x read+hash, $(echo "$par / $py" | bc -l | xargs printf '%.1f')x python3)"
} | tee "$out/result.txt"
