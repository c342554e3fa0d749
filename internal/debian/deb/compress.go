package deb

import (
	"compress/bzip2"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz/lzma"

	"github.com/temper-dev/temper/internal/limits"
	"github.com/temper-dev/temper/internal/xzdict"
)

// maxZstdWindow bounds the zstd window (and so the decoder's memory): 128
// MiB is zstd's --ultra -22 window; dpkg-deb's levels use far less.
const maxZstdWindow = 1 << 27

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
		zr, err := zstd.NewReader(r,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(maxZstdWindow),
			zstd.WithDecoderMaxMemory(1<<32),
		)
		if err != nil {
			return nil, nop, fmt.Errorf("zstd: %w", err)
		}
		return safeReader{zr, comp}, zr.Close, nil
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
