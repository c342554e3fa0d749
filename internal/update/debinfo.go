package update

import (
	"archive/tar"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/debian/deb"
)

// sonameRE matches a shared library's file name, capturing the SONAME
// part: libfoo.so.1 from libfoo.so.1.2.3.
var sonameRE = regexp.MustCompile(`^(lib[^/]*\.so\.[0-9]+)(\.[0-9A-Za-z.+~-]*)?$`)

// Sonames returns the shared-library SONAMEs a .deb ships: the names of
// lib*.so.* files and symlinks below usr/lib or lib (reduced to
// libNAME.so.MAJOR) and the libraries its shlibs control file declares.
// A package that declares no shared library (no shlibs or symbols control
// file) and whose name does not start with "lib" is not unpacked.
func Sonames(pkg, name string, data []byte) ([]string, error) {
	d, err := deb.Open(name, data)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	ctl, err := d.Control()
	if err != nil {
		return nil, err
	}
	for _, s := range parseShlibs(ctl["shlibs"]) {
		set[s] = true
	}
	_, hasShlibs := ctl["shlibs"]
	_, hasSymbols := ctl["symbols"]
	if !hasShlibs && !hasSymbols && !strings.HasPrefix(pkg, "lib") {
		return nil, nil
	}
	err = d.Walk(func(hdr *tar.Header, _ io.Reader) error {
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeSymlink && hdr.Typeflag != tar.TypeLink {
			return nil
		}
		p := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if !strings.HasPrefix(p, "usr/lib/") && !strings.HasPrefix(p, "lib/") && !strings.HasPrefix(p, "lib64/") && !strings.HasPrefix(p, "usr/lib64/") {
			return nil
		}
		if m := sonameRE.FindStringSubmatch(path.Base(p)); m != nil {
			set[m[1]] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out, nil
}

// parseShlibs reads a shlibs control file ("[type: ]library version
// dependencies") into SONAMEs: "libfoo 1" is libfoo.so.1, and a version
// that is not a plain number stands for libfoo-VERSION.so.
func parseShlibs(data []byte) []string {
	var out []string
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasSuffix(f[0], ":") {
			f = f[1:] // "udeb: ..."
		}
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		lib, ver := f[0], f[1]
		if isNumeric(ver) {
			if i := strings.IndexByte(ver, '.'); i >= 0 {
				ver = ver[:i] // SONAME major only, as the file names are reduced
			}
			out = append(out, lib+".so."+ver)
		} else {
			out = append(out, lib+"-"+ver+".so")
		}
	}
	return out
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// errNoChangelog says the .deb does not carry its own changelog.Debian.gz
// (absent, or its doc directory is shared with another package).
var errNoChangelog = errors.New("no changelog.Debian.gz of its own")

// DebChangelog reads /usr/share/doc/<pkg>/changelog.Debian.gz from a .deb.
// It returns errNoChangelog when the file is absent, is a symlink, or the
// doc directory is a symlink to another package's.
func DebChangelog(pkg, name string, data []byte) ([]ChangelogEntry, error) {
	d, err := deb.Open(name, data)
	if err != nil {
		return nil, err
	}
	dir := "usr/share/doc/" + pkg
	want := dir + "/changelog.Debian.gz"
	var entries []ChangelogEntry
	found := false
	err = d.Walk(func(hdr *tar.Header, r io.Reader) error {
		p := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		switch {
		case p == dir && hdr.Typeflag == tar.TypeSymlink:
			return fs.SkipAll // shared doc directory
		case p == want && hdr.Typeflag == tar.TypeReg:
			found = true
			var err error
			entries, err = ReadChangelogGz(r)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", name, want, err)
			}
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNoChangelog
	}
	return entries, nil
}

// Lifecycle is one release's row of Debian's lifecycle data
// (distro-info-data's /usr/share/distro-info/debian.csv). Zero dates are
// unknown (not announced yet).
type Lifecycle struct {
	Version, Codename, Series string
	Created, Release          time.Time
	EOL, EOLLTS, EOLELTS      time.Time
}

// DistroInfoPath is where distro-info-data ships Debian's lifecycle data.
const DistroInfoPath = "usr/share/distro-info/debian.csv"

// DebFile returns the content of one regular file of a .deb's data.tar.
func DebFile(name string, data []byte, file string) ([]byte, error) {
	d, err := deb.Open(name, data)
	if err != nil {
		return nil, err
	}
	var out []byte
	found := false
	err = d.Walk(func(hdr *tar.Header, r io.Reader) error {
		if strings.TrimPrefix(path.Clean("/"+hdr.Name), "/") != file || hdr.Typeflag != tar.TypeReg {
			return nil
		}
		found = true
		var err error
		out, err = io.ReadAll(io.LimitReader(r, 16<<20))
		if err != nil {
			return err
		}
		return fs.SkipAll
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%s: no /%s", name, file)
	}
	return out, nil
}

// ParseDebianCSV reads distro-info-data's debian.csv (columns version,
// codename, series, created, release, eol, eol-lts, eol-elts; the last ones
// may be missing or empty) and returns its rows keyed by series (the
// codename in lower case, e.g. "bookworm").
func ParseDebianCSV(data []byte) (map[string]Lifecycle, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("debian.csv: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("debian.csv: empty")
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimSpace(h)] = i
	}
	if _, ok := col["series"]; !ok {
		return nil, fmt.Errorf("debian.csv: no series column in header %q", strings.Join(rows[0], ","))
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	out := map[string]Lifecycle{}
	for n, row := range rows[1:] {
		lc := Lifecycle{Version: get(row, "version"), Codename: get(row, "codename"), Series: get(row, "series")}
		for _, f := range []struct {
			col string
			dst *time.Time
		}{{"created", &lc.Created}, {"release", &lc.Release}, {"eol", &lc.EOL}, {"eol-lts", &lc.EOLLTS}, {"eol-elts", &lc.EOLELTS}} {
			v := get(row, f.col)
			if v == "" {
				continue
			}
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return nil, fmt.Errorf("debian.csv line %d: %s %q: %w", n+2, f.col, v, err)
			}
			*f.dst = t
		}
		if lc.Series != "" {
			out[lc.Series] = lc
		}
	}
	return out, nil
}
