#!/usr/bin/env bash
# Vulnerability scanning benchmarks (docs/performance.md, "Scanning"): a
# generated security tracker export of realistic size (never committed),
# cold load (parse + index + cache), warm load (the cached compact index),
# scanning 300 locks; same-run baselines `jq -c . FILE` and Go's
# encoding/json into maps on the same file.
# Usage: bench/scan.sh [benchtime]   (default 5x)
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-5x}
out=bench/out
mkdir -p "$out"
export TEMPER_BENCH_TRACKER="${TMPDIR:-/tmp}/temper-bench-tracker.json"
rm -f "$TEMPER_BENCH_TRACKER"

echo "== go test -bench (internal/vuln; generates $TEMPER_BENCH_TRACKER)"
go test -run '^$' -bench . -benchtime "$benchtime" -benchmem ./internal/vuln/ | tee "$out/scan-bench.txt"
ls -l "$TEMPER_BENCH_TRACKER" | tee "$out/scan-baseline.txt"

echo "== baseline on the same file (best of 5)"
command -v jq >/dev/null || { echo "jq is not installed (apt-get install jq)"; exit 1; }
best=999
for _ in 1 2 3 4 5; do
  s=$(date +%s.%N); jq -c . "$TEMPER_BENCH_TRACKER" >/dev/null; e=$(date +%s.%N)
  best=$(echo "$e - $s" | bc -l | awk -v b="$best" '{print ($1 < b) ? $1 : b}')
done
echo "jq -c . tracker.json: ${best}s" | tee -a "$out/scan-baseline.txt"
uptime | tee -a "$out/scan-baseline.txt"
