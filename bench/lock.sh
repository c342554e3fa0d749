#!/usr/bin/env bash
# Resolver and lock benchmarks against the real archive (warm cache):
# resolving python3, indexing a release, and locking the 300-definition
# synthetic catalog (bench/gencatalog) end to end, plus the same catalog
# locked by the temper binary for a whole-command wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-5x}
out=bench/out
mkdir -p "$out"
export TEMPER_LIVE=1
export TEMPER_BENCH_CACHE="$PWD/$out/cache"
go test -run '^$' -bench . -benchtime "$benchtime" -benchmem ./internal/resolve/ ./internal/lock/ | tee "$out/lock-bench.txt"
go build -o "$out/temper" ./cmd/temper
go run ./bench/gencatalog -n 300 -out "$out/catalog"
"$out/temper" --cache "$TEMPER_BENCH_CACHE" lock "$out/catalog" >/dev/null   # warm
for i in 1 2 3; do
  /usr/bin/time -f "temper lock (300 definitions, warm): %e s, max RSS %M KB" "$out/temper" --cache "$TEMPER_BENCH_CACHE" lock "$out/catalog" >/dev/null
done 2>&1 | tee "$out/lock-wall.txt"
