package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/temper-dev/temper/internal/debian/deb"
)

// LocalRepository is the repository name the packages of a definition's
// local_debs: carry in its lock: apt's view of them is one more repository
// (a local one, default priority 500). No designated repository may take
// the name.
const LocalRepository = "local"

// MaxLocalDeb is the largest .deb local_debs: may name.
const MaxLocalDeb = 1 << 30

// LocalDeb is one local_debs: entry: a .deb of the catalog (Src, relative
// to the definition), read when the definition is loaded.
type LocalDeb struct {
	Src string // relative to the definition's directory, clean, inside it
	// SHA256 and Size are the file's as read when the definition was
	// loaded; the lock pins them.
	SHA256 string
	Size   int64
	// Control is the package's control file (DEBIAN/control).
	Control []byte
}

// LocalDebPath is the .deb's path: Src relative to the definition's
// directory.
func (d *Definition) LocalDebPath(src string) string {
	return filepath.Join(filepath.Dir(d.File), filepath.FromSlash(src))
}

// LockLocalDebs are the definition's local .debs as a lock pins them (nil
// for none).
func (d *Definition) LockLocalDebs() []LockFile {
	var out []LockFile
	for _, f := range d.LocalDebs {
		out = append(out, LockFile{Src: f.Src, SHA256: f.SHA256, Size: f.Size})
	}
	return out
}

// localDebsChanged lists the local_debs: entries that differ from the
// lock, for FilesChanged.
func (l *Lock) localDebsChanged(def *Definition) []string {
	pinned := map[string]string{}
	for _, f := range l.LocalDebs {
		pinned[f.Src] = f.SHA256
	}
	var out []string
	for _, f := range def.LocalDebs {
		if pinned[f.Src] != f.SHA256 {
			out = append(out, "local_debs: "+f.Src)
		}
		delete(pinned, f.Src)
	}
	for src := range pinned {
		out = append(out, "local_debs: "+src+" (no longer in the definition)")
	}
	if len(out) == 0 && !sameLockFiles(def.LockLocalDebs(), l.LocalDebs) {
		out = append(out, "local_debs: their order")
	}
	return out
}

// readLocalDebs checks the local_debs: entries and reads each .deb
// (relative to the definition): its SHA-256, size and control file;
// problems are reported at the entry's line.
func (d *Definition) readLocalDebs(r *reporter) {
	seen := map[string]bool{}
	for i := range d.LocalDebs {
		f := &d.LocalDebs[i]
		p := index("local_debs", i)
		clean := path.Clean(f.Src)
		switch {
		case f.Src == "":
			r.errorf(p, "empty: name a .deb file relative to the definition")
			continue
		case path.IsAbs(f.Src) || filepath.IsAbs(f.Src):
			r.errorf(p, "%q must be relative to the definition's directory, not absolute", f.Src)
			continue
		case clean == ".." || strings.HasPrefix(clean, "../"):
			r.errorf(p, "%q is outside the definition's directory; put the .deb beside the definition", f.Src)
			continue
		case clean != f.Src:
			r.errorf(p, "%q is not a clean path; write %q", f.Src, clean)
			continue
		case !strings.HasSuffix(f.Src, ".deb"):
			r.errorf(p, "%q is not a .deb file; local_debs: names Debian binary packages (name_version_arch.deb)", f.Src)
			continue
		case seen[f.Src]:
			r.errorf(p, "%q is listed twice; name each .deb once", f.Src)
			continue
		}
		seen[f.Src] = true
		data, err := readLocalDeb(d.LocalDebPath(f.Src))
		if err != nil {
			r.errorf(p, "%v; put the .deb there (relative to the definition) or fix the entry", err)
			continue
		}
		pkg, err := deb.Open(path.Base(f.Src), data)
		if err != nil {
			r.errorf(p, "%s is not a Debian package: %v", d.LocalDebPath(f.Src), err)
			continue
		}
		ctl, err := pkg.Control()
		if err == nil && len(ctl["control"]) == 0 {
			err = fmt.Errorf("control.tar has no control file")
		}
		if err != nil {
			r.errorf(p, "%s: its control file cannot be read: %v; rebuild the package (dpkg-deb --build)", d.LocalDebPath(f.Src), err)
			continue
		}
		sum := sha256.Sum256(data)
		f.SHA256, f.Size, f.Control = hex.EncodeToString(sum[:]), int64(len(data)), ctl["control"]
	}
	for i, rp := range d.Repositories {
		if len(d.LocalDebs) > 0 && rp.Name == LocalRepository {
			r.errorf(join(index("repositories", i), "name"), "%q is the name of local_debs:' repository; name this repository otherwise", rp.Name)
		}
	}
}

// readLocalDeb reads a regular file of at most MaxLocalDeb bytes.
func readLocalDeb(p string) ([]byte, error) { return readRegular(p, MaxLocalDeb, "") }

// ReadLocalDeb reads the local .deb src of the definition and checks it
// is the one the lock pins (sha256): a .deb changed since the lock was
// made is refused, named.
func (d *Definition) ReadLocalDeb(src, sha string) ([]byte, error) {
	p := d.LocalDebPath(src)
	data, err := readLocalDeb(p)
	if err != nil {
		return nil, fmt.Errorf("local_debs: %w", err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != sha {
		return nil, fmt.Errorf("local_debs: %s changed since the lock was made (sha256 %s, the lock pins %s); run `temper lock %s`", p, got, sha, d.File)
	}
	return data, nil
}

// validateLocalDebs checks the lock's local_debs: entries.
func (l *Lock) validateLocalDebs(r *reporter) {
	seen := map[string]bool{}
	for i, f := range l.LocalDebs {
		p := index("local_debs", i)
		if f.Src == "" || path.Clean(f.Src) != f.Src || path.IsAbs(f.Src) || strings.HasPrefix(f.Src, "../") {
			r.errorf(join(p, "src"), "%q must be a clean path relative to the definition", f.Src)
		} else if seen[f.Src] {
			r.errorf(join(p, "src"), "duplicate .deb %q", f.Src)
		}
		seen[f.Src] = true
		if !hexDigestRE.MatchString(f.SHA256) {
			r.errorf(join(p, "sha256"), "%q is not a lowercase hex SHA-256", f.SHA256)
		}
		if f.Size <= 0 || f.Size > MaxLocalDeb {
			r.errorf(join(p, "size"), "%d is not a .deb size", f.Size)
		}
	}
}
