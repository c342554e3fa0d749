package oci

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
)

// Compression is how a layer's tar stream is compressed: Gzip (the
// default; every OCI client reads it) or Zstd (OCI tar+zstd, which podman
// and recent Docker read).
type Compression string

// The compressions temper writes.
const (
	Gzip Compression = "gzip"
	Zstd Compression = "zstd"
)

// ParseCompression reads a compression name; "" is Gzip.
func ParseCompression(s string) (Compression, error) {
	switch Compression(s) {
	case "", Gzip:
		return Gzip, nil
	case Zstd:
		return Zstd, nil
	}
	return "", fmt.Errorf("compression %q: want gzip or zstd", s)
}

// MediaType is the OCI layer media type of the compression.
func (c Compression) MediaType() types.MediaType {
	if c == Zstd {
		return types.OCILayerZStd
	}
	return types.OCILayer
}

// pgzipBlock is the block size of parallel gzip. The output depends on
// it (each block is compressed on its own, primed with the previous 32
// KiB), never on how many blocks run at once: the same tree gives the
// same bytes on any machine. Changing it changes layer digests.
const pgzipBlock = 1 << 20

// compressor returns a writer compressing into out. Gzip is
// github.com/klauspost/pgzip at its default level (CompressionLevel) in
// 1 MiB blocks, compressed on every core; zstd is
// github.com/klauspost/compress/zstd at its default level,
// single-threaded so that its frames never depend on scheduling.
//
// The writers come from free lists (see gzipWriters): a writer goes back once
// its Close succeeded and is dropped if a Write or its Close failed. The
// returned writer must not be used after Close.
func (c Compression) compressor(out io.Writer) (io.WriteCloser, error) {
	switch c {
	case Zstd:
		zw, ok := zstdWriters.get()
		if !ok {
			var err error
			if zw, err = zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault)); err != nil {
				return nil, err
			}
		}
		zw.Reset(out)
		return &pooled[*zstd.Encoder]{zw: zw, list: &zstdWriters}, nil
	case Gzip, "":
		zw, ok := gzipWriters.get()
		if !ok {
			// Created on io.Discard: pgzip's flate writers remember the
			// writer the pgzip writer was created on (they are reset onto
			// each block's buffer before use), which must not hold on to
			// a layer's output.
			var err error
			if zw, err = pgzip.NewWriterLevel(io.Discard, CompressionLevel); err != nil {
				return nil, err
			}
		}
		// Reset keeps the level and sets pgzip's default concurrency
		// (1 MiB blocks, GOMAXPROCS at once) and header (OS 255, zero
		// time); both are set as a new writer's are below.
		zw.Reset(out)
		if err := zw.SetConcurrency(pgzipBlock, max(2, runtime.GOMAXPROCS(0))); err != nil {
			return nil, err
		}
		// pgzip writes ModTime.Unix() as is: the zero time would be
		// written as 0x886e0900, so the mtime is the Unix epoch (0).
		zw.Header = pgzip.Header{OS: gzipOS, ModTime: time.Unix(0, 0)} // no name, no comment, mtime 0
		return &pooled[*pgzip.Writer]{zw: zw, list: &gzipWriters, idle: io.Discard}, nil
	}
	return nil, fmt.Errorf("oci: unknown compression %q", c)
}

// gzipWriters and zstdWriters hold the compressors of finished layers.
// A pgzip writer keeps its block buffers (about 1 MiB each, a few per
// layer) and flate encoders in pools of its own, so a reused writer
// allocates none of them again; pgzip offers no way to give a writer
// buffers from elsewhere (its pools are unexported and per writer), so
// whole writers are kept. Reset makes a reused writer write the bytes a
// new one would: each stream is a new gzip member whose blocks are
// compressed independently of any earlier stream (primed with the
// previous block's tail of the same stream only), which
// TestCompressorReuse checks against a new writer.
var (
	gzipWriters = freeList[*pgzip.Writer]{max: 4} // closed and reset onto io.Discard
	zstdWriters = freeList[*zstd.Encoder]{max: 4} // closed and reset onto nil
)

// freeList keeps up to max idle objects for reuse. Unlike a sync.Pool,
// it keeps them through garbage collections and hands them to any
// goroutine: a build allocates so much elsewhere that collections come
// every few layers, and the goroutine that compresses the next layer
// is rarely on the processor the last one was put back on (a
// sync.Pool's fast slot is per processor): with sync.Pools,
// BenchmarkCompressLayer/pooled-gc-each-layer allocated 11 MB per 8 MiB
// layer (a new writer every 8 MiB: 15 MB), with free lists 0.3 MB.
type freeList[T any] struct {
	mu    sync.Mutex
	items []T
	max   int
}

func (f *freeList[T]) get() (T, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var x T
	n := len(f.items)
	if n == 0 {
		return x, false
	}
	x = f.items[n-1]
	f.items[n-1] = *new(T)
	f.items = f.items[:n-1]
	return x, true
}

func (f *freeList[T]) put(x T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.items) < f.max {
		f.items = append(f.items, x)
	}
}

// compressorsDropped counts writers not returned to their pool because a
// Write or Close failed (for tests).
var compressorsDropped atomic.Int64

// resettable is a compressor a free list can keep: pgzip's writer and
// zstd's encoder both start a new stream on Reset.
type resettable interface {
	io.WriteCloser
	Reset(io.Writer)
}

// pooled is a compressor that goes back to its free list on a successful
// Close and is dropped when a Write or its Close failed. Either way it is
// reset onto idle first, so that it keeps no layer's output (and pgzip
// stops the goroutine it leaves waiting for blocks after a failed write).
type pooled[W resettable] struct {
	zw     W
	list   *freeList[W]
	idle   io.Writer // io.Discard for pgzip, nil for zstd
	closed bool
	failed bool
}

func (w *pooled[W]) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errCompressorClosed
	}
	n, err := w.zw.Write(p)
	if err != nil {
		w.failed = true
	}
	return n, err
}

func (w *pooled[W]) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.zw.Close()
	w.zw.Reset(w.idle)
	if err != nil || w.failed {
		compressorsDropped.Add(1)
		return err
	}
	w.list.put(w.zw)
	return nil
}

var errCompressorClosed = errors.New("oci: write to a closed compressor")

// decompressor reads what compressor wrote, streaming from r. Gzip is
// read by github.com/klauspost/compress/gzip, on the reader's goroutine:
// pgzip's reader allocates its read-ahead blocks (4 MiB) per layer and
// reads no faster here (BenchmarkUncompressed).
func (c Compression) decompressor(r io.Reader) (io.ReadCloser, error) {
	if c == Zstd {
		zr, err := zstd.NewReader(r)
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}
	return gzip.NewReader(r)
}
