#!/usr/bin/env bash
# temper serve at rest (issue: `temper serve`): an idle server with 300
# locked, released streams over an unchanged fixture archive (hermetic, no
# network). Reports the CPU of one check interval (getrusage over whole
# 1 s intervals) and its archive requests, GET /api/v1/streams, and memory
# at rest, each next to a same-run baseline: one verified InRelease fetch,
# the same JSON from a bare net/http handler, the process before the
# server started. Usage: bench/serve.sh [benchtime] (default 10x).
# Figures go into docs/performance.md ("Service") by hand, as ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-10x}
out=bench/out
mkdir -p "$out"
go test -run '^$' -bench BenchmarkIdleServer -benchtime "$benchtime" ./internal/server/ | tee "$out/serve-bench.txt"
awk '
  /check-interval/ { for (i = 1; i <= NF; i++) if ($(i+1) == "cpu-s/interval") cpu = $i }
  /baseline-InRelease-fetch/ { for (i = 1; i <= NF; i++) if ($(i+1) == "cpu-s/op") inr = $i }
  /GET-streams/ { api = $3 }
  /baseline-bare-handler/ { bare = $3 }
  /memory-at-rest/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "rss-MB") rss = $i; if ($(i+1) == "rss-before-server-MB") rss0 = $i } }
  END {
    printf "check interval: %.3f s CPU (budget 0.5 s) = %.0f x one InRelease fetch (%.4f s)\n", cpu, cpu / inr, inr
    printf "GET /api/v1/streams (300): %.1f ms (budget 20 ms) = %.0f x a bare handler (%.2f ms)\n", api / 1e6, api / bare, bare / 1e6
    printf "memory at rest: RSS %.1f MB (budget 150 MB); %.1f MB before the server started\n", rss, rss0
  }' "$out/serve-bench.txt"
