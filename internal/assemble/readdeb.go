package assemble

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/debian/deb822"
	"github.com/temper-dev/temper/internal/debian/relation"
	"github.com/temper-dev/temper/internal/limits"
	"github.com/temper-dev/temper/internal/rootfs"
)

// pkg is a .deb read into memory: its control files and data entries.
type pkg struct {
	name, version, arch string
	control             map[string][]byte
	replaces            relation.Relations
	entries             []rootfs.Entry // Path as in data.tar (cleaned), Target raw
	// special are the device nodes and fifos data.tar holds: an image
	// gets none of them, and the build's warnings say so.
	special []string
	// id names the package in errors, member is its data member, and
	// unpacked is what its entries charged to the image's budget.
	id, member string
	unpacked   int64
}

// readAll opens and reads every .deb, in parallel; the tree is built from
// the result in package order afterwards. Every .deb is read even when
// one fails, so that the error names all the broken ones.
//
// The unpacked files of all packages together are bounded (the per-image
// limit, and the ratio to the .debs' compressed size), counted as they are
// read, so that the parallel readers stop at the limit instead of
// holding what it refuses.
func readAll(ctx context.Context, debs []Deb, arch string, memo *Packages) ([]*pkg, error) {
	out := make([]*pkg, len(debs))
	errs := make([]error, len(debs))
	budget := newImageBudget(debs, arch)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range debs {
		g.Go(func() error {
			if ctx.Err() != nil {
				return nil
			}
			out[i], errs[i] = memo.read(ctx, debs[i], budget)
			return nil // kept in errs, so that the others go on
		})
	}
	g.Wait()
	if err := canceled(ctx); err != nil {
		return nil, err // one error, not one per package
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func debName(lp Deb) string {
	if lp.Package.Filename != "" {
		return path.Base(lp.Package.Filename)
	}
	return fmt.Sprintf("%s_%s_%s.deb", lp.Package.Name, lp.Package.Version, lp.Package.Architecture)
}

func readDeb(ctx context.Context, d Deb, budget *imageBudget) (*pkg, error) {
	lp := d.Package
	id := fmt.Sprintf("%s %s (%s)", lp.Name, lp.Version, lp.Architecture)
	f, err := deb.Open(debName(d), d.Data)
	if err != nil {
		return nil, fmt.Errorf("build: package %s: %w", id, err)
	}
	ctrl, err := f.Control()
	if err != nil {
		return nil, fmt.Errorf("build: package %s: %w", id, err)
	}
	sc := deb822.NewBytesScanner(ctrl["control"])
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("build: package %s: control: %w", id, err)
		}
		return nil, fmt.Errorf("build: package %s: empty control file", id)
	}
	st := sc.Stanza()
	p := &pkg{
		name:    st.GetString("Package"),
		version: st.GetString("Version"),
		arch:    st.GetString("Architecture"),
		control: ctrl,
		id:      id,
		member:  f.DataMember(),
	}
	if p.name != lp.Name || p.version != lp.Version || p.arch != lp.Architecture {
		return nil, fmt.Errorf("build: package %s: the .deb is %s %s (%s), not what the lock names",
			id, p.name, p.version, p.arch)
	}
	if r := st.GetString("Replaces"); r != "" {
		if p.replaces, err = relation.Parse(r); err != nil {
			return nil, fmt.Errorf("build: package %s: Replaces: %w", id, err)
		}
	}
	err = f.Walk(func(hdr *tar.Header, r io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		r = ctxReader{ctx, r}
		if err := budget.take(hdr.Size, id, f.DataMember(), hdr.Name); err != nil {
			return err
		}
		p.unpacked += max(hdr.Size, 0)
		e, ok, err := tarEntry(hdr, r)
		if err != nil {
			return fmt.Errorf("build: package %s: %s: %w", id, hdr.Name, err)
		}
		if ok {
			e.Package = p.name
			p.entries = append(p.entries, e)
		} else if special(hdr.Typeflag) {
			p.special = append(p.special, "/"+strings.TrimPrefix(path.Clean("/"+hdr.Name), "/"))
		}
		return nil
	})
	if err != nil {
		if strings.HasPrefix(err.Error(), "build: ") {
			return nil, err
		}
		return nil, fmt.Errorf("build: package %s: %w", id, err)
	}
	return p, nil
}

// ctxReader stops a read (a member being decompressed) once its context
// is canceled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// tarEntry turns a data.tar header into an image entry; ok is false for
// what has no place in an image (devices, fifos).
func tarEntry(hdr *tar.Header, r io.Reader) (e rootfs.Entry, ok bool, err error) {
	name, err := rootfs.Clean(hdr.Name)
	if err != nil {
		return e, false, err
	}
	e = rootfs.Entry{Path: name, Mode: tarMode(hdr.Mode), UID: hdr.Uid, GID: hdr.Gid}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA:
		e.Kind = rootfs.File
		// deb.Walk has checked hdr.Size against the limits; ReadEntry
		// still grows with the bytes that arrive.
		if e.Data, err = deb.ReadEntry(r, hdr.Size); err != nil {
			return e, false, err
		}
	case tar.TypeDir:
		e.Kind = rootfs.Dir
	case tar.TypeSymlink:
		e.Kind = rootfs.Symlink
		e.Target = hdr.Linkname
	case tar.TypeGNUSparse:
		// dpkg's tar extractor knows no sparse files: apt would fail to
		// install this package, so no image holds it either.
		return e, false, errors.New("a GNU sparse file, which dpkg refuses to unpack; the package cannot be installed")
	case tar.TypeLink:
		e.Kind = rootfs.Hardlink
		t, err := rootfs.Clean(hdr.Linkname)
		if err != nil {
			return e, false, fmt.Errorf("hard link to %s: %w", hdr.Linkname, err)
		}
		e.Target = t
	default:
		return e, false, nil
	}
	return e, true, nil
}

func tarMode(m int64) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// special reports the entry types an image never holds but a build
// reports: character and block devices, fifos.
func special(t byte) bool {
	return t == tar.TypeChar || t == tar.TypeBlock || t == tar.TypeFifo
}

// imageBudget counts the unpacked bytes of one image across the parallel
// readers.
type imageBudget struct {
	used  atomic.Int64
	max   int64
	limit string
}

func newImageBudget(debs []Deb, arch string) *imageBudget {
	l := limits.Get()
	var comp int64
	for _, d := range debs {
		comp += int64(len(d.Data))
	}
	b := &imageBudget{max: l.Image, limit: fmt.Sprintf("the per-image limit of %s (TEMPER_LIMIT_IMAGE) for %s", limits.Human(l.Image), arch)}
	if comp <= (1<<62)/l.Ratio {
		if r := max(comp*l.Ratio, l.RatioFloor); r < b.max {
			b.max = r
			b.limit = fmt.Sprintf("%d× the %d compressed bytes of the image's .debs (TEMPER_LIMIT_RATIO) for %s", l.Ratio, comp, arch)
		}
	}
	return b
}

func (b *imageBudget) take(n int64, pkg, member, entry string) error {
	if n <= 0 {
		return nil
	}
	if b.used.Add(n) > b.max {
		return &limits.Error{What: "build: package " + pkg, Where: member + ": " + entry,
			Limit: fmt.Sprintf("the image's unpacked size limit of %d bytes: %s", b.max, b.limit)}
	}
	return nil
}
