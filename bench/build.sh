#!/usr/bin/env bash
# Build benchmarks against the real archive: temper's warm-cache python3
# build (bookworm, amd64) and a no-op rebuild, compared in the same run with
# the traditional path, mmdebstrap --variant=apt --include=python3 bookworm
# with a warm apt cache (its .debs kept between runs with sync-in/sync-out).
# The mirror comes from this machine's apt sources.
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-5x}
out=$PWD/bench/out
mkdir -p "$out"
export TEMPER_LIVE=1
export TEMPER_BENCH_CACHE="$out/cache"

go test -run '^$' -bench 'BuildPython3Warm|RebuildNoop' -benchtime "$benchtime" -benchmem ./internal/build/ | tee "$out/build-bench.txt"

mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources)
security=$(awk '/^URIs:/{u=$2} /^Suites:.*-security/{print u; exit}' /etc/apt/sources.list.d/*.sources)
[ -n "$security" ] || security="${mirror}-security"
debs="$out/mmdebstrap-debs"
mkdir -p "$debs"
mm() {
  rm -rf "$out/mmroot"
  mmdebstrap --quiet --variant=apt --include=python3 --skip=essential/unlink \
    --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
    --setup-hook="sync-in $debs /var/cache/apt/archives/" \
    --customize-hook="sync-out /var/cache/apt/archives $debs" \
    bookworm "$out/mmroot" \
    "deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb $security bookworm-security main"
}
mm >/dev/null 2>&1   # warm the apt cache
best=999
for i in 1 2; do
  s=$(date +%s.%N); mm >/dev/null 2>&1; e=$(date +%s.%N)
  best=$(echo "$e - $s" | bc -l | awk -v b="$best" '{print ($1 < b) ? $1 : b}')
done
size=$(du -sb "$out/mmroot" | cut -f1)
pkgs=$(chroot "$out/mmroot" dpkg-query -f '.\n' -W | wc -l)
echo "mmdebstrap --variant=apt --include=python3 bookworm (warm apt cache): ${best}s, rootfs ${size} bytes, ${pkgs} packages" | tee "$out/build-baseline.txt"
rm -rf "$out/mmroot"
