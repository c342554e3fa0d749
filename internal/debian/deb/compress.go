package deb

import (
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz/lzma"

	"github.com/temper-dev/temper/internal/limits"
	"github.com/temper-dev/temper/internal/xzdict"
)

// maxZstdWindow bounds the zstd window (and so the decoder's memory): 128
// MiB is zstd's --ultra -22 window; dpkg-deb's levels use far less.
const maxZstdWindow = 1 << 27

// newZstd is the one zstd decoder configuration: one goroutine, the window
// and memory limits above.
func newZstd(r io.Reader) (*zstd.Decoder, error) {
	return zstd.NewReader(r,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(maxZstdWindow),
		zstd.WithDecoderMaxMemory(1<<32),
	)
}

// zstdDecoders holds idle decoders made by newZstd. A decoder keeps its
// history ring and block buffers (a window's worth, 8 MiB for dpkg's
// levels) across Reset, so a catalog build reusing them does not allocate
// and zero them again for every data.tar.zst; the pool lets the garbage
// collector drop idle ones.
var zstdDecoders sync.Pool

// zstdReader is one read of a zstd stream with a decoder of its own, taken
// from zstdDecoders and given back (or dropped) by release.
type zstdReader struct {
	d *zstd.Decoder
	// bad is set while a Read runs and stays set if the decoder failed
	// or panicked: such a decoder is not reused.
	bad bool
}

func openZstd(r io.Reader) (*zstdReader, error) {
	if d, ok := zstdDecoders.Get().(*zstd.Decoder); ok {
		// A sync decoder's Reset reads nothing: it fails only on a closed
		// decoder, which the pool never holds; drop it if it does.
		if d.Reset(r) == nil {
			return &zstdReader{d: d}, nil
		}
	}
	d, err := newZstd(r)
	if err != nil {
		return nil, err
	}
	return &zstdReader{d: d}, nil
}

func (z *zstdReader) Read(p []byte) (int, error) {
	if z.d == nil {
		return 0, errors.New("zstd: read after the decoder was released")
	}
	z.bad = true
	n, err := z.d.Read(p)
	z.bad = err != nil && err != io.EOF
	return n, err
}

// release gives the decoder back to the pool after a read to its end or
// one stopped early (Reset(nil) drops the input and the rest of the
// stream). A decoder that failed or panicked is closed, as every decoder
// was before the pool, and never reused.
func (z *zstdReader) release() {
	d := z.d
	z.d = nil
	switch {
	case d == nil:
	case z.bad:
		func() {
			defer func() { recover() }()
			d.Close()
		}()
	case d.Reset(nil) == nil:
		zstdDecoders.Put(d)
	}
}

// decompress returns a streaming reader of the uncompressed member and a
// function that releases the decoder.
func decompress(comp string, r io.Reader) (io.Reader, func(), error) {
	nop := func() {}
	switch comp {
	case "none":
		return r, nop, nil
	case "gz":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nop, fmt.Errorf("gzip header: %w", noEOF(err))
		}
		return safeReader{zr, comp}, func() { zr.Close() }, nil
	case "xz":
		// Multi-stream (the default) is what xz(1) and dpkg accept; it is
		// no slower than SingleStream for the usual single stream. Block
		// headers claiming a dictionary past the limit are refused before
		// the decoder allocates it.
		zr, err := xzdict.NewReader(r, limits.Get().XZDict)
		if err != nil {
			return nil, nop, fmt.Errorf("xz header: %w", noEOF(err))
		}
		return safeReader{zr, comp}, nop, nil
	case "zst":
		zr, err := openZstd(r)
		if err != nil {
			return nil, nop, fmt.Errorf("zstd: %w", err)
		}
		return safeReader{zr, comp}, zr.release, nil
	case "bz2":
		return safeReader{bzip2.NewReader(r), comp}, nop, nil
	case "lzma":
		// The .lzma header's dictionary size, refused past the same limit
		// (lzma's DictCap is a ceiling, unlike xz's).
		zr, err := lzma.ReaderConfig{DictCap: int(min(limits.Get().XZDict, 1<<31-1))}.NewReader(r)
		if err != nil {
			return nil, nop, fmt.Errorf("lzma header: %w", noEOF(err))
		}
		return safeReader{zr, comp}, nop, nil
	}
	return nil, nop, fmt.Errorf("unknown compression %q", comp)
}

// safeReader turns a decoder panic on corrupt input into an error, and
// says which decoder failed.
type safeReader struct {
	r    io.Reader
	comp string
}

func (s safeReader) Read(p []byte) (n int, err error) {
	defer func() {
		if v := recover(); v != nil {
			n, err = 0, fmt.Errorf("corrupt %s data (decoder panic: %v)", s.comp, v)
		}
	}()
	n, err = s.r.Read(p)
	if err != nil && err != io.EOF && !strings.HasPrefix(err.Error(), s.comp) && !strings.HasPrefix(err.Error(), "gzip") {
		err = fmt.Errorf("%s: %w", s.comp, err)
	}
	return n, err
}
