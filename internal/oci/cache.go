package oci

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/temper-dev/temper/internal/rootfs"
)

// LayerCache builds each distinct layer once: layers are keyed by their
// inputs (LayerKey: every entry of the tree, the mtime and the
// compression), so the images of a catalog that share a layer compress
// it once, and a later build finds it on disk. With Dir set, layers are
// kept there (blob and metadata, written atomically) and read back
// lazily; without, they are kept in memory for the cache's lifetime. It is
// safe for concurrent use: builds of one layer at the same time wait for
// the first.
type LayerCache struct {
	Dir string

	mu       sync.Mutex
	inflight map[string]*layerCall
	hits     atomic.Int64
	built    atomic.Int64
}

type layerCall struct {
	done  chan struct{}
	layer v1.Layer
	err   error
}

// CacheStats counts the layers a cache served and built.
type CacheStats struct{ Hits, Built int64 }

// Stats returns how many layers were found and how many were built.
func (c *LayerCache) Stats() CacheStats {
	return CacheStats{Hits: c.hits.Load(), Built: c.built.Load()}
}

// LayerKey is the hex SHA-256 of everything LayerWith writes: the
// compression, the mtime and each entry (path, kind, mode, owner,
// target, content) in walk order. Equal keys give equal layers.
func LayerKey(tree *rootfs.FS, mtime time.Time, c Compression) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "temper-layer 1\n%s\n%d\n", c, sourceTime(mtime).Unix())
	var buf [8]byte
	err := tree.Walk(func(e *rootfs.Entry) error {
		if e.Path == "" {
			return nil
		}
		fmt.Fprintf(h, "%s\x00%d\x00%o\x00%d\x00%d\x00%s\x00", e.Path, e.Kind, uint32(e.Mode), e.UID, e.GID, e.Target)
		binary.BigEndian.PutUint64(buf[:], uint64(len(e.Data)))
		h.Write(buf[:])
		d := sha256.Sum256(e.Data)
		h.Write(d[:])
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Layer returns the layer LayerWith(tree, mtime, comp) would build, built
// at most once per key.
func (c *LayerCache) Layer(tree *rootfs.FS, mtime time.Time, comp Compression) (v1.Layer, error) {
	key, err := LayerKey(tree, mtime, comp)
	if err != nil {
		return nil, fmt.Errorf("oci: layer key: %w", err)
	}
	c.mu.Lock()
	if c.inflight == nil {
		c.inflight = map[string]*layerCall{}
	}
	if call, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		<-call.done
		if call.err == nil {
			c.hits.Add(1)
		}
		return call.layer, call.err
	}
	call := &layerCall{done: make(chan struct{})}
	c.inflight[key] = call
	c.mu.Unlock()

	call.layer, call.err = c.load(key)
	if call.layer != nil {
		c.hits.Add(1)
	} else {
		call.layer, call.err = LayerWith(tree, mtime, comp)
		if call.err == nil {
			c.built.Add(1)
			call.err = c.store(key, call.layer)
		}
	}
	if call.err != nil || c.Dir != "" {
		// Failures are retried; disk-backed layers are read back from
		// disk, so memory holds none of their bytes.
		c.mu.Lock()
		delete(c.inflight, key)
		c.mu.Unlock()
	}
	close(call.done)
	return call.layer, call.err
}

// layerMeta is what the cache keeps beside a layer's blob.
type layerMeta struct {
	MediaType        types.MediaType `json:"mediaType"`
	Digest           v1.Hash         `json:"digest"`
	DiffID           v1.Hash         `json:"diffID"`
	Size             int64           `json:"size"`
	UncompressedSize int64           `json:"uncompressedSize"`
}

func (c *LayerCache) paths(key string) (blob, meta string) {
	d := filepath.Join(c.Dir, key[:2])
	return filepath.Join(d, key+".blob"), filepath.Join(d, key+".json")
}

// load returns the cached layer for key, or nil when there is none.
func (c *LayerCache) load(key string) (v1.Layer, error) {
	if c.Dir == "" {
		return nil, nil
	}
	blob, meta := c.paths(key)
	raw, err := os.ReadFile(meta)
	if err != nil {
		return nil, nil
	}
	var m layerMeta
	if json.Unmarshal(raw, &m) != nil {
		return nil, nil
	}
	if fi, err := os.Stat(blob); err != nil || fi.Size() != m.Size {
		return nil, nil
	}
	return &fileLayer{path: blob, meta: m}, nil
}

// store writes the layer's blob, then its metadata, each atomically.
func (c *LayerCache) store(key string, l v1.Layer) error {
	if c.Dir == "" {
		return nil
	}
	blob, meta := c.paths(key)
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return fmt.Errorf("oci: layer cache: %w", err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := writeAtomic(blob, func(w io.Writer) error { _, err := io.Copy(w, rc); return err }); err != nil {
		return fmt.Errorf("oci: layer cache: %w", err)
	}
	m := layerMeta{}
	m.MediaType, _ = l.MediaType()
	m.Digest, _ = l.Digest()
	m.DiffID, _ = l.DiffID()
	m.Size, _ = l.Size()
	if u, ok := l.(UncompressedSizer); ok {
		m.UncompressedSize = u.UncompressedSize()
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := writeAtomic(meta, func(w io.Writer) error { _, err := w.Write(raw); return err }); err != nil {
		return fmt.Errorf("oci: layer cache: %w", err)
	}
	return nil
}

func writeAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// fileLayer is a cached layer read from disk when its bytes are needed.
type fileLayer struct {
	path string
	meta layerMeta
}

var (
	_ v1.Layer          = (*fileLayer)(nil)
	_ UncompressedSizer = (*fileLayer)(nil)
)

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.meta.Digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.meta.DiffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.meta.Size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return l.meta.MediaType, nil }
func (l *fileLayer) UncompressedSize() int64             { return l.meta.UncompressedSize }
func (l *fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }

func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	b, err := os.ReadFile(l.path)
	if err != nil {
		return nil, err
	}
	c := Gzip
	if l.meta.MediaType == types.OCILayerZStd {
		c = Zstd
	}
	return c.decompressor(b)
}
