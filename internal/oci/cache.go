package oci

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/temper-dev/temper/internal/leftover"
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

// LayerKey is the cache key of the layer LayerWith(tree, mtime, c)
// builds: the hex SHA-256 of the compression and the layer's DiffID and
// tar size (TarDigest). The tar stream is everything the compressor reads
// (each entry's path, kind, mode, owner, link target and content, and the
// mtime), so equal keys give equal layers. Hashing the tar stream costs
// one SHA-256 of the content, the same pass that gives the DiffID, so a
// layer that is built needs no second one.
func LayerKey(tree *rootfs.FS, mtime time.Time, c Compression) (string, error) {
	key, _, err := layerKey(context.Background(), tree, mtime, c)
	return key, err
}

func layerKey(ctx context.Context, tree *rootfs.FS, mtime time.Time, c Compression) (string, *tarSum, error) {
	diffID, size, err := tarDigest(ctx, tree, mtime)
	if err != nil {
		return "", nil, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "temper-layer 2\n%s\n%s\n%d\n", c, diffID, size)
	return hex.EncodeToString(h.Sum(nil)), &tarSum{diffID: diffID, size: size}, nil
}

// Layer returns the layer LayerWith(tree, mtime, comp) would build, built
// at most once per key. With Dir set, a layer it builds is compressed
// straight into its file there (its compressed bytes are never held in
// memory) and returned as the file, so that a layout can link the file
// instead of copying it (WriteLayout).
func (c *LayerCache) Layer(tree *rootfs.FS, mtime time.Time, comp Compression) (v1.Layer, error) {
	return c.LayerContext(context.Background(), tree, mtime, comp)
}

// LayerContext is Layer that stops, with ctx's error, once ctx is done:
// while summing or compressing the tree (between entries and chunks of
// content) and while waiting for another build of the same layer. A
// cancelled build is not cached.
func (c *LayerCache) LayerContext(ctx context.Context, tree *rootfs.FS, mtime time.Time, comp Compression) (v1.Layer, error) {
	key, sum, err := layerKey(ctx, tree, mtime, comp)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("oci: layer key: %w", err)
	}
	c.mu.Lock()
	if c.inflight == nil {
		c.inflight = map[string]*layerCall{}
	}
	if call, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("oci: layer: %w", ctx.Err())
		}
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
		if c.Dir != "" {
			call.layer, call.err = c.build(ctx, key, tree, mtime, comp, sum)
		} else {
			call.layer, call.err = compress(ctx, tree, mtime, comp, sum)
		}
		if call.err == nil {
			c.built.Add(1)
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
	cachedFiles.Store(m.Digest, blob)
	return &fileLayer{path: blob, meta: m}, nil
}

// build compresses the layer straight into the cache's file for key (its
// bytes are never held in memory), then writes its metadata, each
// atomically, and returns the layer read from there.
func (c *LayerCache) build(ctx context.Context, key string, tree *rootfs.FS, mtime time.Time, comp Compression, sum *tarSum) (v1.Layer, error) {
	blob, _ := c.paths(key)
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return nil, fmt.Errorf("oci: layer cache: %w", err)
	}
	// Temporary files an interrupted run left here (unlocked) go now;
	// they are never read: load looks only at final names.
	leftover.Clean(filepath.Dir(blob), ".tmp-")
	var m layerMeta
	err := writeAtomic(blob, func(w io.Writer) error {
		bw, ok := blobBuffers.get()
		if !ok {
			bw = bufio.NewWriterSize(nil, 1<<20)
		}
		bw.Reset(w)
		defer func() { bw.Reset(nil); blobBuffers.put(bw) }()
		var err error
		if m, err = compressTo(ctx, bw, tree, mtime, comp, sum); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("oci: layer cache: %w", err)
	}
	return c.finish(key, m)
}

// blobBuffers are the write buffers of the files build writes: the
// compressor writes its header, each compressed block and its trailer
// separately, gathered here into fewer writes.
var blobBuffers = freeList[*bufio.Writer]{max: 4}

// finish writes the metadata of the blob just written for key and returns
// the layer read from there.
func (c *LayerCache) finish(key string, m layerMeta) (v1.Layer, error) {
	blob, meta := c.paths(key)
	if fi, err := os.Stat(blob); err == nil {
		verifiedBlobs.Add(blob, fi, m.Digest) // written from the bytes the digest was computed from
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(meta, func(w io.Writer) error { _, err := w.Write(raw); return err }); err != nil {
		return nil, fmt.Errorf("oci: layer cache: %w", err)
	}
	cachedFiles.Store(m.Digest, blob)
	return &fileLayer{path: blob, meta: m}, nil
}

// writeAtomic writes path through a leftover temporary file (locked while
// written, renamed into place before it is closed, so leftover.Clean never
// takes a live writer's file for a leftover).
func writeAtomic(path string, write func(io.Writer) error) error {
	tmp, err := leftover.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		tmp.Close()
		return err
	}
	return tmp.Close()
}

// fileLayer is a cached layer read from disk when its bytes are needed.
type fileLayer struct {
	path string
	meta layerMeta
}

var (
	_ v1.Layer          = (*fileLayer)(nil)
	_ UncompressedSizer = (*fileLayer)(nil)
	_ blobFile          = (*fileLayer)(nil)
)

// blobFile is a layer whose compressed bytes are a file on disk.
type blobFile interface{ file() string }

// cachedFiles maps the digest of every layer a LayerCache in this process
// found or wrote on disk to its file, for WriteLayout to link (the images
// wrap their layers, so the layer itself does not reach the layout).
var cachedFiles sync.Map // v1.Hash → string

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.meta.Digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.meta.DiffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.meta.Size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return l.meta.MediaType, nil }
func (l *fileLayer) UncompressedSize() int64             { return l.meta.UncompressedSize }
func (l *fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }

// file is where the layer's blob is, for WriteLayout to link.
func (l *fileLayer) file() string { return l.path }

// Uncompressed streams the tar from the file (the blob is not read
// into memory).
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	c := Gzip
	if l.meta.MediaType == types.OCILayerZStd {
		c = Zstd
	}
	zr, err := c.decompressor(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("oci: layer %s: %s: %w", l.meta.Digest, l.path, err)
	}
	return &fileReader{ReadCloser: zr, f: f}, nil
}

// fileReader is a decompressor reading a file; Close closes both.
type fileReader struct {
	io.ReadCloser
	f *os.File
}

func (r *fileReader) Close() error {
	err := r.ReadCloser.Close()
	if ferr := r.f.Close(); err == nil {
		err = ferr
	}
	return err
}

// link writes one blob that is the file src (a layer in the layer cache)
// as a hard link to it, checked against the digest as blob checks what it
// copies, and synced; where src cannot be linked (another file system, a
// cache file that is not world-readable), it copies. The cache's files are
// never changed in place (they are replaced by rename), so the link keeps
// the bytes it was checked with. The temporary name is locked while it
// exists, as internal/leftover's are.
func (w *blobWriter) link(h v1.Hash, size int64, src string, open func() (io.ReadCloser, error)) error {
	if w.isDone(h) {
		return nil
	}
	if h.Algorithm != "sha256" || len(h.Hex) != 64 {
		return fmt.Errorf("blob %s: only sha256 digests are supported", h)
	}
	final := filepath.Join(w.dir, h.Hex)
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() && fi.Size() == size {
		w.markDone(h, false)
		return nil
	}
	srcInfo, err := os.Stat(src)
	if err != nil || srcInfo.Mode().Perm()&0o444 != 0o444 {
		return w.blob(h, size, open)
	}
	// A file this process wrote or hashed, unchanged since, is not hashed
	// again (its hard link changes only its change time, recorded anew).
	known := verifiedBlobs.Has(src, srcInfo, h)
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(w.dir, fmt.Sprintf(".tmp-%s-link-%x", h.Hex[:12], rnd))
	if err := os.Link(src, tmp); err != nil {
		return w.blob(h, size, open)
	}
	defer os.Remove(tmp) // no-op after the rename
	f, err := os.Open(tmp)
	if err != nil {
		return w.blob(h, size, open)
	}
	defer f.Close()
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) // best effort, as leftover.CreateTemp
	before, err := f.Stat()
	if err != nil {
		return fmt.Errorf("blob %s: %w", h, err)
	}
	if known && sameFile(srcInfo, before) && before.Size() == size {
		err = f.Sync()
	} else {
		known = false
		linkHashes.Add(1)
		sum := sha256.New()
		var n int64
		n, err = io.Copy(sum, f)
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			return fmt.Errorf("blob %s: %w", h, err)
		}
		if got := hex.EncodeToString(sum.Sum(nil)); got != h.Hex || n != size {
			return &CorruptLayerError{Digest: h, Path: src, msg: fmt.Sprintf("blob %s: the layer cache's %s has digest sha256:%s and size %d, want size %d; remove it and build again", h, src, got, n, size)}
		}
	}
	if err != nil {
		return fmt.Errorf("blob %s: %w", h, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return w.blob(h, size, open) // the name was taken away: copy
	}
	// The rename changed the change time only: the file is remembered as
	// it is now if nothing else changed while it was hashed.
	if after, err := f.Stat(); err == nil && sameContent(before, after) {
		verifiedBlobs.Add(src, after, h)
	}
	w.markDone(h, true)
	return nil
}
