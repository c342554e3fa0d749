package oci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ImageConfig is what an image's config says besides its layer.
type ImageConfig struct {
	// Architecture is the Debian architecture (amd64, arm64, armhf, i386,
	// ppc64el, s390x, riscv64, ...); Platform maps it to the OCI platform.
	Architecture string
	// User is "uid:gid", e.g. "65532:65532".
	User string
	// Env is kept in the order given.
	Env        []string
	Entrypoint []string
	Cmd        []string
	WorkingDir string
	// Labels are the image config's labels.
	Labels map[string]string
	// Created is the image's creation time: the SOURCE_DATE_EPOCH the
	// caller derives from the lock, never the clock. It is passed through
	// Epoch; the zero time means 1970-01-01T00:00:00Z.
	Created time.Time
	// History is the created_by text of the single history entry, e.g.
	// "temper build (lock sha256:...)".
	History string
	// ExposedPorts are "8080/tcp" style ports.
	ExposedPorts []string
	Volumes      []string
}

// debianPlatforms maps Debian architectures to OCI platforms (GOARCH
// names, plus the variant for 32-bit ARM).
var debianPlatforms = map[string]v1.Platform{
	"amd64":    {OS: "linux", Architecture: "amd64"},
	"arm64":    {OS: "linux", Architecture: "arm64"},
	"armhf":    {OS: "linux", Architecture: "arm", Variant: "v7"},
	"armel":    {OS: "linux", Architecture: "arm", Variant: "v5"},
	"i386":     {OS: "linux", Architecture: "386"},
	"ppc64el":  {OS: "linux", Architecture: "ppc64le"},
	"s390x":    {OS: "linux", Architecture: "s390x"},
	"riscv64":  {OS: "linux", Architecture: "riscv64"},
	"mips64el": {OS: "linux", Architecture: "mips64le"},
	"loong64":  {OS: "linux", Architecture: "loong64"},
}

// Platform returns the OCI platform of a Debian architecture, e.g. armhf →
// linux/arm/v7, i386 → linux/386, ppc64el → linux/ppc64le.
func Platform(debianArch string) (v1.Platform, error) {
	p, ok := debianPlatforms[debianArch]
	if !ok {
		return v1.Platform{}, fmt.Errorf("oci: no OCI platform for Debian architecture %q", debianArch)
	}
	return p, nil
}

// AnnotationUncompressedSize, on a layer descriptor, is the size in bytes
// of the layer's tar stream, so that reports need not decompress layers
// to learn what an image takes on disk.
const AnnotationUncompressedSize = "dev.temper.layer.uncompressed-size"

// AnnotationLayerGroup, on a layer descriptor, names what the layer
// holds: the source packages of a package layer ("glibc", "perl",
// "rest: 23 sources") or "temper" for the files the build generates.
const AnnotationLayerGroup = "dev.temper.layer.group"

// NamedLayer is one layer of an image and what it holds (recorded as
// AnnotationLayerGroup and in the layer's history entry; "" for none).
type NamedLayer struct {
	Layer v1.Layer
	Name  string
}

// Image makes a single-layer OCI image (OCI manifest and config media
// types) with that config, and the annotations on its manifest. A layer
// that knows its uncompressed size (Layer's does) has it recorded on its
// descriptor (AnnotationUncompressedSize).
func Image(layer v1.Layer, cfg ImageConfig, annotations map[string]string) (v1.Image, error) {
	if layer == nil {
		return nil, fmt.Errorf("oci: image: nil layer")
	}
	return LayeredImage([]NamedLayer{{Layer: layer}}, cfg, annotations)
}

// LayeredImage makes an OCI image of layers, bottom first, with that
// config and the annotations on its manifest. Each layer gets one
// history entry (cfg.History, followed by the layer's name) and a
// descriptor recording its uncompressed size and name.
func LayeredImage(layers []NamedLayer, cfg ImageConfig, annotations map[string]string) (v1.Image, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("oci: image: no layers")
	}
	plat, err := Platform(cfg.Architecture)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: sourceTime(cfg.Created)}
	var diffIDs []v1.Hash
	var history []v1.History
	var descs []v1.Descriptor
	byDigest := map[v1.Hash]v1.Layer{}
	for n, nl := range layers {
		if nl.Layer == nil {
			return nil, fmt.Errorf("oci: image: layer %d is nil", n)
		}
		desc, diffID, err := layerDescriptor(nl)
		if err != nil {
			return nil, fmt.Errorf("oci: image: layer %d: %w", n, err)
		}
		diffIDs = append(diffIDs, diffID)
		descs = append(descs, desc)
		byDigest[desc.Digest] = nl.Layer
		h := v1.History{Created: created, CreatedBy: cfg.History}
		if nl.Name != "" {
			h.CreatedBy += ": " + nl.Name
		}
		history = append(history, h)
	}
	cf := v1.ConfigFile{
		Architecture: plat.Architecture,
		Variant:      plat.Variant,
		OS:           plat.OS,
		Created:      created,
		History:      history,
		RootFS:       v1.RootFS{Type: "layers", DiffIDs: diffIDs},
		Config: v1.Config{
			User:         cfg.User,
			Env:          cfg.Env,
			Entrypoint:   cfg.Entrypoint,
			Cmd:          cfg.Cmd,
			WorkingDir:   cfg.WorkingDir,
			Labels:       cfg.Labels,
			ExposedPorts: set(cfg.ExposedPorts),
			Volumes:      set(cfg.Volumes),
		},
	}
	rawConfig, err := marshal(cf)
	if err != nil {
		return nil, fmt.Errorf("oci: image: config: %w", err)
	}
	cfgDigest, cfgSize, err := v1.SHA256(bytes.NewReader(rawConfig))
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Size: cfgSize, Digest: cfgDigest},
		Layers:        descs,
		Annotations:   copyMap(annotations),
	}
	rawManifest, err := marshal(m)
	if err != nil {
		return nil, fmt.Errorf("oci: image: manifest: %w", err)
	}
	img, err := partial.CompressedToImage(&image{
		rawConfig:   rawConfig,
		rawManifest: rawManifest,
		layers:      byDigest,
	})
	if err != nil {
		return nil, fmt.Errorf("oci: image: %w", err)
	}
	return img, nil
}

// layerDescriptor is a layer's manifest descriptor and its DiffID.
func layerDescriptor(nl NamedLayer) (v1.Descriptor, v1.Hash, error) {
	l := nl.Layer
	diffID, err := l.DiffID()
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("diffID: %w", err)
	}
	digest, err := l.Digest()
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("digest: %w", err)
	}
	size, err := l.Size()
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("size: %w", err)
	}
	mt, err := l.MediaType()
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, fmt.Errorf("media type: %w", err)
	}
	desc := v1.Descriptor{MediaType: mt, Size: size, Digest: digest}
	ann := map[string]string{}
	if u, ok := l.(UncompressedSizer); ok {
		ann[AnnotationUncompressedSize] = strconv.FormatInt(u.UncompressedSize(), 10)
	}
	if nl.Name != "" {
		ann[AnnotationLayerGroup] = nl.Name
	}
	if len(ann) > 0 {
		desc.Annotations = ann
	}
	return desc, diffID, nil
}

// image is the core partial.CompressedToImage completes.
type image struct {
	rawConfig, rawManifest []byte
	layers                 map[v1.Hash]v1.Layer
}

var _ partial.CompressedImageCore = (*image)(nil)

func (i *image) RawConfigFile() ([]byte, error)      { return i.rawConfig, nil }
func (i *image) RawManifest() ([]byte, error)        { return i.rawManifest, nil }
func (i *image) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

func (i *image) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := i.layers[h]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("oci: image has no layer %s", h)
}

// Index puts one image per platform under one OCI image index, each
// manifest descriptor carrying the platform from its image's config,
// sorted by platform string ("linux/amd64" < "linux/arm/v7" < ...), with
// the annotations on the index. Two images for one platform are an error.
func Index(images []v1.Image, annotations map[string]string) (v1.ImageIndex, error) {
	if len(images) == 0 {
		return nil, fmt.Errorf("oci: index: no images")
	}
	type entry struct {
		key  string
		desc v1.Descriptor
		img  v1.Image
	}
	entries := make([]entry, 0, len(images))
	seen := map[string]bool{}
	for n, img := range images {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("oci: index: image %d: config: %w", n, err)
		}
		plat := cf.Platform()
		if plat == nil || plat.OS == "" || plat.Architecture == "" {
			return nil, fmt.Errorf("oci: index: image %d: config names no os/architecture", n)
		}
		key := plat.String()
		if seen[key] {
			return nil, fmt.Errorf("oci: index: two images for platform %s", key)
		}
		seen[key] = true
		desc, err := partial.Descriptor(img)
		if err != nil {
			return nil, fmt.Errorf("oci: index: image %d (%s): %w", n, key, err)
		}
		desc.Platform = plat
		entries = append(entries, entry{key: key, desc: *desc, img: img})
	}
	sort.Slice(entries, func(a, b int) bool { return entries[a].key < entries[b].key })

	im := v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests:     make([]v1.Descriptor, 0, len(entries)),
		Annotations:   copyMap(annotations),
	}
	byDigest := map[v1.Hash]v1.Image{}
	for _, e := range entries {
		im.Manifests = append(im.Manifests, e.desc)
		byDigest[e.desc.Digest] = e.img
	}
	raw, err := marshal(im)
	if err != nil {
		return nil, fmt.Errorf("oci: index: %w", err)
	}
	digest, size, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return &index{raw: raw, manifest: im, digest: digest, size: size, images: byDigest}, nil
}

// index is an OCI image index held in memory.
type index struct {
	raw      []byte
	manifest v1.IndexManifest
	digest   v1.Hash
	size     int64
	images   map[v1.Hash]v1.Image
}

var _ v1.ImageIndex = (*index)(nil)

func (x *index) MediaType() (types.MediaType, error) { return types.OCIImageIndex, nil }
func (x *index) Digest() (v1.Hash, error)            { return x.digest, nil }
func (x *index) Size() (int64, error)                { return x.size, nil }
func (x *index) RawManifest() ([]byte, error)        { return x.raw, nil }

func (x *index) IndexManifest() (*v1.IndexManifest, error) {
	return v1.ParseIndexManifest(bytes.NewReader(x.raw)) // a copy the caller may change
}

func (x *index) Image(h v1.Hash) (v1.Image, error) {
	if img, ok := x.images[h]; ok {
		return img, nil
	}
	return nil, fmt.Errorf("oci: index %s has no image %s", x.digest, h)
}

func (x *index) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	return nil, fmt.Errorf("oci: index %s has no child index %s", x.digest, h)
}

// ImageFor returns the image for a Debian architecture from an index, e.g.
// to write one platform's tarball.
func ImageFor(idx v1.ImageIndex, debianArch string) (v1.Image, error) {
	want, err := Platform(debianArch)
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("oci: index manifest: %w", err)
	}
	var have []string
	for _, d := range im.Manifests {
		if d.Platform == nil {
			continue
		}
		if d.Platform.OS == want.OS && d.Platform.Architecture == want.Architecture && d.Platform.Variant == want.Variant {
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, fmt.Errorf("oci: index: image for %s: %w", want.String(), err)
			}
			return img, nil
		}
		have = append(have, d.Platform.String())
	}
	return nil, fmt.Errorf("oci: index has no image for %s (%s); it has %s", debianArch, want.String(), strings.Join(have, ", "))
}

// marshal is json.Marshal without HTML escaping, so labels such as
// "a<b" read as written. encoding/json sorts map keys: the output is
// deterministic.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func set(xs []string) map[string]struct{} {
	if len(xs) == 0 {
		return nil
	}
	m := make(map[string]struct{}, len(xs))
	for _, x := range xs {
		m[x] = struct{}{}
	}
	return m
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
