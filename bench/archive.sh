#!/usr/bin/env bash
# Archive client benchmarks against the real Debian archive (the mirror in
# this machine's apt sources), with the same-run baselines `xz -dc` and
# `gzip -dc` on the same files, and peak memory of a whole command.
# Usage: bench/archive.sh [benchtime]   (default 5x). Figures go into
# docs/performance.md by hand, as ratios against the baselines.
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-5x}
out=bench/out
mkdir -p "$out"
export TEMPER_LIVE=1
export TEMPER_BENCH_CACHE="$PWD/$out/cache"

echo "== go test -bench (archive, index)"
go test -run '^$' -bench . -benchtime "$benchtime" -benchmem ./internal/debian/archive/ ./internal/debian/index/ | tee "$out/go-bench.txt"

echo "== baselines on the same files (best of 5)"
best() { # best wall time in seconds of a shell command over 5 runs
  local b=999
  for _ in 1 2 3 4 5; do
    local s e
    s=$(date +%s.%N); bash -c "$1" >/dev/null; e=$(date +%s.%N)
    b=$(echo "$e - $s" | bc -l | awk -v b="$b" '{print ($1 < b) ? $1 : b}')
  done
  echo "$b"
}
for ext in xz gz; do
  f="${TMPDIR:-/tmp}/temper-bench-Packages.$ext"
  [ -f "$f" ] || { echo "missing $f (the Go benchmark downloads it)"; exit 1; }
done
xzt=$(best "xz -dc ${TMPDIR:-/tmp}/temper-bench-Packages.xz")
gzt=$(best "gzip -dc ${TMPDIR:-/tmp}/temper-bench-Packages.gz")
echo "xz -dc Packages.xz:   ${xzt}s" | tee "$out/baseline.txt"
echo "gzip -dc Packages.gz: ${gzt}s" | tee -a "$out/baseline.txt"
m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [ -n "$m" ]; then
  rtt=$(curl -s -o /dev/null -w '%{time_total}' "$m/dists/bookworm/InRelease")
  echo "one InRelease GET (curl): ${rtt}s" | tee -a "$out/baseline.txt"
fi

echo "== peak memory: temper archive show python3 --release bookworm --offline (warm cache)"
go build -o "$out/temper" ./cmd/temper
"$out/temper" --cache "$TEMPER_BENCH_CACHE" archive show python3 --release bookworm >/dev/null
/usr/bin/time -v "$out/temper" --cache "$TEMPER_BENCH_CACHE" --offline archive show python3 --release bookworm 2>"$out/time.txt" >/dev/null
grep -E "Maximum resident|Elapsed" "$out/time.txt" | tee "$out/memory.txt"
