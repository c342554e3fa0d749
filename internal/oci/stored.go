package oci

// An image index kept as its bytes (the build memo, internal/build): the
// index, each platform's manifest and config as they were written, and
// the layers from the layer cache, so that the index is written into
// another layout without building anything.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// CorruptLayerError is WriteLayout's error for a layer-cache file whose
// bytes do not match the digest it is cached under.
type CorruptLayerError struct {
	Digest v1.Hash
	Path   string
	msg    string
}

func (e *CorruptLayerError) Error() string { return e.msg }

// KeyOf is the cache key of the layer with digest h when this process
// found or wrote it in c (on disk): the key the layer is cached under.
func (c *LayerCache) KeyOf(h v1.Hash) (string, bool) {
	p, ok := cachedFiles.Load(h)
	if !ok || c.Dir == "" {
		return "", false
	}
	path := p.(string)
	key := strings.TrimSuffix(filepath.Base(path), ".blob")
	if len(key) != 64 || !strings.HasSuffix(path, ".blob") {
		return "", false
	}
	if blob, _ := c.paths(key); blob != path {
		return "", false
	}
	return key, true
}

// Cached is the layer cached under key, when it is there and is the layer
// d describes (digest, size, media type); its bytes are checked when
// WriteLayout links it.
func (c *LayerCache) Cached(key string, d v1.Descriptor) (v1.Layer, bool) {
	if len(key) != 64 {
		return nil, false
	}
	l, _ := c.load(key)
	f, ok := l.(*fileLayer)
	if !ok || f.meta.Digest != d.Digest || f.meta.Size != d.Size || f.meta.MediaType != d.MediaType {
		return nil, false
	}
	return f, true
}

// Forget removes the layer cached under key (a file found corrupt), so
// that the next build of it builds it again.
func (c *LayerCache) Forget(key string) {
	if c.Dir == "" || len(key) != 64 {
		return
	}
	blob, meta := c.paths(key)
	os.Remove(meta)
	os.Remove(blob)
}

// StoredImage is one platform's image as bytes: its manifest and config.
type StoredImage struct{ Manifest, Config []byte }

// StoredIndex is the image index whose manifest is raw, its images'
// manifests and configs from images and their layers from layer (by
// descriptor). Every digest is checked against the bytes: each manifest
// the index names must be among images, each config must hash to the
// manifest's config digest, and layer must give every layer.
func StoredIndex(raw []byte, images []StoredImage, layer func(v1.Descriptor) (v1.Layer, error)) (v1.ImageIndex, error) {
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	byDigest := map[v1.Hash]StoredImage{}
	for _, s := range images {
		byDigest[sha256Of(s.Manifest)] = s
	}
	idx := &storedIndex{raw: raw, manifest: im, images: map[v1.Hash]v1.Image{}}
	for _, d := range im.Manifests {
		s, ok := byDigest[d.Digest]
		if !ok || d.Size != int64(len(s.Manifest)) || !d.MediaType.IsImage() {
			return nil, fmt.Errorf("manifest %s: not stored", d.Digest)
		}
		img, err := storedImageOf(s, layer)
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %w", d.Digest, err)
		}
		idx.images[d.Digest] = img
	}
	return idx, nil
}

func sha256Of(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// storedImageOf is s as a v1.Image, its layers checked to be there.
func storedImageOf(s StoredImage, layer func(v1.Descriptor) (v1.Layer, error)) (v1.Image, error) {
	m, err := v1.ParseManifest(bytes.NewReader(s.Manifest))
	if err != nil {
		return nil, err
	}
	if sha256Of(s.Config) != m.Config.Digest || m.Config.Size != int64(len(s.Config)) {
		return nil, fmt.Errorf("config %s: stored bytes do not match", m.Config.Digest)
	}
	core := &storedImage{StoredImage: s, mt: m.MediaType, layers: map[v1.Hash]v1.Layer{}}
	for _, d := range m.Layers {
		l, err := layer(d)
		if err != nil {
			return nil, err
		}
		core.layers[d.Digest] = l
	}
	return partial.CompressedToImage(core)
}

// storedImage is the partial.CompressedImageCore of a StoredImage.
type storedImage struct {
	StoredImage
	mt     types.MediaType
	layers map[v1.Hash]v1.Layer
}

func (s *storedImage) RawConfigFile() ([]byte, error)      { return s.Config, nil }
func (s *storedImage) MediaType() (types.MediaType, error) { return s.mt, nil }
func (s *storedImage) RawManifest() ([]byte, error)        { return s.Manifest, nil }

func (s *storedImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := s.layers[h]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("layer %s: not stored", h)
}

// storedIndex is the v1.ImageIndex of StoredIndex.
type storedIndex struct {
	raw      []byte
	manifest *v1.IndexManifest
	images   map[v1.Hash]v1.Image
}

func (x *storedIndex) MediaType() (types.MediaType, error) {
	if x.manifest.MediaType != "" {
		return x.manifest.MediaType, nil
	}
	return types.OCIImageIndex, nil
}
func (x *storedIndex) Digest() (v1.Hash, error)                  { return sha256Of(x.raw), nil }
func (x *storedIndex) Size() (int64, error)                      { return int64(len(x.raw)), nil }
func (x *storedIndex) IndexManifest() (*v1.IndexManifest, error) { return x.manifest.DeepCopy(), nil }
func (x *storedIndex) RawManifest() ([]byte, error)              { return x.raw, nil }

func (x *storedIndex) Image(h v1.Hash) (v1.Image, error) {
	if img, ok := x.images[h]; ok {
		return img, nil
	}
	return nil, fmt.Errorf("image %s: not in the index", h)
}

func (x *storedIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	return nil, fmt.Errorf("index %s: not in the index", h)
}
