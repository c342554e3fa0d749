package oci

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A layer the cache wrote in this process is linked into layouts without
// being hashed again; one read from disk (an earlier run's) is hashed on
// its first link only; a cache file changed in place (same size, its
// modification time put back) is hashed again and refused.
func TestLinkHashesOncePerFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("file identity is only read on linux; every link hashes")
	}
	dir := t.TempDir()
	mtime := time.Unix(0, 0)
	layout := func(c *LayerCache) (v1.Layer, error) {
		l, err := c.Layer(cacheTree(t, "v"), mtime, Gzip)
		if err != nil {
			t.Fatal(err)
		}
		return l, WriteLayout(t.TempDir(), oneLayerIndex(t, l, "v"), "v:1")
	}
	hashes := func() int64 { return linkHashes.Load() }

	start := hashes()
	c := &LayerCache{Dir: dir}
	for range 3 {
		if _, err := layout(c); err != nil {
			t.Fatal(err)
		}
	}
	if n := hashes() - start; n != 0 {
		t.Errorf("a layer this process wrote was hashed %d times by 3 layouts, want 0", n)
	}

	// As if written by an earlier run: forgotten.
	verifiedBlobs.Clear()
	start = hashes()
	var l v1.Layer
	for range 3 {
		var err error
		if l, err = layout(&LayerCache{Dir: dir}); err != nil {
			t.Fatal(err)
		}
	}
	if n := hashes() - start; n != 1 {
		t.Errorf("a cached layer from disk was hashed %d times by 3 layouts, want 1", n)
	}

	// Changed in place, same size, mtime restored.
	p := l.(blobFile).file()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff, 0xfe}, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if _, err := layout(&LayerCache{Dir: dir}); err == nil || !strings.Contains(err.Error(), "remove it and build again") {
		t.Errorf("a cache file changed in place was linked: %v", err)
	}
}

// An image's cached layers are linked at once: every one reaches the
// layout as the cache's file, and a damaged one among them is refused.
func TestLinkManyLayers(t *testing.T) {
	c := &LayerCache{Dir: t.TempDir()}
	var layers []NamedLayer
	for i := range 6 {
		l, err := c.Layer(cacheTree(t, strings.Repeat("z", i+1)), time.Unix(0, 0), Gzip)
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, NamedLayer{Layer: l, Name: "l"})
	}
	img, err := LayeredImage(layers, ImageConfig{Architecture: "amd64"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := Index([]v1.Image{img}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := WriteLayout(out, idx, "m:1"); err != nil {
		t.Fatal(err)
	}
	for _, nl := range layers {
		d, _ := nl.Layer.Digest()
		bi, err := os.Stat(out + "/blobs/sha256/" + d.Hex)
		if err != nil {
			t.Fatal(err)
		}
		ci, _ := os.Stat(nl.Layer.(blobFile).file())
		if !os.SameFile(bi, ci) {
			t.Errorf("layer %s is not the cache's file linked", d)
		}
	}
	p := layers[3].Layer.(blobFile).file()
	os.WriteFile(p+".x", []byte("damaged"), 0o644)
	os.Rename(p+".x", p)
	if err := WriteLayout(t.TempDir(), idx, "m:1"); err == nil || !strings.Contains(err.Error(), "remove it and build again") {
		t.Errorf("a damaged layer among 6: %v", err)
	}
}
