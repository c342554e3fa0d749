package oci

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/leftover"
	"github.com/temper-dev/temper/internal/rootfs"
)

func cacheTree(t *testing.T, content string) *rootfs.FS {
	t.Helper()
	tr := rootfs.New()
	for _, e := range []*rootfs.Entry{
		{Path: "usr", Kind: rootfs.Dir, Mode: 0o755 | os.ModeDir},
		{Path: "usr/lib", Kind: rootfs.Dir, Mode: 0o755 | os.ModeDir},
		{Path: "usr/lib/a.so", Kind: rootfs.File, Mode: 0o644, Data: bytes.Repeat([]byte(content), 5000)},
		{Path: "usr/lib/b.so", Kind: rootfs.Hardlink, Target: "usr/lib/a.so"},
		{Path: "usr/lib/c", Kind: rootfs.Symlink, Target: "a.so", Mode: 0o777 | os.ModeSymlink},
	} {
		if err := tr.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func compressedBytes(t *testing.T, l v1.Layer) []byte {
	t.Helper()
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLayerCacheOnDisk: a layer the disk cache builds is LayerWith's byte
// for byte (digest, DiffID, sizes); a second cache on the same directory
// builds nothing; a different tree, mtime or compression is another key;
// a layout links the cached blob and checks it.
func TestLayerCacheOnDisk(t *testing.T) {
	dir := t.TempDir()
	mtime := time.Unix(0, 0)
	for _, comp := range []Compression{Gzip, Zstd} {
		want, err := LayerWith(cacheTree(t, "x"), mtime, comp)
		if err != nil {
			t.Fatal(err)
		}
		var first v1.Layer
		for round := range 2 {
			c := &LayerCache{Dir: dir}
			l, err := c.Layer(cacheTree(t, "x"), mtime, comp)
			if err != nil {
				t.Fatal(err)
			}
			if st := c.Stats(); (round == 0 && st.Built != 1) || (round == 1 && st != (CacheStats{Hits: 1})) {
				t.Fatalf("%s round %d: stats %+v", comp, round, st)
			}
			for _, f := range []func(v1.Layer) (v1.Hash, error){v1.Layer.Digest, v1.Layer.DiffID} {
				g, _ := f(l)
				w, _ := f(want)
				if g != w {
					t.Fatalf("%s round %d: %s, want %s", comp, round, g, w)
				}
			}
			if !bytes.Equal(compressedBytes(t, l), compressedBytes(t, want)) {
				t.Fatalf("%s round %d: cached bytes differ from LayerWith's", comp, round)
			}
			if l.(UncompressedSizer).UncompressedSize() != want.(UncompressedSizer).UncompressedSize() {
				t.Fatalf("%s: uncompressed size differs", comp)
			}
			first = l
		}
		_, diffSize, _ := TarDigest(cacheTree(t, "x"), mtime)
		if diffSize != want.(UncompressedSizer).UncompressedSize() {
			t.Fatalf("TarDigest size %d, want %d", diffSize, want.(UncompressedSizer).UncompressedSize())
		}
		_ = first
	}
	k1, _ := LayerKey(cacheTree(t, "x"), mtime, Gzip)
	for name, k := range map[string]func() (string, error){
		"content":     func() (string, error) { return LayerKey(cacheTree(t, "y"), mtime, Gzip) },
		"mtime":       func() (string, error) { return LayerKey(cacheTree(t, "x"), time.Unix(1, 0), Gzip) },
		"compression": func() (string, error) { return LayerKey(cacheTree(t, "x"), mtime, Zstd) },
	} {
		if k2, _ := k(); k2 == k1 {
			t.Errorf("another %s, same key %s", name, k1)
		}
	}

	// The layout links the cache's file.
	c := &LayerCache{Dir: dir}
	l, err := c.Layer(cacheTree(t, "x"), mtime, Gzip)
	if err != nil {
		t.Fatal(err)
	}
	idx := oneLayerIndex(t, l, "x")
	out := t.TempDir()
	if err := WriteLayout(out, idx, "x:1"); err != nil {
		t.Fatal(err)
	}
	d, _ := l.Digest()
	blob := filepath.Join(out, "blobs", "sha256", d.Hex)
	bi, err := os.Stat(blob)
	if err != nil {
		t.Fatal(err)
	}
	ci, _ := os.Stat(l.(blobFile).file())
	if !os.SameFile(bi, ci) || bi.Mode().Perm() != 0o644 {
		t.Fatalf("layout blob %s is not the cache's file linked, world-readable (%v)", blob, bi.Mode())
	}

	// A damaged cache file is refused, naming it.
	other := t.TempDir()
	os.WriteFile(l.(blobFile).file()+".x", []byte("damaged"), 0o644)
	os.Rename(l.(blobFile).file()+".x", l.(blobFile).file())
	if err := WriteLayout(other, idx, "x:1"); err == nil || !bytes.Contains([]byte(err.Error()), []byte("remove it and build again")) {
		t.Fatalf("damaged cache file: %v", err)
	}
}

// TestLayerCacheCleansLeftovers: a temporary file an interrupted run left
// in the cache's directory for the key (unlocked, half written) is never
// taken for the layer (the layer is built, equal to LayerWith's) and is
// removed by that write; a live writer's (locked) temporary file is kept.
func TestLayerCacheCleansLeftovers(t *testing.T) {
	dir := t.TempDir()
	mtime := time.Unix(0, 0)
	key, err := LayerKey(cacheTree(t, "x"), mtime, Gzip)
	if err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, key[:2])
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := []string{filepath.Join(sub, ".tmp-111"), filepath.Join(sub, ".tmp-222")}
	for _, p := range stale {
		if err := os.WriteFile(p, []byte("half written"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	live, err := leftover.CreateTemp(sub, ".tmp-live-*")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()

	c := &LayerCache{Dir: dir}
	l, err := c.Layer(cacheTree(t, "x"), mtime, Gzip)
	if err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Built != 1 || st.Hits != 0 {
		t.Fatalf("stats %+v, want one built", st)
	}
	want, err := LayerWith(cacheTree(t, "x"), mtime, Gzip)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(compressedBytes(t, l), compressedBytes(t, want)) {
		t.Fatal("cached bytes differ from LayerWith's")
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	if _, err := os.Stat(live.Name()); err != nil {
		t.Errorf("live temporary file removed: %v", err)
	}
	ents, _ := os.ReadDir(sub)
	for _, e := range ents {
		if n := e.Name(); n != key+".blob" && n != key+".json" && n != filepath.Base(live.Name()) {
			t.Errorf("unexpected file %s left in the cache", n)
		}
	}
}

// A cancelled context stops a layer build (summing and compressing look
// at it between entries and content chunks) with the context's error; the
// cancelled build is not cached, and the same layer then builds.
func TestLayerContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	mtime := time.Unix(0, 0)
	if _, err := LayerContext(ctx, cacheTree(t, "x"), mtime, Gzip); !errors.Is(err, context.Canceled) {
		t.Fatalf("LayerContext: %v, want context.Canceled", err)
	}
	c := &LayerCache{Dir: t.TempDir()}
	if _, err := c.LayerContext(ctx, cacheTree(t, "x"), mtime, Zstd); !errors.Is(err, context.Canceled) {
		t.Fatalf("LayerCache.LayerContext: %v, want context.Canceled", err)
	}
	if st := c.Stats(); st != (CacheStats{}) {
		t.Fatalf("stats after a cancelled build: %+v", st)
	}
	// Cancelled between chunks of one large file: a content of several
	// chunks, the context cancelled by the writer after the first.
	big := rootfs.New()
	big.Put(&rootfs.Entry{Path: "big", Kind: rootfs.File, Mode: 0o644, Data: make([]byte, 4*ctxChunk)})
	ctx2, cancel2 := context.WithCancel(context.Background())
	w := &cancelAfter{n: ctxChunk, cancel: cancel2}
	if err := writeTar(ctx2, w, big, mtime); !errors.Is(err, context.Canceled) {
		t.Fatalf("writeTar: %v, want context.Canceled", err)
	}
	if w.seen > 2*ctxChunk {
		t.Errorf("wrote %d bytes after the cancel at %d", w.seen, ctxChunk)
	}
	l, err := c.LayerContext(context.Background(), cacheTree(t, "x"), mtime, Zstd)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := LayerWith(cacheTree(t, "x"), mtime, Zstd)
	if !bytes.Equal(compressedBytes(t, l), compressedBytes(t, want)) {
		t.Fatal("layer after a cancelled build differs from LayerWith's")
	}
}

type cancelAfter struct {
	n, seen int
	cancel  func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.seen += len(p)
	if c.seen >= c.n {
		c.cancel()
	}
	return len(p), nil
}

// oneLayerIndex is an amd64 index of one image holding the layer l alone.
func oneLayerIndex(t *testing.T, l v1.Layer, name string) v1.ImageIndex {
	t.Helper()
	img, err := LayeredImage([]NamedLayer{{Layer: l, Name: name}}, ImageConfig{Architecture: "amd64"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := Index([]v1.Image{img}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}
