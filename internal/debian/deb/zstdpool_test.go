package deb

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// zstdPayload is n bytes of tar-like data (text runs and random runs).
func zstdPayload(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 9))
	var b bytes.Buffer
	for b.Len() < n {
		if r.IntN(3) == 0 {
			var w [256]byte
			for i := range w {
				w[i] = byte(r.Uint32())
			}
			b.Write(w[:])
		} else {
			fmt.Fprintf(&b, "usr/share/doc/package-%d/changelog line %d of %d\n", r.IntN(50), r.IntN(1000), seed)
		}
	}
	return b.Bytes()[:n]
}

// zstdCompress compresses as Transcode does.
func zstdCompress(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zstd.NewWriter(&b, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// unpooled is decompress("zst") as it was before the pool: a new decoder
// per read, closed after it.
func unpooled(r io.Reader) (io.Reader, func(), error) {
	zr, err := newZstd(r)
	if err != nil {
		return nil, func() {}, fmt.Errorf("zstd: %w", err)
	}
	return safeReader{zr, "zst"}, zr.Close, nil
}

func pooled(r io.Reader) (io.Reader, func(), error) { return decompress("zst", r) }

// readZstd reads comp through open: all of it, or its first limit bytes
// (limit >= 0), then releases the decoder.
func readZstd(open func(io.Reader) (io.Reader, func(), error), comp []byte, limit int) ([]byte, error) {
	r, release, err := open(bytes.NewReader(comp))
	if err != nil {
		return nil, err
	}
	defer release()
	if limit >= 0 {
		r = io.LimitReader(r, int64(limit))
	}
	return io.ReadAll(r)
}

// Decoders are reused: reads after a full read, a partial read and a
// failed read give the same bytes and the same errors as a new decoder
// per read, and the pool hands out the same decoder again.
func TestZstdPoolReuse(t *testing.T) {
	data := zstdPayload(1, 3<<20)
	comp := zstdCompress(t, data)
	other := zstdPayload(2, 100<<10)
	otherComp := zstdCompress(t, other)
	corrupt := bytes.Clone(comp)
	corrupt[len(corrupt)/2] ^= 0xff
	seen := map[*zstd.Decoder]int{}
	for i := range 30 {
		zr, err := openZstd(bytes.NewReader(otherComp))
		if err != nil {
			t.Fatal(err)
		}
		seen[zr.d]++
		zr.release()
		switch i % 3 {
		case 0:
			got, err := readZstd(pooled, comp, -1)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("full read %d: %d bytes, %v", i, len(got), err)
			}
		case 1:
			got, err := readZstd(pooled, comp, 1000+i*7919)
			if err != nil || !bytes.Equal(got, data[:len(got)]) || len(got) != 1000+i*7919 {
				t.Fatalf("partial read %d: %d bytes, %v", i, len(got), err)
			}
		case 2:
			got, err := readZstd(pooled, corrupt, -1)
			want, werr := readZstd(unpooled, corrupt, -1)
			if err == nil || werr == nil || err.Error() != werr.Error() || !bytes.Equal(got, want) {
				t.Fatalf("corrupt read %d: %d bytes, %v; a new decoder: %d bytes, %v", i, len(got), err, len(want), werr)
			}
		}
		got, err := readZstd(pooled, otherComp, -1)
		if err != nil || !bytes.Equal(got, other) {
			t.Fatalf("read after %d: %d bytes, %v", i, len(got), err)
		}
	}
	reused := 0
	for _, n := range seen {
		reused += n - 1
	}
	if reused == 0 {
		t.Errorf("30 reads took 30 new decoders: none was reused")
	}
	t.Logf("30 reads used %d decoders", len(seen))
}

// Truncated and corrupt streams fail with the same bytes and the same
// error as with a new decoder per read.
func TestZstdPoolErrors(t *testing.T) {
	data := zstdPayload(3, 200<<10)
	comp := zstdCompress(t, data)
	r := rand.New(rand.NewPCG(4, 5))
	cases := [][]byte{nil, comp[:3], comp[:10], comp[:len(comp)/2], comp[:len(comp)-1], []byte("not zstd at all")}
	for range 100 {
		b := bytes.Clone(comp)
		b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
		cases = append(cases, b)
	}
	for i, c := range cases {
		got, err := readZstd(pooled, c, -1)
		want, werr := readZstd(unpooled, c, -1)
		if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() || !bytes.Equal(got, want) {
			t.Errorf("case %d: pooled %d bytes, %v; new decoder %d bytes, %v", i, len(got), err, len(want), werr)
		}
	}
}

// Concurrent readers (run with -race) each get their own decoder and
// their own stream's bytes, through full, partial and failed reads.
func TestZstdPoolConcurrent(t *testing.T) {
	type stream struct{ data, comp, corrupt []byte }
	streams := make([]stream, 6)
	for i := range streams {
		data := zstdPayload(uint64(10+i), (i+1)*300<<10)
		comp := zstdCompress(t, data)
		corrupt := bytes.Clone(comp)
		corrupt[len(corrupt)*2/3] ^= 0x5a
		streams[i] = stream{data, comp, corrupt}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for i := range 12 {
				s := streams[(g+i)%len(streams)]
				switch (g + i) % 4 {
				case 0, 1:
					if got, err := readZstd(pooled, s.comp, -1); err != nil || !bytes.Equal(got, s.data) {
						errs <- fmt.Errorf("reader %d, read %d: %d of %d bytes, %v", g, i, len(got), len(s.data), err)
					}
				case 2:
					n := len(s.data) / 3
					if got, err := readZstd(pooled, s.comp, n); err != nil || !bytes.Equal(got, s.data[:n]) {
						errs <- fmt.Errorf("reader %d, partial read %d: %d bytes, %v", g, i, len(got), err)
					}
				case 3:
					if _, err := readZstd(pooled, s.corrupt, -1); err == nil {
						errs <- fmt.Errorf("reader %d, corrupt read %d: no error", g, i)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Bytes allocated per data.tar.zst read (1 MiB, compressed as Transcode
// does), a new decoder per read ("new-decoder", as before the pool) and
// pooled decoders ("pooled"), in the same run.
func BenchmarkZstdRead(b *testing.B) {
	data := zstdPayload(1, 1<<20)
	comp := zstdCompress(b, data)
	for _, c := range []struct {
		name string
		open func(io.Reader) (io.Reader, func(), error)
	}{{"new-decoder", unpooled}, {"pooled", pooled}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r, release, err := c.open(bytes.NewReader(comp))
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, r); err != nil || n != int64(len(data)) {
					b.Fatal(n, err)
				}
				release()
			}
		})
	}
}
