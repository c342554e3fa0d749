package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxSourceFile is the largest files: entry a definition may name: they
// are configuration, read whole when the definition is loaded.
const MaxSourceFile = 64 << 20

// SourceFile is one files: entry: a file of the catalog (Src, relative to
// the definition) written into the image at Dest.
type SourceFile struct {
	Src   string // relative to the definition's directory, clean, inside it
	Dest  string // absolute, clean
	Mode  string // octal, default "0644"
	Owner string // numeric "uid:gid", default "0:0"
	// SHA256 and Data are the file's bytes as read when the definition
	// was loaded; the lock pins SHA256.
	SHA256 string
	Data   []byte
}

// LockFile is one files: entry as the lock pins it.
type LockFile struct {
	Src    string // as the definition names it
	SHA256 string // lowercase hex SHA-256 of its bytes
	Size   int64
}

// SrcPath is the file's path: Src relative to the definition's directory.
func (d *Definition) SrcPath(f SourceFile) string {
	return filepath.Join(filepath.Dir(d.File), filepath.FromSlash(f.Src))
}

// LockFiles are the definition's files as a lock pins them (nil for none).
func (d *Definition) LockFiles() []LockFile {
	var out []LockFile
	for _, f := range d.Files {
		out = append(out, LockFile{Src: f.Src, SHA256: f.SHA256, Size: int64(len(f.Data))})
	}
	return out
}

// FilesMatch reports whether the lock pins exactly the definition's files
// as they are now (same sources, same bytes).
func (l *Lock) FilesMatch(def *Definition) bool {
	return sameLockFiles(def.LockFiles(), l.Files) && sameLockFiles(def.LockLocalDebs(), l.LocalDebs)
}

func sameLockFiles(a, b []LockFile) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (d *decoder) sourceFiles(n *yaml.Node, key string) []SourceFile {
	items, _ := d.seq(n, key)
	var out []SourceFile
	for i, it := range items {
		p := index(key, i)
		var f SourceFile
		m, ok := d.mapping(it, p, "files[]")
		if !ok {
			out = append(out, f)
			continue
		}
		for k, v := range m {
			switch k {
			case "src":
				f.Src, _ = d.str(v, join(p, k))
			case "dest":
				f.Dest, _ = d.str(v, join(p, k))
			case "mode":
				f.Mode, _ = d.str(v, join(p, k))
			case "owner":
				f.Owner, _ = d.str(v, join(p, k))
			}
		}
		out = append(out, f)
	}
	return out
}

// readFiles checks the files: entries and reads each src (relative to the
// definition), recording its bytes and SHA-256; problems are reported at
// the entry's line.
func (d *Definition) readFiles(r *reporter) {
	dests := map[string]string{}
	for _, f := range d.Image.Files {
		dests[f.Path] = "image.files"
	}
	for i := range d.Files {
		f := &d.Files[i]
		p := index("files", i)
		clean := path.Clean(f.Src)
		switch {
		case f.Src == "":
			r.errorf(join(p, "src"), "required: a file relative to the definition")
			continue
		case path.IsAbs(f.Src) || filepath.IsAbs(f.Src):
			r.errorf(join(p, "src"), "%q must be relative to the definition's directory, not absolute", f.Src)
			continue
		case clean == ".." || strings.HasPrefix(clean, "../"):
			r.errorf(join(p, "src"), "%q is outside the definition's directory; put the file beside the definition", f.Src)
			continue
		case clean != f.Src:
			r.errorf(join(p, "src"), "%q is not a clean path; write %q", f.Src, clean)
			continue
		}
		if validateAbs(r, join(p, "dest"), f.Dest, false) {
			if strings.HasSuffix(f.Dest, "/") || f.Dest == "/" {
				r.errorf(join(p, "dest"), "%q is a directory; name a file", f.Dest)
			} else if other, dup := dests[f.Dest]; dup {
				r.errorf(join(p, "dest"), "%q is written by %s too; write each path once", f.Dest, other)
			}
			dests[f.Dest] = p
		}
		if f.Mode != "" && !modeRE.MatchString(f.Mode) {
			r.errorf(join(p, "mode"), "%q is not an octal mode like \"0644\"", f.Mode)
		}
		if f.Owner != "" && (!uidGIDRE.MatchString(f.Owner) || !validID(strings.Split(f.Owner, ":")[0]) || !validID(strings.Split(f.Owner, ":")[1])) {
			r.errorf(join(p, "owner"), "%q: write numeric \"uid:gid\", e.g. \"0:0\"", f.Owner)
		}
		data, err := readSmall(d.SrcPath(*f))
		if err != nil {
			r.errorf(join(p, "src"), "%v; put the file there (relative to the definition) or fix src", err)
			continue
		}
		sum := sha256.Sum256(data)
		f.Data, f.SHA256 = data, hex.EncodeToString(sum[:])
	}
}

// readSmall reads a regular file of at most MaxSourceFile bytes.
func readSmall(p string) ([]byte, error) {
	return readRegular(p, MaxSourceFile, ": files: are configuration; ship large files in a package")
}

// readRegular reads the regular file p, refusing one larger than max
// bytes while reading (never sized by its stat); hint ends the refusal.
// local_debs: and files: src: read the catalog directory through it.
func readRegular(p string, max int, hint string) ([]byte, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	data, err := io.ReadAll(io.LimitReader(fh, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > max {
		return nil, fmt.Errorf("%s is larger than %d MiB%s", p, max>>20, hint)
	}
	return data, nil
}

func (d *decoder) lockFiles(n *yaml.Node) []LockFile { return d.lockFilesAt(n, "files") }

func (d *decoder) lockFilesAt(n *yaml.Node, key string) []LockFile {
	items, _ := d.seq(n, key)
	var out []LockFile
	for i, it := range items {
		p := index(key, i)
		var f LockFile
		m, _ := d.mapping(it, p, key+"[]")
		for k, v := range m {
			switch k {
			case "src":
				f.Src, _ = d.str(v, join(p, k))
			case "sha256":
				f.SHA256, _ = d.str(v, join(p, k))
			case "size":
				f.Size, _ = d.integer(v, join(p, k))
			}
		}
		out = append(out, f)
	}
	return out
}

// validateFiles checks the lock's files: entries.
func (l *Lock) validateFiles(r *reporter) {
	seen := map[string]bool{}
	for i, f := range l.Files {
		p := index("files", i)
		if f.Src == "" {
			r.errorf(join(p, "src"), "required")
		} else if seen[f.Src] {
			r.errorf(join(p, "src"), "duplicate file %q", f.Src)
		}
		seen[f.Src] = true
		if !hexDigestRE.MatchString(f.SHA256) {
			r.errorf(join(p, "sha256"), "%q is not a lowercase hex SHA-256", f.SHA256)
		}
		if f.Size < 0 || f.Size > MaxSourceFile {
			r.errorf(join(p, "size"), "%d is not a file size of at most %d", f.Size, MaxSourceFile)
		}
	}
}

// FilesChanged names the files: entries whose bytes (or presence) differ
// from what the lock pins, for messages ("" when FilesMatch).
func (l *Lock) FilesChanged(def *Definition) string {
	pinned := map[string]string{}
	for _, f := range l.Files {
		pinned[f.Src] = f.SHA256
	}
	var out []string
	for _, f := range def.LockFiles() {
		if pinned[f.Src] != f.SHA256 {
			out = append(out, f.Src)
		}
		delete(pinned, f.Src)
	}
	for src := range pinned {
		out = append(out, src+" (no longer in the definition)")
	}
	if len(out) == 0 && !sameLockFiles(def.LockFiles(), l.Files) {
		out = append(out, "their order")
	}
	out = append(out, l.localDebsChanged(def)...)
	slices.Sort(out)
	return strings.Join(out, ", ")
}
