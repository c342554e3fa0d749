#!/usr/bin/env bash
# A real libc6 security update of the catalog's bookworm images (issue 16):
# every bookworm definition (examples/catalog, runtime images, both
# architectures) copied with glibc's packages pinned to OLD (default the
# bookworm-security version 2.36-9+deb12u7), locked against the archive
# and built into one layout; then pinned to NEW (default the current
# 2.36-9+deb12u14), locked again and built into another. Reports the bytes
# a push must send (blobs of the new layout the old one lacks) by kind,
# against the floor: the new glibc layers plus every manifest, config and
# index. Needs network for the lock (indexes) and the old .debs.
# Usage: bench/layers-update.sh [OLD NEW]. Figures go into docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:-2.36-9+deb12u7} new=${2:-2.36-9+deb12u14}
out=bench/out/layers-update
rm -rf "$out" && mkdir -p "$out"
go build -o "$out/temper" ./cmd/temper
python3 - "$out/cat" "$old" <<'PY'
import glob, os, shutil, sys, yaml
dst, ver = sys.argv[1], sys.argv[2]
for f in glob.glob("examples/catalog/*/*-bookworm.yaml"):
    d = yaml.safe_load(open(f))
    d.pop("variants", None)  # the runtime images
    glibc = ["libc6"] + (["libc-bin", "locales", "libc-l10n"] if "postgresql" in f else [])
    pkgs = [p for p in d["packages"] if p.split("=")[0] not in glibc]
    d["packages"] = pkgs + [f"{p}={ver}" for p in glibc]
    src = os.path.dirname(f)
    os.makedirs(os.path.join(dst, os.path.basename(src)), exist_ok=True)
    for x in os.listdir(src):
        if not x.endswith(".yaml"):
            (shutil.copytree if os.path.isdir(os.path.join(src, x)) else shutil.copy)(os.path.join(src, x), os.path.join(dst, os.path.basename(src), x))
    yaml.safe_dump(d, open(os.path.join(dst, os.path.basename(src), os.path.basename(f)), "w"), sort_keys=False)
PY
for state in old new; do
  [ "$state" = new ] && sed -i "s/=$old\$/=$new/" "$out"/cat/*/*-bookworm.yaml
  "$out/temper" lock "$out/cat" >"$out/lock-$state.log" 2>&1 || { tail "$out/lock-$state.log"; exit 2; }
  echo "$state: glibc packages in the locks: $(grep -h -A1 -E 'name: (libc6|libc-bin|locales|libc-l10n)$' "$out"/cat/*/*.lock.yaml | grep version | sort | uniq -c | xargs)"
  "$out/temper" build "$out/cat" -o "$out/layout-$state" >"$out/build-$state.log" 2>&1 || { tail "$out/build-$state.log"; exit 2; }
done
python3 - "$out/layout-old" "$out/layout-new" <<'PY'
import json, os, sys
from collections import defaultdict
def blobs(l):
    d = os.path.join(l, "blobs", "sha256")
    return {f: os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)}
old, new = blobs(sys.argv[1]), blobs(sys.argv[2])
L = sys.argv[2]
rd = lambda h: json.load(open(os.path.join(L, "blobs", "sha256", h)))
kind = {}
for m in json.load(open(os.path.join(L, "index.json")))["manifests"]:
    ih = m["digest"].split(":")[1]; kind[ih] = "index"
    for d in rd(ih)["manifests"]:
        mh = d["digest"].split(":")[1]; kind[mh] = "manifest"; man = rd(mh)
        kind[man["config"]["digest"].split(":")[1]] = "config"
        for l in man["layers"]:
            g = l.get("annotations", {}).get("dev.temper.layer.group", "")
            kind[l["digest"].split(":")[1]] = "layer " + g.split(":")[0]
push = {h: s for h, s in new.items() if h not in old}
agg = defaultdict(lambda: [0, 0])
for h, s in push.items():
    agg[kind.get(h, "?")][0] += 1; agg[kind.get(h, "?")][1] += s
for k, (n, s) in sorted(agg.items()):
    print(f"  {k:20s} {n:4d} blobs {s/1e6:9.3f} MB")
tot = sum(push.values())
floor = sum(s for h, s in push.items() if kind.get(h) in ("layer glibc", "manifest", "config", "index"))
print(f"push {tot/1e6:.2f} MB = {tot/floor:.3f} x (new glibc layers + manifests, configs, indexes: {floor/1e6:.2f} MB); "
      f"the new layout holds {sum(new.values())/1e6:.1f} MB")
PY
