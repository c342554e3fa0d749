package oci

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"
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
func (c Compression) compressor(out io.Writer) (io.WriteCloser, error) {
	switch c {
	case Zstd:
		return zstd.NewWriter(out, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
	case Gzip, "":
		zw, err := pgzip.NewWriterLevel(out, CompressionLevel)
		if err != nil {
			return nil, err
		}
		if err := zw.SetConcurrency(pgzipBlock, max(2, runtime.GOMAXPROCS(0))); err != nil {
			return nil, err
		}
		// pgzip writes ModTime.Unix() as is: the zero time would be
		// written as 0x886e0900, so the mtime is the Unix epoch (0).
		zw.Header = pgzip.Header{OS: gzipOS, ModTime: time.Unix(0, 0)} // no name, no comment, mtime 0
		return zw, nil
	}
	return nil, fmt.Errorf("oci: unknown compression %q", c)
}

// decompressor reads what compressor wrote.
func (c Compression) decompressor(b []byte) (io.ReadCloser, error) {
	if c == Zstd {
		zr, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		return zr.IOReadCloser(), nil
	}
	return pgzip.NewReader(bytes.NewReader(b))
}
