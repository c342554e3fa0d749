package build

import (
	"context"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/assemble"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/spec"
)

// Index fetches the lock's .debs and builds the image index in memory:
// one image per architecture, in the definition's order, with the default
// layering and compression. It writes nothing but progress lines to log
// (nil for none).
func Index(ctx context.Context, def *spec.Definition, l *spec.Lock, f *pool.Fetcher, log io.Writer) (v1.ImageIndex, []ImageInfo, pool.Stats, error) {
	return IndexWith(ctx, def, l, Options{Fetcher: f, Log: log})
}

// IndexWith is Index with opt's fetcher, log, compression, layer budget
// and layer cache.
func IndexWith(ctx context.Context, def *spec.Definition, l *spec.Lock, opt Options) (v1.ImageIndex, []ImageInfo, pool.Stats, error) {
	comp, err := compression(def, opt)
	if err != nil {
		return nil, nil, pool.Stats{}, err
	}
	lay, err := newLayering(def, comp, opt)
	if err != nil {
		return nil, nil, pool.Stats{}, err
	}
	epoch := Epoch(l)
	key := buildKey(def, l, comp, opt.LayerBudget)
	debs, st, err := fetchDebs(ctx, def, l, opt.Fetcher)
	if err != nil {
		return nil, nil, st, err
	}
	memo, runtimes, release := sharedMemos()
	defer release()
	lay = lay.withRuntimeTrees(ctx, debs, aptMirrors(opt), memo)
	lay.apt, lay.runtimes = aptMirrors(opt), runtimes
	if lay.variants && opt.variantsFollow {
		// The variants' builds (All's, in this process) wait for this
		// build's package layers.
		lay.publish = map[string]func(*runtimeLayerSet){}
		for _, arch := range def.Architectures {
			k, ok := runtimeKeyOf(def, l, arch, lay.apt, lay.packageLayers(), comp, lay.cache)
			if !ok {
				continue
			}
			if f := runtimes.begin(k, len(def.VariantNames())); f != nil {
				lay.publish[arch] = f
				defer f(nil) // the build failed before handing them over
			}
		}
	}
	var images []v1.Image
	var infos []ImageInfo
	for _, arch := range def.Architectures {
		img, info, err := platformImage(ctx, def, l, arch, debs, epoch, key, lay, aptMirrors(opt), memo)
		if err != nil {
			return nil, nil, st, err
		}
		images = append(images, img)
		infos = append(infos, info)
		logImage(opt, RefName(def), info)
	}
	ann := identity(def, l, key)
	maps.Copy(ann, def.Image.Annotations)
	recordOrigins(ann, def, l)
	idx, err := oci.Index(images, ann)
	return idx, infos, st, err
}

// platformImage assembles one architecture's tree from the fetched .debs
// (by SHA-256), splits it into layers (layering) and packages it as an
// image.
func platformImage(ctx context.Context, def *spec.Definition, l *spec.Lock, arch string, fetched map[string][]byte, epoch time.Time, key string, lay layering, apt [2]string, memo *assemble.Packages) (v1.Image, ImageInfo, error) {
	var debs []assemble.Deb
	for _, p := range l.Architectures[arch].Packages {
		debs = append(debs, assemble.Deb{Package: p, Data: fetched[p.SHA256]})
	}
	tree, rep, err := assemble.Assemble(assemble.Input{Def: def, Arch: arch, Debs: debs, Release: l.Release, AptArchive: apt[0], AptSecurity: apt[1], Packages: memo, Context: ctx})
	if err != nil {
		return nil, ImageInfo{}, fmt.Errorf("%s: %w", arch, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, ImageInfo{}, err
	}
	layers, err := lay.layers(ctx, tree, arch, l.Architectures[arch].Packages, epoch)
	if err != nil {
		return nil, ImageInfo{}, fmt.Errorf("%s: %w", arch, err)
	}
	user, err := runUser(tree, def)
	if err != nil {
		return nil, ImageInfo{}, err
	}
	cfg := oci.ImageConfig{
		Architecture: arch,
		User:         user,
		Env:          env(rep, def),
		Entrypoint:   def.Image.Entrypoint,
		Cmd:          def.Image.Cmd,
		WorkingDir:   def.Image.Workdir,
		Labels:       labels(def, l, rep, key),
		Created:      epoch,
		History:      "temper build (lock sha256:" + l.Digest() + ")",
		ExposedPorts: def.Image.Ports,
	}
	img, err := oci.LayeredImage(layers, cfg, labels(def, l, rep, key))
	if err != nil {
		return nil, ImageInfo{}, err
	}
	d, _ := img.Digest()
	info := ImageInfo{Arch: arch, Digest: d.String(), Packages: len(debs), Layers: len(layers), Report: rep}
	for _, nl := range layers {
		size, _ := nl.Layer.Size()
		info.CompressedSize += size
		if u, ok := nl.Layer.(oci.UncompressedSizer); ok {
			info.UncompressedSize += u.UncompressedSize()
		}
	}
	return img, info, nil
}

// identity are the annotations that name an image and its build, on the
// index and (as labels) on each image.
func identity(def *spec.Definition, l *spec.Lock, key string) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":   def.Name,
		"org.opencontainers.image.version": def.Version,
		"org.opencontainers.image.created": Epoch(l).Format(time.RFC3339),
		AnnotationLockDigest:               "sha256:" + l.Digest(),
		AnnotationBuildKey:                 key,
		AnnotationRelease:                  l.Release,
	}
}

// labels are an image's identity, its hardening relaxations and the
// definition's annotations, which win.
func labels(def *spec.Definition, l *spec.Lock, rep *assemble.Report, key string) map[string]string {
	m := identity(def, l, key)
	if len(rep.Relaxed) > 0 {
		m[AnnotationRelaxed] = strings.Join(rep.Relaxed, ",")
	}
	maps.Copy(m, def.Image.Annotations)
	return m
}

// env is the assembled tree's environment with the definition's variables
// replacing or following it, in name order.
func env(rep *assemble.Report, def *spec.Definition) []string {
	out := append([]string(nil), rep.Env...)
	keys := make([]string, 0, len(def.Image.Env))
	for k := range def.Image.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv := k + "=" + def.Image.Env[k]
		replaced := false
		for i, e := range out {
			if strings.HasPrefix(e, k+"=") {
				out[i], replaced = kv, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

// logImage writes one architecture's image's progress line and warnings
// to opt.Log.
func logImage(opt Options, ref string, info ImageInfo) {
	if opt.Log != nil {
		fmt.Fprintf(opt.Log, "%s %s: %d packages, %d layers, %s compressed, %s uncompressed, %s\n", ref, info.Arch, info.Packages, info.Layers, human(info.CompressedSize), human(info.UncompressedSize), info.Digest)
		printWarnings(opt.Log, ref, info.Arch, info.Report)
	}
}

func human(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
