#!/usr/bin/env bash
# Catalog-aware layers (docs/layers.md), against same-run baselines: the
# whole catalog (examples/catalog: every definition, its dev variants,
# every architecture: 88 images) built from the same locks and the same
# warm .deb cache, each into a fresh OCI layout, by
#   - one-layer: the working tree built with -tags temper_onelayer (every
#     image one layer, as before the layers, from today's assembler: the
#     commits before the layers cannot read the catalog's variants:);
#   - prev: temper at PREV (default: the commit before runtimes and their
#     variants were paired, each image split alone);
#   - new: the working tree.
# Reports:
#   - unique compressed bytes in each layout (every blob once) and layers,
#     for the whole catalog and for the 56 runtime images alone;
#   - how many of a runtime's package layers its variants hold (same
#     digests, same place), and that every image of a runtime without
#     variants is the same in prev and new but for the build key;
#   - wall time: one-layer; prev; new with a cold layer cache; new with the
#     layer cache warm; a second cold build must give the same digests
#     (parallel gzip is deterministic);
#   - a simulated libc6 security update: the bytes a push of the whole
#     catalog must send when every glibc package changes (the layers that
#     hold glibc's packages, and every affected image's config, manifest and
#     index), against the one-layer catalog (every affected image's layer);
#   - with FILES=1, that every image's files (its layers applied in order)
#     are the same in prev and new (slow: ~5 minutes);
#   - the grouping rules compared on the locks (go run ./bench/layersim;
#     LAYERSIM=0 skips it: it takes minutes).
# Usage: bench/layers.sh [PREV]. Figures go into docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
prev=${1:-59330cf8da5bfbaa32e8bc1acccb690c41fede0d}
out=bench/out/layers
rm -rf "$out" && mkdir -p "$out"
git worktree remove --force "$out/prev-src" 2>/dev/null || true
git worktree add -f --detach "$out/prev-src" "$prev" >/dev/null
trap 'git worktree remove --force "$out/prev-src" 2>/dev/null || true' EXIT
(cd "$out/prev-src" && go build -o ../temper-prev ./cmd/temper)
go build -tags temper_onelayer -o "$out/temper-one" ./cmd/temper
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
rm -rf "$out/cache/layers"
run one-layer "$out/temper-one" "$out/layout-one"
rm -rf "$out/cache/layers"
run prev "$out/temper-prev" "$out/layout-prev"
rm -rf "$out/cache/layers"
run new-cold "$out/temper-new" "$out/layout-new"
run new-warm "$out/temper-new" "$out/layout-warm"
rm -rf "$out/cache/layers"
run new-cold-again "$out/temper-new" "$out/layout-again"
echo "(uptime after the builds: $(uptime | sed 's/.*load/load/'))"
digests "$out/layout-new" >"$out/new.txt"
digests "$out/layout-warm" >"$out/warm.txt"
digests "$out/layout-again" >"$out/again.txt"
if cmp -s "$out/new.txt" "$out/again.txt" && cmp -s "$out/new.txt" "$out/warm.txt"; then
  echo "deterministic: $(wc -l <"$out/new.txt") indexes equal across two cold builds and the warm one"
else
  echo "NOT DETERMINISTIC: compare $out/new.txt $out/again.txt $out/warm.txt"; exit 1
fi

echo "== layouts and the libc6 update"
python3 - "$out/layout-one" "$out/layout-prev" "$out/layout-new" <<'PY'
import glob, json, os, sys
import yaml

def load(layout):
    blobs = os.path.join(layout, "blobs", "sha256")
    def read(d):
        return json.load(open(os.path.join(blobs, d.split(":")[1])))
    images = []
    for m in json.load(open(os.path.join(layout, "index.json")))["manifests"]:
        ref = m["annotations"]["org.opencontainers.image.ref.name"]
        idx = read(m["digest"])
        variant = idx.get("annotations", {}).get("dev.temper.variant", "")
        for d in idx["manifests"]:
            man = read(d["digest"])
            images.append(dict(ref=ref, arch=d["platform"]["architecture"], variant=variant, msize=d["size"],
                               csize=man["config"]["size"], layers=man["layers"], isize=m["size"],
                               config=read(man["config"]["digest"])))
    return images

def unique(images):
    seen = {}
    for im in images:
        for l in im["layers"]:
            seen[l["digest"]] = l["size"]
    return seen

one, prev, new = (load(p) for p in sys.argv[1:4])
runtimes = lambda ims: [im for im in ims if not im["variant"]]
print(f"images: {len(one)} one-layer, {len(prev)} prev, {len(new)} new ({len(runtimes(new))} runtimes, {len(new) - len(runtimes(new))} variants)")
for label, pick in (("whole catalog", lambda x: x), ("runtimes only", runtimes)):
    uo = unique(pick(one))
    print(f"{label}: one layer: {len(uo)} layers, unique {sum(uo.values())/1e6:.1f} MB")
    for name, ims in (("prev (each image alone)", prev), ("new (runtimes and variants paired)", new)):
        u = unique(pick(ims))
        shared = {d for d in u if sum(1 for im in pick(ims) for l in im["layers"] if l["digest"] == d) > 1}
        print(f"  {name}: {len(u)} layers ({len(shared)} used by several images, {sum(u[d] for d in shared)/1e6:.1f} MB), "
              f"unique {sum(u.values())/1e6:.1f} MB = {sum(u.values())/sum(uo.values()):.1%} of one layer, "
              f"max {max(len(im['layers']) for im in pick(ims))} layers per image")

# A variant holds its runtime's package layers (same digests, at the bottom).
by = {(im["ref"], im["arch"]): im for im in new}
held = total = whole = nv = 0
own_bytes = 0
for im in new:
    if not im["variant"]:
        continue
    rt = by[(im["ref"][: -len(im["variant"]) - 1], im["arch"])]
    rp = [l["digest"] for l in rt["layers"][:-1]]
    vp = [l["digest"] for l in im["layers"]]
    k = sum(1 for a, b in zip(rp, vp) if a == b)
    held, total, nv, whole = held + k, total + len(rp), nv + 1, whole + (k == len(rp))
    own_bytes += sum(l["size"] for l in im["layers"] if l["digest"] not in rp)
print(f"variants: {held} of their runtimes' {total} package layers held at the same place with the same digest; "
      f"{whole} of {nv} variant images hold all of them; a variant pulled after its runtime fetches {own_bytes/nv/1e6:.1f} MB of layers on average")

# Runtimes without variants: the same image in prev and new but for the
# build key (the format version is in it).
pv = {(im["ref"], im["arch"]): im for im in prev}
with_variants = {im["ref"][: -len(im["variant"]) - 1] for im in new if im["variant"]}
def strip(c):
    c = json.loads(json.dumps(c))
    c.get("config", {}).get("Labels", {}).pop("dev.temper.build.key", None)
    return c
same = diff = 0
for im in new:
    if im["variant"] or im["ref"] in with_variants:
        continue
    p = pv[(im["ref"], im["arch"])]
    if p["layers"] == im["layers"] and strip(p["config"]) == strip(im["config"]):
        same += 1
    else:
        diff += 1
        print("  CHANGED:", im["ref"], im["arch"])
print(f"runtimes without variants: {same} of {same + diff} images identical to prev (layers, config) but for the build key label")

# libc6 update: which images hold glibc (the locks say), glibc in its own
# layer or in a rest layer.
with_libc = set()
for f in glob.glob("examples/catalog/*/*.lock.yaml"):
    base = os.path.basename(f)[: -len(".lock.yaml")]
    d, variant = f.replace(".lock.yaml", ".yaml"), ""
    if not os.path.exists(d):  # NAME.VARIANT.lock.yaml
        base, variant = base.rsplit(".", 1)
        d = os.path.join(os.path.dirname(f), base + ".yaml")
    l = yaml.safe_load(open(f))
    dd = yaml.safe_load(open(d))
    if any(p["name"] == "libc6" for a in l["architectures"].values() for p in a["packages"]):
        with_libc.add(f'{dd["name"]}:{dd["version"]}' + (f"-{variant}" if variant else ""))
aff_new, aff_base = [im for im in new if im["ref"] in with_libc], [im for im in one if im["ref"] in with_libc]
glibc_layers, other_layers, meta = {}, {}, 0
for im in aff_new:
    groups = [l.get("annotations", {}).get("dev.temper.layer.group", "") for l in im["layers"]]
    for l, g in zip(im["layers"], groups):
        if g == "glibc":
            glibc_layers[l["digest"]] = l["size"]
    if "glibc" not in groups:  # glibc is in the rest layer: that layer changes too
        for l, g in zip(im["layers"], groups):
            if g.startswith("rest"):
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

if [ "${FILES:-0}" = 1 ]; then
  echo "== files: every image of prev and new, flattened, has the same entries (kind, mode, owner, link, content)"
  python3 - "$out/layout-prev" "$out/layout-new" <<'PY'
import hashlib, json, os, sys, tarfile
def images(layout):
    blobs = os.path.join(layout, "blobs", "sha256")
    read = lambda d: json.load(open(os.path.join(blobs, d.split(":")[1])))
    for m in json.load(open(os.path.join(layout, "index.json")))["manifests"]:
        ref = m["annotations"]["org.opencontainers.image.ref.name"]
        for d in read(m["digest"])["manifests"]:
            yield (ref, d["platform"]["architecture"]), [os.path.join(blobs, l["digest"].split(":")[1]) for l in read(d["digest"])["layers"]]
def flat(layers):
    out = {}
    for f in layers:
        with tarfile.open(f, "r:*") as t:
            for e in t:
                data = t.extractfile(e).read() if e.isfile() else b""
                out[e.name.rstrip("/")] = (e.type, e.mode, e.uid, e.gid, e.linkname, hashlib.sha256(data).hexdigest())
    return out
prev = dict(images(sys.argv[1]))
bad = 0
for k, layers in sorted(images(sys.argv[2])):
    a, b = flat(prev[k]), flat(layers)
    diff = sorted(p for p in a.keys() | b.keys() if a.get(p) != b.get(p))
    if diff:
        bad += 1
        print("  DIFFERENT:", *k, diff[:5])
print(f"files: {len(prev) - bad} of {len(prev)} images have the same files in prev and new")
PY
fi
if [ "${LAYERSIM:-1}" != 0 ]; then
  echo "== grouping rules on the locks (.deb sizes as the proxy)"
  go run ./bench/layersim
fi
