// Package catalog reports on a catalog of image definitions: per stream
// its release, package counts, the compressed and uncompressed size of
// each architecture's image as built, its end of security support, and
// how its sizes compare with figures published for the images teams use
// today (internal/published). `temper catalog report` writes it as
// docs/catalog.md; the same inputs give the same bytes.
package catalog

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/spec"
)

// Image is one architecture's image of a stream.
type Image struct {
	Arch                     string
	Packages                 int
	Compressed, Uncompressed int64
}

// Row is one stream (definition) of the catalog and its built images, or
// one of its variants (Variant set), listed right after it.
type Row struct {
	File, Name, Version, Release string
	// Variant names the variant ("" for the runtime); Version is then the
	// variant's (VERSION-VARIANT).
	Variant                     string
	Shell, Root, PackageManager bool
	Images                      []Image
	LockDate                    time.Time
}

// Rows reads each definition's lock and the image temper built from it in
// the OCI layout, then the same for each of its variants (their own locks
// and images): packages per architecture from the lock, sizes from the
// image. It returns the rows in the order of files (a definition's
// variants after it) and the Debian releases they use, oldest first. An
// image missing from the layout, or built from another lock or
// definition, is an error that says how to rebuild it.
func Rows(files []string, layout string) ([]Row, []string, error) {
	var rows []Row
	seen := map[string]bool{}
	var releases []string
	for _, f := range files {
		def, err := spec.LoadDefinition(f)
		if err != nil {
			return nil, nil, err
		}
		for _, v := range append([]string{""}, def.VariantNames()...) {
			row, err := rowFor(f, v, layout)
			if err != nil {
				return nil, nil, err
			}
			if !seen[row.Release] {
				seen[row.Release] = true
				releases = append(releases, row.Release)
			}
			rows = append(rows, row)
		}
	}
	sort.Slice(releases, func(i, j int) bool { return releaseOrder(releases[i]) < releaseOrder(releases[j]) })
	return rows, releases, nil
}

// rowFor is one image of definition f (variant "" for the runtime).
func rowFor(f, variant, layout string) (Row, error) {
	def, l, err := build.LoadTarget(f, variant)
	if err != nil {
		return Row{}, err
	}
	row := Row{File: f, Name: def.Name, Version: def.Version, Release: def.Debian.Release, Variant: variant,
		Shell: def.Shell, Root: def.Hardening.AllowRoot, PackageManager: def.Hardening.AllowPackageManager, LockDate: build.Epoch(l)}
	ref := build.RefName(def)
	idx, err := oci.ReadLayoutRef(layout, ref)
	if err != nil {
		return Row{}, fmt.Errorf("%s: %w (build it: temper build %s -o %s)", f, err, f, layout)
	}
	if m, err := idx.IndexManifest(); err != nil || m.Annotations[build.AnnotationBuildKey] != build.BuildKey(def, l) {
		return Row{}, fmt.Errorf("%s: the image %s in %s was not built from this lock; rebuild it: temper build %s -o %s", f, ref, layout, f, layout)
	}
	for _, arch := range def.Architectures {
		img, err := oci.ImageFor(idx, arch)
		if err != nil {
			return Row{}, fmt.Errorf("%s: %w", f, err)
		}
		ci := Image{Arch: arch, Packages: len(l.Architectures[arch].Packages)}
		if ci.Compressed, ci.Uncompressed, err = ImageSizes(img); err != nil {
			return Row{}, fmt.Errorf("%s %s: %w", ref, arch, err)
		}
		row.Images = append(row.Images, ci)
	}
	return row, nil
}

// imageSizes sums an image's layers: compressed as stored, uncompressed as
// recorded on each layer's descriptor by temper, or counted by
// decompressing a layer that has no record.
func ImageSizes(img v1.Image) (compressed, uncompressed int64, err error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, 0, err
	}
	for _, d := range m.Layers {
		compressed += d.Size
		if u, err := strconv.ParseInt(d.Annotations[oci.AnnotationUncompressedSize], 10, 64); err == nil && u >= 0 {
			uncompressed += u
			continue
		}
		layer, err := img.LayerByDigest(d.Digest)
		if err != nil {
			return 0, 0, err
		}
		u, err := uncompressedSize(layer.Compressed)
		if err != nil {
			return 0, 0, err
		}
		uncompressed += u
	}
	return compressed, uncompressed, nil
}

func uncompressedSize(open func() (io.ReadCloser, error)) (int64, error) {
	rc, err := open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		return 0, err
	}
	return io.Copy(io.Discard, zr)
}

var knownReleases = []string{"buster", "bullseye", "bookworm", "trixie", "forky", "duke"}

func releaseOrder(r string) int {
	for i, k := range knownReleases {
		if k == r {
			return i
		}
	}
	return len(knownReleases)
}
