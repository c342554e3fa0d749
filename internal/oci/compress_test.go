package oci

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/pgzip"

	"github.com/temper-dev/temper/internal/rootfs"
)

// freshGzip is the gzip compressor as it was before writers were pooled:
// a new pgzip writer per layer, configured as compressor configures its
// pooled ones. Reused writers must write exactly its bytes; the
// benchmarks measure it beside the pooled path.
func freshGzip(out io.Writer) (io.WriteCloser, error) {
	zw, err := pgzip.NewWriterLevel(out, CompressionLevel)
	if err != nil {
		return nil, err
	}
	if err := zw.SetConcurrency(pgzipBlock, max(2, runtime.GOMAXPROCS(0))); err != nil {
		return nil, err
	}
	zw.Header = pgzip.Header{OS: gzipOS, ModTime: time.Unix(0, 0)}
	return zw, nil
}

// mixedTree is a tree of about size bytes of content, made from seed:
// files of 2-20 KB, half text-like, a quarter binary-like (small values
// with some noise), a quarter random, and a few larger than a gzip block.
func mixedTree(tb testing.TB, seed int64, size int) *rootfs.FS {
	r := rand.New(rand.NewSource(seed))
	f := rootfs.New()
	for i, total := 0, 0; total < size; i++ {
		n := min(2000+r.Intn(18000), size-total)
		if i%97 == 5 {
			n = min(pgzipBlock+r.Intn(pgzipBlock), size-total)
		}
		data := mixedContent(r, n, i%4)
		total += n
		p := fmt.Sprintf("usr/lib/pkg%03d/sub%d/file%05d", i/50, i%5, i)
		if err := f.Put(&rootfs.Entry{Path: p, Kind: rootfs.File, Mode: 0o644, Data: data}); err != nil {
			tb.Fatal(err)
		}
	}
	return f
}

// mixedTar is the tar stream of mixedTree(seed, size).
func mixedTar(tb testing.TB, seed int64, size int) []byte {
	var b bytes.Buffer
	if err := writeTar(context.Background(), &b, mixedTree(tb, seed, size), epoch); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// compressCase is one stream to compress and the SHA-256 and size of
// its gzip and zstd layers as temper wrote them with a new writer per
// layer (pgzip v1.3.0 at CompressionLevel in 1 MiB blocks; zstd of
// klauspost/compress v1.20.4 at SpeedDefault), before writers were
// pooled.
type compressCase struct {
	name             string
	data             []byte
	gzipSHA, zstdSHA string
	gzipLen, zstdLen int
}

func compressCases(t *testing.T) []compressCase {
	big := mixedTar(t, 3, 5<<20)
	return []compressCase{
		{"empty", nil,
			"18cc39fce6d400d61490af9d0ee22138f8e8b0050ae6ef1ba78dc6ca38d611ca",
			"429ed24358dddc6eff5fcf1c9a514fb568dcba9e383d8c065353b0446064bc1f", 25, 13},
		{"one small file", mixedTar(t, 1, 100),
			"68da717ccabfe4a926fe66317d129298c62a253854bd4d4c3935e8cfad3e0583",
			"8648a51ffcd4c01eadf529e5ab0521636cf883f14da3f39349a984d05ff7ef88", 259, 228},
		{"300 KiB", mixedTar(t, 2, 300<<10),
			"226282c7be2c981853e01712bc49d2b5f93cf5f9200507dd1fe09bbe4cb17471",
			"06db93adf0c1c2ce45d842cf84ce326e2fb2bbbd89e80e3864afc1dff0628326", 122293, 121180},
		{"one block exactly", big[:pgzipBlock],
			"c841791678ef84be3e7a760dd3d874aa7018e11517f0016adafa26bc03535d08",
			"2177022000fb1d92a414a8a71910ab21952d793aa5d1ca73324d64459ebd4553", 326716, 326403},
		{"two blocks exactly", big[:2*pgzipBlock],
			"86c934f10756951569431f50fa967b8145e8f9de0ab49ae7ff97f8d4483a2d3d",
			"fb7245b0aa253cf28135da101da8d6d7a683b047e3c054453b3e307cfe397594", 918937, 887749},
		{"5 MiB", big,
			"4edb438195c9a9afe10acfe7111ccabb381357125754d817e5b3613b514ed73f",
			"155d3126566fb1b9c34bdf07f8d9f79626b1c0067442a5c66c409e3c1db9fa30", 3674649, 3660084},
	}
}

// compressBytes compresses data with a writer from newWriter, in pieces
// as writeTar writes.
func compressBytes(t *testing.T, newWriter func(io.Writer) (io.WriteCloser, error), data []byte) []byte {
	t.Helper()
	b, err := compressStream(newWriter, data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func compressStream(newWriter func(io.Writer) (io.WriteCloser, error), data []byte) ([]byte, error) {
	var out bytes.Buffer
	zw, err := newWriter(&out)
	if err != nil {
		return nil, err
	}
	for p := data; len(p) > 0; {
		n := min(len(p), 100_000)
		if _, err := zw.Write(p[:n]); err != nil {
			zw.Close()
			return nil, err
		}
		p = p[n:]
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// failingWriter fails every write once n bytes went through.
type failingWriter struct{ n int }

var errFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		w.n = 0
		return 0, errFull
	}
	w.n -= len(p)
	return len(p), nil
}

// failCompression compresses data into a writer that fails after n
// bytes and wants the failure reported, by Write or by Close.
func failCompression(t *testing.T, c Compression, data []byte, n int) {
	t.Helper()
	dropped := compressorsDropped.Load()
	zw, err := c.compressor(&failingWriter{n: n})
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for p := data; len(p) > 0 && werr == nil; {
		k := min(len(p), 100_000)
		_, werr = zw.Write(p[:k])
		p = p[k:]
	}
	cerr := zw.Close()
	if !errors.Is(werr, errFull) && !errors.Is(cerr, errFull) {
		t.Fatalf("%s into a failing writer: write %v, close %v; want %v", c, werr, cerr, errFull)
	}
	if got := compressorsDropped.Load() - dropped; got != 1 {
		t.Fatalf("%s: %d writers dropped after a failed write, want 1", c, got)
	}
	if _, err := zw.Write([]byte("x")); err == nil {
		t.Fatalf("%s: write after Close succeeded", c)
	}
}

// Pooled compressors write the bytes a new writer per layer wrote, in
// any order of sizes, after a failed write, and whatever GOMAXPROCS.
func TestCompressorReuse(t *testing.T) {
	cases := compressCases(t)
	check := func(t *testing.T, c Compression, k compressCase, b []byte) {
		t.Helper()
		want, wantLen := k.gzipSHA, k.gzipLen
		if c == Zstd {
			want, wantLen = k.zstdSHA, k.zstdLen
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != want || len(b) != wantLen {
			t.Errorf("%s %s: sha256 %s, %d bytes; want %s, %d bytes", c, k.name, got, len(b), want, wantLen)
		}
	}
	// The golden values are a new pgzip writer's, configured as before.
	for _, k := range cases {
		check(t, Gzip, k, compressBytes(t, freshGzip, k.data))
	}
	big := cases[len(cases)-1].data
	procs := gomaxprocs(0)
	defer gomaxprocs(procs)
	for _, c := range []Compression{Gzip, Zstd} {
		order := []int{5, 0, 1, 2, 3, 4, 5, 2, 0, 3, 1, 4, 4, 5}
		for i, n := range order {
			switch i {
			case 3:
				failCompression(t, c, big, 500_000) // mid-stream
			case 7:
				failCompression(t, c, big, 5) // in the header
			case 10:
				gomaxprocs(1)
			case 12:
				gomaxprocs(8)
			}
			check(t, c, cases[n], compressBytes(t, c.compressor, cases[n].data))
		}
		gomaxprocs(procs)
	}
	// Several layers at once, each from its own pooled writer.
	var wg sync.WaitGroup
	for _, c := range []Compression{Gzip, Zstd} {
		for _, k := range cases {
			wg.Go(func() {
				b, err := compressStream(c.compressor, k.data)
				if err != nil {
					t.Error(err)
					return
				}
				check(t, c, k, b)
			})
		}
	}
	wg.Wait()
}

// benchLayers are the tar streams of n different 8 MiB layers.
func benchLayers(b *testing.B, n int) [][]byte {
	var tars [][]byte
	for i := range n {
		tars = append(tars, mixedTar(b, int64(100+i), 8<<20))
	}
	return tars
}

// BenchmarkCompressLayer compresses one 8 MiB layer per op (four
// different ones in turn) as LayerCache.build does: the tar stream into
// the compressor, its output through a 1 MiB write buffer (to
// io.Discard) and hashed. "fresh" is the way before writers and buffers
// were pooled (a new pgzip writer and bufio.Writer per layer), "pooled"
// the way now; B/op is the heap allocated per layer. Run with
// -benchtime 40x for the 40 layers of a catalog-sized sample.
func BenchmarkCompressLayer(b *testing.B) {
	tars := benchLayers(b, 4)
	run := func(b *testing.B, compress func(tar []byte) error) {
		b.SetBytes(int64(len(tars[0])))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := compress(tars[i%len(tars)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	}
	write := func(zw io.WriteCloser, tar []byte) error {
		for p := tar; len(p) > 0; {
			n := min(len(p), ctxChunk)
			if _, err := zw.Write(p[:n]); err != nil {
				return err
			}
			p = p[n:]
		}
		return zw.Close()
	}
	b.Run("fresh", func(b *testing.B) {
		run(b, func(tar []byte) error {
			bw := bufio.NewWriterSize(io.Discard, 1<<20)
			zw, err := freshGzip(io.MultiWriter(bw, sha256.New(), &countWriter{}))
			if err != nil {
				return err
			}
			if err := write(zw, tar); err != nil {
				return err
			}
			return bw.Flush()
		})
	})
	pooled := func(tar []byte) error {
		bw, ok := blobBuffers.get()
		if !ok {
			bw = bufio.NewWriterSize(nil, 1<<20)
		}
		bw.Reset(io.Discard)
		defer func() { bw.Reset(nil); blobBuffers.put(bw) }()
		zw, err := Gzip.compressor(io.MultiWriter(bw, sha256.New(), &countWriter{}))
		if err != nil {
			return err
		}
		if err := write(zw, tar); err != nil {
			return err
		}
		return bw.Flush()
	}
	b.Run("pooled", func(b *testing.B) { run(b, pooled) })
	// A collection between layers, as in a build that allocates much
	// elsewhere: the writers and write buffers are kept through it (in
	// free lists), the block buffers in a pgzip writer's own sync.Pools
	// as the pools' victims.
	b.Run("pooled-gc-each-layer", func(b *testing.B) {
		run(b, func(tar []byte) error { runtime.GC(); return pooled(tar) })
	})
}

// BenchmarkLayerCacheBuild builds one 8 MiB layer per op (four different
// trees in turn) into an empty on-disk layer cache: the whole path of a
// layer a build compresses (key, tar, gzip, file, metadata). B/op is the
// heap allocated per layer.
func BenchmarkLayerCacheBuild(b *testing.B) {
	var trees []*rootfs.FS
	for i := range 4 {
		trees = append(trees, mixedTree(b, int64(100+i), 8<<20))
	}
	dir := b.TempDir()
	b.SetBytes(8 << 20)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c := &LayerCache{Dir: filepath.Join(dir, strconv.Itoa(i))}
		if _, err := c.Layer(trees[i%len(trees)], epoch, Gzip); err != nil {
			b.Fatal(err)
		}
		if i > 0 {
			os.RemoveAll(filepath.Join(dir, strconv.Itoa(i-1)))
		}
		i++
	}
}

// BenchmarkUncompressed reads the tar of an 8 MiB layer from the layer
// cache's file: "readfile-pgzip" as fileLayer.Uncompressed did before
// (the whole blob read into memory, pgzip's reader), "stream" as it does
// now. B/op is the heap allocated per read.
func BenchmarkUncompressed(b *testing.B) {
	c := &LayerCache{Dir: b.TempDir()}
	l, err := c.Layer(mixedTree(b, 100, 8<<20), epoch, Gzip)
	if err != nil {
		b.Fatal(err)
	}
	read := func(b *testing.B, open func() (io.ReadCloser, error)) {
		b.ReportAllocs()
		for b.Loop() {
			rc, err := open()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, rc); err != nil {
				b.Fatal(err)
			}
			if err := rc.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("readfile-pgzip", func(b *testing.B) {
		read(b, func() (io.ReadCloser, error) {
			raw, err := os.ReadFile(l.(*fileLayer).path)
			if err != nil {
				return nil, err
			}
			return pgzip.NewReader(bytes.NewReader(raw))
		})
	})
	b.Run("stream", func(b *testing.B) { read(b, l.Uncompressed) })
}

// A cached layer's tar is streamed from its file: the bytes writeTar
// wrote, for gzip and zstd; a damaged blob is an error.
func TestFileLayerUncompressed(t *testing.T) {
	tree := mixedTree(t, 7, 3<<20)
	want := mixedTar(t, 7, 3<<20)
	for _, c := range []Compression{Gzip, Zstd} {
		dir := t.TempDir()
		if _, err := (&LayerCache{Dir: dir}).Layer(tree, epoch, c); err != nil {
			t.Fatal(err)
		}
		l, err := (&LayerCache{Dir: dir}).Layer(tree, epoch, c) // read back from disk
		if err != nil {
			t.Fatal(err)
		}
		fl, ok := l.(*fileLayer)
		if !ok {
			t.Fatalf("%s: cached layer is a %T", c, l)
		}
		rc, err := fl.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		if err := rc.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: uncompressed %d bytes differ from the tar (%d bytes)", c, len(got), len(want))
		}

		raw, err := os.ReadFile(fl.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fl.path, raw[:len(raw)/2], 0o644); err != nil {
			t.Fatal(err)
		}
		if rc, err := fl.Uncompressed(); err == nil {
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
			if err == nil {
				t.Errorf("%s: a truncated blob read without error", c)
			}
		}
		if err := os.WriteFile(fl.path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if c == Gzip {
			if _, err := fl.Uncompressed(); err == nil || !strings.Contains(err.Error(), fl.path) {
				t.Errorf("%s: empty blob: %v, want an error naming %s", c, err, fl.path)
			}
		}
	}
}
