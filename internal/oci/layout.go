package oci

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/temper-dev/temper/internal/leftover"
)

// RefNameAnnotation names an entry of a layout's index.json; tools address
// it as oci:DIR:NAME (skopeo, podman) or DIR:NAME (umoci).
const RefNameAnnotation = "org.opencontainers.image.ref.name"

const ociLayoutFile = `{"imageLayoutVersion":"1.0.0"}`

// WriteLayout writes idx into the OCI image layout directory dir (created
// if missing; other references already in it are kept), and makes the
// top-level index.json name it refName (e.g. "python:3.11") with the
// org.opencontainers.image.ref.name annotation, replacing the entry that
// had that name before.
//
// Crash safety: every blob is written to a temporary file, synced and
// renamed into blobs/sha256; index.json is replaced last the same way. A
// crash leaves at worst stray ".tmp-*" files and unreferenced blobs,
// never an index.json that points at a missing or partial blob. The
// temporary files are internal/leftover's (locked while written), and the
// next write into the layout removes those a dead writer left. Blobs that
// already exist with the right size are not rewritten (they are content
// addressed), and index.json is not rewritten when unchanged, so writing
// the same index again touches no file. Blobs no longer referenced are
// not removed.
func WriteLayout(dir string, idx v1.ImageIndex, refName string) error {
	if refName == "" {
		return fmt.Errorf("oci: layout %s: empty reference name", dir)
	}
	if err := writeBlobs(dir, idx); err != nil {
		return err
	}
	desc, err := descriptor(idx)
	if err != nil {
		return fmt.Errorf("oci: layout %s: %w", dir, err)
	}
	desc.Annotations = map[string]string{RefNameAnnotation: refName}
	return nameIndex(dir, desc, refName)
}

// CleanLeftovers removes from the layout at dir the temporary files an
// interrupted writer left (no live writer's: they are locked), so that
// they are never read and never pile up; a build that finds its image
// already in the layout calls it too.
func CleanLeftovers(dir string) {
	leftover.Clean(filepath.Join(dir, "blobs", "sha256"), ".tmp-")
	leftover.Clean(dir, ".tmp-")
}

// writeBlobs writes every blob idx references and the oci-layout marker,
// and syncs the blob directory when a blob was written.
func writeBlobs(dir string, idx v1.ImageIndex) error {
	blobDir := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobDir, 0o755); err != nil {
		return fmt.Errorf("oci: layout: %w", err)
	}
	CleanLeftovers(dir)
	w := &blobWriter{dir: blobDir, done: map[v1.Hash]bool{}}
	if err := w.index(idx); err != nil {
		return fmt.Errorf("oci: layout %s: %w", dir, err)
	}
	if w.wrote {
		if err := syncDir(blobDir); err != nil {
			return fmt.Errorf("oci: layout %s: %w", dir, err)
		}
	}
	if err := writeIfChanged(filepath.Join(dir, "oci-layout"), []byte(ociLayoutFile)); err != nil {
		return fmt.Errorf("oci: layout %s: %w", dir, err)
	}
	return nil
}

// descriptor describes idx (media type, size, digest).
func descriptor(idx v1.ImageIndex) (v1.Descriptor, error) {
	mt, err := idx.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	digest, err := idx.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	size, err := idx.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Size: size, Digest: digest}, nil
}

// nameIndex makes the layout's index.json name desc refName. index.json
// is read, changed and replaced: concurrent writers of one layout
// (goroutines or temper processes) take turns, or one would drop the
// other's entry.
func nameIndex(dir string, desc v1.Descriptor, refName string) error {
	unlock, err := lockLayout(dir)
	if err != nil {
		return fmt.Errorf("oci: layout %s: %w", dir, err)
	}
	defer unlock()
	indexPath := filepath.Join(dir, "index.json")
	top := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	old, err := os.ReadFile(indexPath)
	switch {
	case err == nil:
		parsed, err := v1.ParseIndexManifest(bytes.NewReader(old))
		if err != nil {
			return fmt.Errorf("oci: layout: %s: %w", indexPath, err)
		}
		top = *parsed
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("oci: layout: %w", err)
	}
	top.Manifests = withEntry(top.Manifests, desc, refName)
	raw, err := marshal(top)
	if err != nil {
		return fmt.Errorf("oci: layout: %s: %w", indexPath, err)
	}
	if err := writeIfChanged(indexPath, raw); err != nil {
		return fmt.Errorf("oci: layout %s: %w", dir, err)
	}
	return nil
}

// withEntry returns manifests with desc as the entry named refName. The
// entry keeps its place when it is replaced, so index.json does not
// churn; a new name goes last.
func withEntry(manifests []v1.Descriptor, desc v1.Descriptor, refName string) []v1.Descriptor {
	out := make([]v1.Descriptor, 0, len(manifests)+1)
	replaced := false
	for _, d := range manifests {
		if d.Annotations[RefNameAnnotation] != refName {
			out = append(out, d)
		} else if !replaced {
			out = append(out, desc)
			replaced = true
		}
	}
	if !replaced {
		out = append(out, desc)
	}
	return out
}

// blobWriter writes the blobs an index references, each once. Its
// methods may run at once (link does).
type blobWriter struct {
	dir   string
	mu    sync.Mutex
	done  map[v1.Hash]bool
	wrote bool
}

// maxLinks is how many layers an image links into a layout at once.
const maxLinks = 8

func (w *blobWriter) isDone(h v1.Hash) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done[h]
}

// markDone records h as in the layout; wrote says this writer wrote it.
func (w *blobWriter) markDone(h v1.Hash, wrote bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done[h] = true
	w.wrote = w.wrote || wrote
}

func (w *blobWriter) index(idx v1.ImageIndex) error {
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range im.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return err
			}
			if err := w.index(child); err != nil {
				return err
			}
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return err
			}
			if err := w.image(img); err != nil {
				return err
			}
		default:
			return fmt.Errorf("index entry %s: unsupported media type %q", d.Digest, d.MediaType)
		}
	}
	return w.raw(idx)
}

type rawBlob interface {
	Digest() (v1.Hash, error)
	RawManifest() ([]byte, error)
}

func (w *blobWriter) raw(m rawBlob) error {
	h, err := m.Digest()
	if err != nil {
		return err
	}
	b, err := m.RawManifest()
	if err != nil {
		return err
	}
	return w.blob(h, int64(len(b)), func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}

func (w *blobWriter) image(img v1.Image) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	// Layers from the layer cache are linked at once: most of a link is
	// waiting for the file to reach the disk (fsync), and the waits
	// overlap.
	var links errgroup.Group
	links.SetLimit(maxLinks)
	for _, l := range layers {
		h, err := l.Digest()
		if err != nil {
			return err
		}
		size, err := l.Size()
		if err != nil {
			return err
		}
		if src, ok := cachedFiles.Load(h); ok {
			links.Go(func() error { return w.link(h, size, src.(string), l.Compressed) })
			continue
		}
		if err := w.blob(h, size, l.Compressed); err != nil {
			return err
		}
	}
	if err := links.Wait(); err != nil {
		return err
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	if err := w.blob(cfgName, int64(len(cfg)), func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(cfg)), nil }); err != nil {
		return err
	}
	return w.raw(img)
}

// blob writes one blob unless a file of that name and size is already
// there. The content is checked against the digest while it is written.
func (w *blobWriter) blob(h v1.Hash, size int64, open func() (io.ReadCloser, error)) error {
	if w.isDone(h) {
		return nil
	}
	if h.Algorithm != "sha256" || len(h.Hex) != 64 {
		return fmt.Errorf("blob %s: only sha256 digests are supported", h)
	}
	final := filepath.Join(w.dir, h.Hex)
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() && fi.Size() == size {
		w.markDone(h, false)
		return nil
	}
	rc, err := open()
	if err != nil {
		return fmt.Errorf("blob %s: %w", h, err)
	}
	defer rc.Close()
	tmp, err := leftover.CreateTemp(w.dir, ".tmp-"+h.Hex[:12]+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, sum), rc)
	if err != nil {
		tmp.Close()
		return fmt.Errorf("blob %s: %w", h, err)
	}
	if got := fmt.Sprintf("%x", sum.Sum(nil)); got != h.Hex || n != size {
		tmp.Close()
		return fmt.Errorf("blob %s: content has digest sha256:%s and size %d, want size %d", h, got, n, size)
	}
	if err := finish(tmp, final); err != nil {
		return fmt.Errorf("blob %s: %w", h, err)
	}
	w.markDone(h, true)
	return nil
}

// writeIfChanged replaces path with data (temp file, sync, rename, sync
// the directory) unless it already holds exactly data.
func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp, err := leftover.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := finish(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// finish makes a finished temporary file world-readable, syncs it,
// renames it into place and closes it: closed only once renamed, so that
// leftover.Clean never takes a live writer's file for a leftover.
func finish(tmp *os.File, final string) error {
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		tmp.Close()
		return err
	}
	return tmp.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// ReadLayout opens the image index an OCI layout directory holds: the one
// index its index.json references. A layout naming several references is
// an error that lists them; use ReadLayoutRef. The index reads its blobs
// lazily from dir; Validate checks them all.
func ReadLayout(dir string) (v1.ImageIndex, error) {
	p, top, err := openLayout(dir)
	if err != nil {
		return nil, err
	}
	if len(top.Manifests) == 1 && top.Manifests[0].MediaType.IsIndex() {
		idx, err := p.ImageIndex()
		if err == nil {
			idx, err = idx.ImageIndex(top.Manifests[0].Digest)
		}
		if err != nil {
			return nil, fmt.Errorf("oci: layout %s: %w", dir, err)
		}
		return idx, nil
	}
	var names []string
	for _, d := range top.Manifests {
		names = append(names, fmt.Sprintf("%q (%s)", d.Annotations[RefNameAnnotation], d.MediaType))
	}
	return nil, fmt.Errorf("oci: layout %s: index.json must reference exactly one image index, it references %d: %s", dir, len(names), strings.Join(names, ", "))
}

// ReadLayoutRef opens the image index named refName in an OCI layout
// directory.
func ReadLayoutRef(dir, refName string) (v1.ImageIndex, error) {
	p, top, err := openLayout(dir)
	if err != nil {
		return nil, err
	}
	for _, d := range top.Manifests {
		if d.Annotations[RefNameAnnotation] != refName {
			continue
		}
		if !d.MediaType.IsIndex() {
			return nil, fmt.Errorf("oci: layout %s: %q is a %s, not an image index", dir, refName, d.MediaType)
		}
		idx, err := p.ImageIndex()
		if err == nil {
			idx, err = idx.ImageIndex(d.Digest)
		}
		if err != nil {
			return nil, fmt.Errorf("oci: layout %s: %q: %w", dir, refName, err)
		}
		return idx, nil
	}
	return nil, fmt.Errorf("oci: layout %s: no reference named %q", dir, refName)
}

func openLayout(dir string) (layout.Path, *v1.IndexManifest, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return "", nil, fmt.Errorf("oci: layout %s: %w", dir, err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return "", nil, fmt.Errorf("oci: layout: %w", err)
	}
	top, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return "", nil, fmt.Errorf("oci: layout %s: index.json: %w", dir, err)
	}
	return p, top, nil
}

// lockLayout takes an exclusive flock on dir/.temper-index.lock (a file
// layout readers ignore) and returns its release.
func lockLayout(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".temper-index.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
