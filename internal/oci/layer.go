// Package oci turns rootfs trees into deterministic, reproducible OCI
// images and writes them out: one gzip layer per tree (Layer), a
// single-layer image per architecture (Image), one OCI image index over
// all architectures (Index), and the outputs an OCI image layout
// directory (WriteLayout), a docker-archive tarball (WriteTarball) and a
// registry push (Push).
//
// Same tree, same config, same time → same bytes → same digests, on any
// machine and at any time: nothing here reads the clock, the host's user
// database, the umask or map iteration order. The only time that reaches
// the output is the one the caller passes (see Epoch); temper derives it
// from the lock, never from the clock.
//
// The bytes of a layer depend on the compressor: gzip layers are
// compressed with github.com/klauspost/pgzip (level [CompressionLevel],
// 1 MiB blocks on every core), zstd layers with
// github.com/klauspost/compress/zstd. Their output is stable for a given
// version of those modules and block size, so upgrading them may change
// layer digests (never DiffIDs, which hash the uncompressed tar); treat
// that upgrade like any other change to the build.
package oci

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"time"

	"github.com/klauspost/pgzip"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/temper-dev/temper/internal/rootfs"
)

// CompressionLevel is the gzip level of every layer: the default
// (DefaultCompression, zlib's "level 6"), which github.com/klauspost/compress
// maps to its own level 5 (the same bytes as level 5). On Debian binaries
// and libraries it gives 40.3% of the tar size at about 75 MB/s of one
// core, against 39.1% at 12 MB/s for level 9 and 45% at 160 MB/s for
// level 1. See BenchmarkLayer. Changing it changes every layer digest.
const CompressionLevel = pgzip.DefaultCompression

// gzipOS is the OS byte in every layer's gzip header: 255, "unknown", the
// value Go's compress/gzip writes, so nothing depends on the build host.
const gzipOS = 255

// Epoch returns t truncated to whole seconds, in UTC, without a monotonic
// clock reading: the form every time in an image takes (tar mtimes, config
// created). Callers pass the newest suite Date recorded in the lock.
func Epoch(t time.Time) time.Time {
	return time.Unix(t.Unix(), 0).UTC()
}

// sourceTime is Epoch(t), with the zero time meaning the Unix epoch.
func sourceTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return Epoch(t)
}

// Layer builds one deterministic layer from a tree. Entries are written in
// rootfs.FS.Walk order (sorted, parents before children; the root itself
// is not written) with numeric owners only, mode = permission bits plus
// setuid/setgid/sticky, and every mtime set to Epoch(mtime) (the zero time means
// 1970-01-01T00:00:00Z). Headers are
// USTAR unless an entry needs PAX (a long name or link target, a large
// uid/gid, a non-ASCII name); PAX headers then carry only the fields that
// need them, never atime or ctime.
//
// Hardlinks: all paths of one hardlinked file are symmetric, so the
// lexically first of them carries the content and the others are written
// as tar hardlinks (TypeLink) to it. That keeps the archive in strict path
// order while guaranteeing each link follows its target, whichever of the
// paths the tree recorded as the file.
//
// The whole layer is built in memory once; Digest, DiffID and Size are
// computed then and Compressed never recompresses. Layer compresses with
// gzip; LayerWith takes the compression.
func Layer(tree *rootfs.FS, mtime time.Time) (v1.Layer, error) {
	return LayerWith(tree, mtime, Gzip)
}

// LayerWith is Layer with the given compression.
func LayerWith(tree *rootfs.FS, mtime time.Time, c Compression) (v1.Layer, error) {
	return compress(context.Background(), tree, mtime, c, nil)
}

// LayerContext is LayerWith that stops, with ctx's error, once ctx is
// done: it looks between tar entries and between chunks of a file's
// content.
func LayerContext(ctx context.Context, tree *rootfs.FS, mtime time.Time, c Compression) (v1.Layer, error) {
	return compress(ctx, tree, mtime, c, nil)
}

// tarSum is a layer's tar stream summed: its SHA-256 (the DiffID) and
// size.
type tarSum struct {
	diffID v1.Hash
	size   int64
}

// TarDigest returns the DiffID (the SHA-256 of the uncompressed tar
// stream) and the stream's size of the layer LayerWith(tree, mtime, _)
// builds, without compressing anything.
func TarDigest(tree *rootfs.FS, mtime time.Time) (v1.Hash, int64, error) {
	return tarDigest(context.Background(), tree, mtime)
}

func tarDigest(ctx context.Context, tree *rootfs.FS, mtime time.Time) (v1.Hash, int64, error) {
	h := sha256.New()
	counter := &countWriter{}
	if err := writeTar(ctx, io.MultiWriter(h, counter), tree, sourceTime(mtime)); err != nil {
		return v1.Hash{}, 0, err
	}
	return hashOf(h), counter.n, nil
}

// compress builds the layer in memory; with sum set (the tar stream's
// digest and size, from TarDigest), the tar stream is not hashed again.
func compress(ctx context.Context, tree *rootfs.FS, mtime time.Time, c Compression, sum *tarSum) (v1.Layer, error) {
	if tree == nil {
		return nil, fmt.Errorf("oci: layer: nil tree")
	}
	var dataSize int
	tree.Walk(func(e *rootfs.Entry) error { dataSize += len(e.Data); return nil })
	var out bytes.Buffer
	out.Grow(dataSize/2 + 64<<10)
	m, err := compressTo(ctx, &out, tree, mtime, c, sum)
	if err != nil {
		return nil, err
	}
	return &layer{
		compression:      c,
		compressed:       out.Bytes(),
		digest:           m.Digest,
		diffID:           m.DiffID,
		uncompressedSize: m.UncompressedSize,
	}, nil
}

// compressTo writes the layer's compressed bytes to out and describes
// them: media type, digest and size, DiffID and tar size (from sum when
// set, else hashed on the way).
func compressTo(ctx context.Context, out io.Writer, tree *rootfs.FS, mtime time.Time, c Compression, sum *tarSum) (layerMeta, error) {
	if tree == nil {
		return layerMeta{}, fmt.Errorf("oci: layer: nil tree")
	}
	mtime = sourceTime(mtime)
	digest := sha256.New()
	compressed := &countWriter{}
	zw, err := c.compressor(io.MultiWriter(out, digest, compressed))
	if err != nil {
		return layerMeta{}, fmt.Errorf("oci: layer: %s: %w", c, err)
	}
	diffHash := sha256.New()
	counter := &countWriter{}
	var w io.Writer = zw
	if sum == nil {
		w = io.MultiWriter(zw, diffHash, counter)
	}
	if err := writeTar(ctx, w, tree, mtime); err != nil {
		zw.Close()
		return layerMeta{}, err
	}
	if err := zw.Close(); err != nil {
		return layerMeta{}, fmt.Errorf("oci: layer: closing %s: %w", c, err)
	}
	if sum == nil {
		sum = &tarSum{diffID: hashOf(diffHash), size: counter.n}
	}
	return layerMeta{
		MediaType:        c.MediaType(),
		Digest:           hashOf(digest),
		DiffID:           sum.diffID,
		Size:             compressed.n,
		UncompressedSize: sum.size,
	}, nil
}

// ctxChunk is how much content writeTar hands the writer (hash,
// compressor) between two looks at the context.
const ctxChunk = 1 << 20

// writeTar writes the layer's tar stream (see Layer) to w, stopping with
// ctx's error once ctx is done (looked at between entries and between
// ctxChunk bytes of content).
func writeTar(ctx context.Context, w io.Writer, tree *rootfs.FS, mtime time.Time) error {
	if tree == nil {
		return fmt.Errorf("oci: layer: nil tree")
	}
	var entries []*rootfs.Entry
	if err := tree.Walk(func(e *rootfs.Entry) error {
		if e.Path != "" {
			entries = append(entries, e)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("oci: layer: %w", err)
	}
	links, err := hardlinkGroups(tree, entries)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("oci: layer: %w", err)
		}
		hdr, data, err := header(e, links, mtime)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("oci: layer: %s: tar header: %w", e.Path, err)
		}
		for len(data) > 0 {
			n := min(len(data), ctxChunk)
			if _, err := tw.Write(data[:n]); err != nil {
				return fmt.Errorf("oci: layer: %s: %w", e.Path, err)
			}
			data = data[n:]
			if len(data) > 0 {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("oci: layer: %w", err)
				}
			}
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("oci: layer: closing tar: %w", err)
	}
	return nil
}

// hardlinkGroup is one hardlinked file: the entry holding content and
// metadata, and the path that carries it in the layer.
type hardlinkGroup struct {
	file  *rootfs.Entry
	first string
}

// hardlinkGroups maps every path that takes part in a hardlink (the file
// and its links) to its group. Links are resolved through chains of links.
func hardlinkGroups(tree *rootfs.FS, entries []*rootfs.Entry) (map[string]*hardlinkGroup, error) {
	groups := map[string]*hardlinkGroup{}
	for _, e := range entries { // sorted: the first path seen in a group is its first path
		if e.Kind != rootfs.Hardlink {
			continue
		}
		target := e
		for i := 0; target.Kind == rootfs.Hardlink; i++ {
			if i > 40 {
				return nil, fmt.Errorf("oci: layer: %s: hardlink chain too long or circular", e.Path)
			}
			next, ok := tree.Get(target.Target)
			if !ok {
				return nil, fmt.Errorf("oci: layer: %s: hardlink target %q is not in the tree", e.Path, target.Target)
			}
			target = next
		}
		if target.Kind != rootfs.File {
			return nil, fmt.Errorf("oci: layer: %s: hardlink target %q is a %s, not a file", e.Path, target.Path, target.Kind)
		}
		g, ok := groups[target.Path]
		if !ok {
			g = &hardlinkGroup{file: target, first: target.Path}
			groups[target.Path] = g
		}
		if e.Path < g.first {
			g.first = e.Path
		}
		groups[e.Path] = g
	}
	return groups, nil
}

// header returns the tar header and content for one entry.
func header(e *rootfs.Entry, links map[string]*hardlinkGroup, mtime time.Time) (*tar.Header, []byte, error) {
	meta := e
	g := links[e.Path]
	if g != nil {
		meta = g.file // one inode: one mode and owner for every path
	}
	hdr := &tar.Header{
		Name:    e.Path,
		Mode:    tarMode(meta.Mode),
		Uid:     meta.UID,
		Gid:     meta.GID,
		ModTime: mtime,
		// PAX permits USTAR when nothing needs PAX: the writer picks USTAR
		// first and never falls back to GNU.
		Format: tar.FormatPAX,
	}
	if meta.UID < 0 || meta.GID < 0 {
		return nil, nil, fmt.Errorf("oci: layer: %s: negative owner %d:%d", e.Path, meta.UID, meta.GID)
	}
	var data []byte
	switch {
	case g != nil && e.Path == g.first:
		hdr.Typeflag = tar.TypeReg
		data = g.file.Data
	case g != nil:
		hdr.Typeflag = tar.TypeLink
		hdr.Linkname = g.first
	default:
		switch e.Kind {
		case rootfs.File:
			hdr.Typeflag = tar.TypeReg
			data = e.Data
		case rootfs.Dir:
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
		case rootfs.Symlink:
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = e.Target
		default:
			return nil, nil, fmt.Errorf("oci: layer: %s: unsupported entry kind %s", e.Path, e.Kind)
		}
	}
	hdr.Size = int64(len(data))
	return hdr, data, nil
}

// tarMode converts an fs.FileMode's permission and special bits to tar's
// c_ISUID/c_ISGID/c_ISVTX encoding.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func hashOf(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}
}

// layer is a compressed layer held in memory with its digests computed once.
type layer struct {
	compression      Compression
	compressed       []byte
	digest, diffID   v1.Hash
	uncompressedSize int64
}

var (
	_ v1.Layer          = (*layer)(nil)
	_ UncompressedSizer = (*layer)(nil)
)

// UncompressedSizer is a layer that knows the size of its tar stream
// without decompressing it, as Layer's layers do; Image records the size
// on the layer's descriptor.
type UncompressedSizer interface {
	UncompressedSize() int64
}

func (l *layer) Digest() (v1.Hash, error) { return l.digest, nil }
func (l *layer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *layer) Size() (int64, error)     { return int64(len(l.compressed)), nil }
func (l *layer) MediaType() (types.MediaType, error) {
	return l.compression.MediaType(), nil
}

func (l *layer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.compressed)), nil
}

func (l *layer) Uncompressed() (io.ReadCloser, error) {
	zr, err := l.compression.decompressor(bytes.NewReader(l.compressed))
	if err != nil {
		return nil, fmt.Errorf("oci: layer %s: %w", l.digest, err)
	}
	return zr, nil
}

// UncompressedSize is the size of the layer's tar stream in bytes.
func (l *layer) UncompressedSize() int64 { return l.uncompressedSize }
