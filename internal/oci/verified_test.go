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
		img, err := LayeredImage([]NamedLayer{{Layer: l, Name: "v"}}, ImageConfig{Architecture: "amd64"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		idx, err := Index([]v1.Image{img}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return l, WriteLayout(t.TempDir(), idx, "v:1")
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
	verifiedBlobs.mu.Lock()
	clear(verifiedBlobs.m)
	verifiedBlobs.mu.Unlock()
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
