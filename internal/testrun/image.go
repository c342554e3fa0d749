package testrun

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/rootfs"
)

// HostArch is the Debian architecture of this machine: the one whose
// images the container engine runs without emulation.
func HostArch() string { return debianArch(runtime.GOARCH) }

// debianArch names a Go architecture (an image config's) as Debian does.
func debianArch(goarch string) string {
	switch goarch {
	case "arm":
		return "armhf"
	case "386":
		return "i386"
	case "ppc64le":
		return "ppc64el"
	case "mips64le":
		return "mips64el"
	}
	return goarch
}

// FromLayout reads the image of one architecture stored under ref
// (NAME:VERSION) in the OCI layout at dir.
func FromLayout(dir, ref, arch string) (v1.Image, error) {
	idx, err := oci.ReadLayoutRef(dir, ref)
	if err != nil {
		return nil, err
	}
	img, err := oci.ImageFor(idx, arch)
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", ref, dir, err)
	}
	return img, nil
}

// tree is an image's merged filesystem (metadata only: file contents are
// not kept, but for /etc/passwd and /etc/group, which say who users are)
// and its configuration.
type tree struct {
	fs     *rootfs.FS
	config v1.Config
	arch   string
}

// readTree applies the image's layers in order (honouring whiteouts) into
// an in-memory tree of headers.
func readTree(img v1.Image) (*tree, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("image layers: %w", err)
	}
	t := &tree{fs: rootfs.New(), config: cf.Config, arch: cf.Architecture}
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		err = t.apply(tar.NewReader(rc))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
	}
	return t, nil
}

func (t *tree) apply(tr *tar.Reader) error {
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p, err := rootfs.Clean(h.Name)
		if err != nil {
			return err
		}
		dir, base := path.Split(p)
		dir = strings.TrimSuffix(dir, "/")
		if base == ".wh..wh..opq" {
			t.fs.RemoveFunc(func(e *rootfs.Entry) bool { return e.Path != dir && strings.HasPrefix(e.Path, dir+"/") })
			continue
		}
		if victim, ok := strings.CutPrefix(base, ".wh."); ok {
			t.fs.Remove(path.Join(dir, victim))
			continue
		}
		e := &rootfs.Entry{Path: p, Mode: fs.FileMode(h.Mode) & fs.ModePerm, UID: h.Uid, GID: h.Gid}
		if h.Mode&04000 != 0 {
			e.Mode |= fs.ModeSetuid
		}
		if h.Mode&02000 != 0 {
			e.Mode |= fs.ModeSetgid
		}
		if h.Mode&01000 != 0 {
			e.Mode |= fs.ModeSticky
		}
		switch h.Typeflag {
		case tar.TypeDir:
			e.Kind = rootfs.Dir
		case tar.TypeSymlink:
			e.Kind, e.Target = rootfs.Symlink, h.Linkname
		case tar.TypeLink:
			target, err := rootfs.Clean(h.Linkname)
			if err != nil {
				return err
			}
			e.Kind, e.Target = rootfs.Hardlink, target
		default:
			e.Kind = rootfs.File
			if keepData[p] {
				if e.Data, err = io.ReadAll(tr); err != nil {
					return err
				}
			}
		}
		if p == "" {
			if e.Kind == rootfs.Dir {
				t.fs.Put(e)
			}
			continue
		}
		if old, ok := t.fs.Get(p); ok && old.Kind == rootfs.Dir && e.Kind != rootfs.Dir {
			t.fs.Remove(p)
		}
		if err := t.fs.Put(e); err != nil {
			return err
		}
	}
}

// keepData are the files whose contents the tree keeps.
var keepData = map[string]bool{"etc/passwd": true, "etc/group": true}

// data is the content of a file the tree keeps (nil for any other).
func (t *tree) data(p string) []byte {
	if e, ok := t.stat(p); ok && e.Kind == rootfs.File {
		return e.Data
	}
	return nil
}

// stat resolves p inside the image like stat(2) (following symlinks) and
// returns the entry it names; a hardlink is reported as the file it links.
func (t *tree) stat(p string) (*rootfs.Entry, bool) {
	r, err := t.fs.Resolve(p, true)
	if err != nil {
		return nil, false
	}
	e, ok := t.fs.Get(r)
	if ok && e.Kind == rootfs.Hardlink {
		if target, ok := t.fs.Get(e.Target); ok {
			c := *target
			c.Path = e.Path
			return &c, true
		}
	}
	return e, ok
}
