#!/usr/bin/env bash
# temper check of the 300-definition synthetic catalog (bench/gencatalog)
# against the traditional way, measured in the same run:
#
#   traditional: in a bookworm chroot made by mmdebstrap (--variant=apt),
#                `apt-get update && apt list --upgradable`, once per image;
#   temper:      one `temper check` of the whole catalog.
#
# Scenarios: (1) nothing changed since the locks were written; (2) one
# release's indices changed: every bookworm lock gets a different
# bookworm-updates InRelease digest (a fresh fake one per run, so nothing is
# remembered between runs), which forces the slow path for 150 definitions:
# load bookworm for amd64 and arm64 from the warm cache, re-resolve, diff.
#
# The mirror is read from this machine's apt sources at run time. Needs
# root (mmdebstrap, chroot). Results: bench/out/check-*.txt
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
cache="$PWD/$out/cache"
go build -o "$out/temper" ./cmd/temper
T="$out/temper"

uris=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'; grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' || true)
archive=$(echo "$uris" | grep -v -- '-security' | head -1)
security=$(echo "$uris" | grep -- '-security' | head -1)
[ -n "$archive" ] && [ -n "$security" ] || { echo "no Debian archive/security archive in apt sources" >&2; exit 1; }

# --- the traditional way ---------------------------------------------------
chroot_dir="$out/chroot-bookworm"
if [ ! -x "$chroot_dir/usr/bin/apt-get" ]; then
  rm -rf "$chroot_dir"
  mmdebstrap --variant=apt --skip=cleanup/apt/lists bookworm "$chroot_dir" \
    "deb $archive bookworm main" "deb $archive bookworm-updates main" "deb $security bookworm-security main" >/dev/null 2>&1
fi
cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf" 2>/dev/null || true
apt_once() {
  local s e
  s=$(date +%s.%N)
  chroot "$chroot_dir" sh -c 'apt-get update -q >/dev/null && apt list --upgradable 2>/dev/null >/dev/null'
  e=$(date +%s.%N)
  echo "$e - $s" | bc
}
apt_once >/dev/null   # lists as any running container has them
apt_warm=$(apt_once)  # nothing changed: InRelease "Hit" + apt list
echo "apt-get update && apt list --upgradable (chroot, lists present, nothing changed): $apt_warm s per image" | tee "$out/check-baseline.txt"
rm -rf "$chroot_dir"/var/lib/apt/lists/*
apt_cold=$(apt_once)  # indices downloaded again
echo "apt-get update && apt list --upgradable (chroot, empty lists): $apt_cold s per image" | tee -a "$out/check-baseline.txt"

# --- temper ----------------------------------------------------------------
go run ./bench/gencatalog -n 300 -out "$out/catalog" >/dev/null
"$T" --cache "$cache" lock "$out/catalog" >/dev/null
set +e
"$T" --cache "$cache" check "$out/catalog" >/dev/null; st=$?   # warm, and remembers this state
set -e
echo "first check exit status: $st" | tee "$out/check-temper.txt"
tm() { local s e; s=$(date +%s.%N); set +e; "$@" >/dev/null; set -e; e=$(date +%s.%N); echo "$e - $s" | bc; }
for i in 1 2 3 4 5; do
  echo "unchanged: $(tm "$T" --cache "$cache" check "$out/catalog") s (300 definitions)"
done | tee -a "$out/check-temper.txt"

backup="$out/catalog-locks.bak"
rm -rf "$backup"; mkdir -p "$backup"; cp "$out"/catalog/*.lock.yaml "$backup/"
for i in 1 2 3; do
  fake=$(printf 'bench%d-%s' "$i" "$(date +%s%N)" | sha256sum | cut -d' ' -f1)
  for f in "$out"/catalog/*-bookworm.lock.yaml; do
    sed -i -E "s/(name: bookworm-updates, inrelease_sha256: )[0-9a-f]{64}/\1$fake/" "$f"
  done
  echo "one release changed (150 bookworm locks re-resolved): $(tm "$T" --cache "$cache" check "$out/catalog") s"
  cp "$backup"/*.lock.yaml "$out/catalog/"
done | tee -a "$out/check-temper.txt"
