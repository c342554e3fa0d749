#!/usr/bin/env bash
# The warm whole-catalog build with an EMPTY layer cache (issue 16), with
# same-run baselines: read + SHA-256 of every .deb the catalog's locks name
# (the floor, as bench/catalog.sh measures it) and temper at BASE (default
# HEAD). Each side runs BenchmarkCatalogEmptyLayerCache in internal/build
# once (every definition's runtime image, both architectures, offline from
# the warm .deb cache in TEMPER_CACHE_DIR, a fresh layout and a fresh
# layer cache on disk), with wall, user and system CPU time; a CPU profile
# of the working tree's run is left in bench/out/layers-build/new.cpu.
# Usage: bench/layers-build.sh [BASE]. Figures go into docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-HEAD}
out=bench/out/layers-build
rm -rf "$out" && mkdir -p "$out"
git worktree remove --force "$out/base-src" 2>/dev/null || true
git worktree add -f --detach "$out/base-src" "$base" >/dev/null
trap 'git worktree remove --force "$out/base-src" 2>/dev/null || true' EXIT
# The same benchmark on both sides (BASE may predate it).
cp internal/build/layering_bench_test.go "$out/base-src/internal/build/"
export TEMPER_BENCH_CACHE=${TEMPER_CACHE_DIR:-$HOME/.cache/temper}
(cd "$out/base-src" && go test -c -o ../base.test ./internal/build)
go test -c -o "$out/new.test" ./internal/build

echo "== baseline: read + sha256 every .deb of the runtime locks (uptime: $(uptime | sed 's/.*load/load/'))"
# The runtime locks (NAME.lock.yaml; a variant's is NAME.VARIANT.lock.yaml,
# e.g. 3.11-bookworm.dev.lock.yaml).
locks=$(find examples/catalog -name '*.lock.yaml' ! -name '*.dev.lock.yaml' | sort)
awk '/^        sha256:/{gsub(/"/, "", $2); print $2}' $locks | sort -u >"$out/debs.txt"
files=$(sed -E "s#^(..)(.*)#$TEMPER_BENCH_CACHE/sha256/\1/\1\2#" "$out/debs.txt")
/usr/bin/time -f "read+hash $(wc -l <"$out/debs.txt") .debs: %e s wall, %U s user, %S s sys" sha256sum $files >/dev/null

run() { # name, extra flags
  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  (cd internal/build && TEMPER_BENCH_DIGESTS="$PWD/../../$out/$1.digests" /usr/bin/time -o "../../$out/$1.time" \
    -f "$1: %e s wall, %U s user, %S s sys, %M KB max RSS (load average before: $load)" \
    "../../$out/$1.test" -test.run XXX -test.bench 'CatalogEmptyLayerCache$' -test.benchtime 1x "${@:2}" >"../../$out/$1.log" 2>&1) ||
    { echo "$1 failed:"; tail -20 "$out/$1.log"; exit 2; }
  cat "$out/$1.time"
}
echo "== the catalog's runtime images, empty layer cache"
run base
run new -test.cpuprofile "$PWD/$out/new.cpu"
if cmp -s "$out/base.digests" "$out/new.digests"; then
  echo "identical: $(wc -l <"$out/new.digests") image indexes have the same digests at $(git rev-parse --short "$base") and in the working tree"
else
  echo "DIFFERENT:"; diff "$out/base.digests" "$out/new.digests"; exit 1
fi
run base
run new
