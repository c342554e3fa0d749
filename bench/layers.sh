#!/usr/bin/env bash
# Catalog-aware layers (docs/layers.md), against a same-run baseline: the
# whole catalog (examples/catalog, every definition and architecture)
# built with temper at BASE (default: the commit before the layers, one
# layer per image) and with the working tree, each into a fresh OCI layout
# from the same locks and the same warm .deb cache.
# Reports:
#   - unique compressed bytes in the layout (every blob once) and layers;
#   - wall time: baseline; new with a cold layer cache; new with the layer
#     cache warm; a second cold build must give the same digests (parallel
#     gzip is deterministic);
#   - a simulated libc6 security update: the bytes a push of the whole
#     catalog must send when every glibc package changes (the layers that
#     hold glibc's packages, and every affected image's config, manifest and
#     index), against the one-layer catalog (every affected image's layer);
#   - the grouping rules compared on the locks (go run ./bench/layersim).
# Usage: bench/layers.sh [BASE]. Figures go into docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-$(git log --format=%H -1 -- internal/layers | xargs -I{} git rev-parse {}~1)}
out=bench/out/layers
rm -rf "$out" && mkdir -p "$out"
git worktree remove --force "$out/base-src" 2>/dev/null || true
git worktree add -f --detach "$out/base-src" "$base" >/dev/null
trap 'git worktree remove --force "$out/base-src" 2>/dev/null || true' EXIT
(cd "$out/base-src" && go build -o ../temper-base ./cmd/temper)
go build -o "$out/temper-new" ./cmd/temper
# The .deb cache is shared; the layer cache is this run's own.
src=${TEMPER_CACHE_DIR:-$HOME/.cache/temper}
mkdir -p "$out/cache"
for d in refs sha256; do ln -sfn "$src/$d" "$out/cache/$d"; done

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.1f'; }
run() { # name binary layout
  local s e
  s=$(now)
  "$2" --cache "$out/cache" build examples/catalog -o "$3" --offline >"$out/$1.log" 2>&1 ||
    { echo "$1 failed:"; tail -20 "$out/$1.log"; exit 2; }
  e=$(now)
  echo "$1: $(secs "$s" "$e") s"
}
digests() {
  python3 -c '
import json, sys
for m in sorted(json.load(open(sys.argv[1]))["manifests"], key=lambda m: m["annotations"]["org.opencontainers.image.ref.name"]):
    print(m["annotations"]["org.opencontainers.image.ref.name"], m["digest"])' "$1/index.json"
}

echo "== builds (warm .deb cache; uptime: $(uptime | sed 's/.*load/load/'))"
run baseline "$out/temper-base" "$out/layout-base"
rm -rf "$out/cache/layers"
run new-cold "$out/temper-new" "$out/layout-new"
run new-warm "$out/temper-new" "$out/layout-warm"
rm -rf "$out/cache/layers"
run new-cold-again "$out/temper-new" "$out/layout-again"
digests "$out/layout-new" >"$out/new.txt"
digests "$out/layout-warm" >"$out/warm.txt"
digests "$out/layout-again" >"$out/again.txt"
if cmp -s "$out/new.txt" "$out/again.txt" && cmp -s "$out/new.txt" "$out/warm.txt"; then
  echo "deterministic: $(wc -l <"$out/new.txt") indexes equal across two cold builds and the warm one"
else
  echo "NOT DETERMINISTIC: compare $out/new.txt $out/again.txt $out/warm.txt"; exit 1
fi

echo "== layouts and the libc6 update"
python3 - "$out/layout-base" "$out/layout-new" <<'PY'
import json, os, sys

def load(layout):
    blobs = os.path.join(layout, "blobs", "sha256")
    def read(d):
        return json.load(open(os.path.join(blobs, d.split(":")[1])))
    images = []  # (ref, arch, manifest digest, manifest size, config size, layers, index size)
    for m in json.load(open(os.path.join(layout, "index.json")))["manifests"]:
        ref = m["annotations"]["org.opencontainers.image.ref.name"]
        idx = read(m["digest"])
        for d in idx["manifests"]:
            man = read(d["digest"])
            images.append(dict(ref=ref, arch=d["platform"]["architecture"], msize=d["size"],
                               csize=man["config"]["size"], layers=man["layers"], isize=m["size"],
                               config=read(man["config"]["digest"])))
    return images

def unique(images):
    seen = {}
    for im in images:
        for l in im["layers"]:
            seen[l["digest"]] = l["size"]
    return seen

base, new = load(sys.argv[1]), load(sys.argv[2])
ub, un = unique(base), unique(new)
tb = sum(l["size"] for im in base for l in im["layers"])
tn = sum(l["size"] for im in new for l in im["layers"])
print(f"images: {len(base)} (baseline), {len(new)} (layers)")
print(f"baseline: {len(ub)} layers, unique {sum(ub.values())/1e6:.1f} MB (summed over images {tb/1e6:.1f} MB)")
print(f"layers:   {len(un)} layers, unique {sum(un.values())/1e6:.1f} MB (summed over images {tn/1e6:.1f} MB), "
      f"max {max(len(im['layers']) for im in new)} layers per image")
print(f"unique bytes, layers / one layer: {sum(un.values())/sum(ub.values()):.1%}")
shared = {d for d in un if sum(1 for im in new for l in im['layers'] if l['digest'] == d) > 1}
print(f"layers used by more than one image: {len(shared)}, {sum(un[d] for d in shared)/1e6:.1f} MB")

# libc6 update: which images hold glibc (status.d is in each image; the
# config's history names each layer's group); glibc in its own layer or in
# a rest layer.
def holds_glibc(im):
    # the lock is not in the layout: the catalog's locks say which images hold libc6
    return im["ref"] in with_libc
import glob, yaml
with_libc = set()
for f in glob.glob("examples/catalog/*/*.lock.yaml"):
    l = yaml.safe_load(open(f))
    d = yaml.safe_load(open(f.replace(".lock.yaml", ".yaml")))
    if any(p["name"] == "libc6" for a in l["architectures"].values() for p in a["packages"]):
        with_libc.add(f'{d["name"]}:{d["version"]}')
aff_new, aff_base = [im for im in new if holds_glibc(im)], [im for im in base if holds_glibc(im)]
glibc_layers, other_layers, meta = {}, {}, 0
for im in aff_new:
    groups = [l.get("annotations", {}).get("dev.temper.layer.group", "") for l in im["layers"]]
    for l, g in zip(im["layers"], groups):
        if g == "glibc":
            glibc_layers[l["digest"]] = l["size"]
    if "glibc" not in groups:  # glibc is in the rest layer: that layer changes too
        rest = [l for l, g in zip(im["layers"], groups) if g.startswith("rest")]
        for l in rest:
            other_layers[l["digest"]] = l["size"]
    meta += im["msize"] + im["csize"]
meta += sum({im["ref"]: im["isize"] for im in aff_new}.values())
new_push = sum(glibc_layers.values()) + sum(other_layers.values()) + meta
floor = sum(glibc_layers.values()) + meta
base_push = sum({l["digest"]: l["size"] for im in aff_base for l in im["layers"]}.values())
print(f"libc6 update: {len(aff_new)} images hold glibc; {len(glibc_layers)} glibc layers {sum(glibc_layers.values())/1e6:.2f} MB, "
      f"rest layers holding glibc {sum(other_layers.values())/1e6:.2f} MB, configs+manifests+indexes {meta/1e3:.0f} kB")
print(f"libc6 update: push {new_push/1e6:.2f} MB = {new_push/floor:.2f} x (new glibc layers + manifests); one-layer catalog: {base_push/1e6:.1f} MB ({base_push/new_push:.0f}x more)")
PY

echo "== grouping rules on the locks (.deb sizes as the proxy)"
go run ./bench/layersim
