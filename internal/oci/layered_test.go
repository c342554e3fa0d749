package oci

import (
	"archive/tar"
	"bytes"
	"io"
	"math/rand"
	"runtime"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/temper-dev/temper/internal/rootfs"
)

// bigTree holds several MiB of compressible, non-repeating data, so that
// parallel gzip runs many blocks.
func bigTree(t *testing.T) *rootfs.FS {
	t.Helper()
	fs := rootfs.New()
	r := rand.New(rand.NewSource(7))
	words := []string{"libc", "so", "debian", "temper", "layer", "usr", "lib", "\x00\x01", "ELF"}
	for i := range 12 {
		var b bytes.Buffer
		for b.Len() < 700<<10 {
			b.WriteString(words[r.Intn(len(words))])
			b.WriteByte(byte(r.Intn(256)))
		}
		if err := fs.Put(&rootfs.Entry{Path: "usr/lib/f" + string(rune('a'+i)), Kind: rootfs.File, Mode: 0o644, Data: b.Bytes()}); err != nil {
			t.Fatal(err)
		}
	}
	return fs
}

// Parallel gzip's output depends on its block size only: the same tree
// gives the same bytes however many blocks run at once.
func TestParallelGzipDeterministic(t *testing.T) {
	tr := bigTree(t)
	mtime := time.Unix(1700000000, 0)
	var digests []string
	for _, procs := range []int{1, 2, 8} {
		old := gomaxprocs(procs)
		l, err := LayerWith(tr, mtime, Gzip)
		gomaxprocs(old)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := l.Digest()
		digests = append(digests, d.String())
		rc, _ := l.Compressed()
		b, _ := io.ReadAll(rc)
		if b[0] != 0x1f || b[1] != 0x8b || !bytes.Equal(b[4:8], []byte{0, 0, 0, 0}) || b[9] != gzipOS {
			t.Fatalf("gzip header % x: want zero mtime, OS 255", b[:10])
		}
	}
	if digests[0] != digests[1] || digests[1] != digests[2] {
		t.Fatalf("parallel gzip differs with GOMAXPROCS 1, 2, 8: %v", digests)
	}
}

func TestZstdLayer(t *testing.T) {
	tr := bigTree(t)
	a, err := LayerWith(tr, time.Time{}, Zstd)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LayerWith(tr, time.Time{}, Zstd)
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Fatalf("zstd layers differ: %s %s", da, db)
	}
	if mt, _ := a.MediaType(); mt != types.OCILayerZStd {
		t.Fatalf("media type %s", mt)
	}
	g, _ := LayerWith(tr, time.Time{}, Gzip)
	gd, _ := g.DiffID()
	zd, _ := a.DiffID()
	if gd != zd {
		t.Fatalf("the tar stream differs between gzip and zstd: %s %s", gd, zd)
	}
	rc, err := a.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	tr2 := tar.NewReader(rc)
	for {
		if _, err := tr2.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 14 { // usr, usr/lib, 12 files
		t.Fatalf("%d entries in the zstd layer, want 14", n)
	}
	if _, err := ParseCompression("lz4"); err == nil {
		t.Fatal("lz4 accepted")
	}
}

func TestLayeredImage(t *testing.T) {
	var layers []NamedLayer
	for i, name := range []string{"glibc", "rest: 3 sources", "temper"} {
		fs := rootfs.New()
		fs.Put(&rootfs.Entry{Path: "f" + string(rune('0'+i)), Kind: rootfs.File, Mode: 0o644, Data: []byte(name)})
		l, err := Layer(fs, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, NamedLayer{Layer: l, Name: name})
	}
	img, err := LayeredImage(layers, ImageConfig{Architecture: "amd64", History: "temper build"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	cf, _ := img.ConfigFile()
	if len(m.Layers) != 3 || len(cf.RootFS.DiffIDs) != 3 || len(cf.History) != 3 {
		t.Fatalf("%d layers, %d diffIDs, %d history entries", len(m.Layers), len(cf.RootFS.DiffIDs), len(cf.History))
	}
	for i, d := range m.Layers {
		if d.Annotations[AnnotationLayerGroup] != layers[i].Name || cf.History[i].CreatedBy != "temper build: "+layers[i].Name {
			t.Fatalf("layer %d: %v %q", i, d.Annotations, cf.History[i].CreatedBy)
		}
		want, _ := layers[i].Layer.DiffID()
		if cf.RootFS.DiffIDs[i] != want {
			t.Fatalf("layer %d out of order", i)
		}
	}
	ls, err := img.Layers()
	if err != nil || len(ls) != 3 {
		t.Fatalf("layers: %v %d", err, len(ls))
	}
	if err := Validate(mustIndex(t, img)); err != nil {
		t.Fatal(err)
	}
}

func gomaxprocs(n int) int { return runtime.GOMAXPROCS(n) }

func mustIndex(t *testing.T, img v1.Image) v1.ImageIndex {
	t.Helper()
	idx, err := Index([]v1.Image{img}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}
