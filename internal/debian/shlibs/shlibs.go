// Package shlibs answers which shared-library SONAMEs a .deb ships: from
// its shlibs control file (Debian Policy 8.6.4) and from the lib*.so.*
// files it installs.
//
// It reads the format and the package's files only; whether a change of
// SONAMEs is an ABI risk is the caller's policy. The symbols control file
// is only checked for presence, not read.
package shlibs

import (
	"archive/tar"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/debian/deb"
)

// sonameRE matches a shared library's file name, capturing the SONAME
// part: libfoo.so.1 from libfoo.so.1.2.3.
var sonameRE = regexp.MustCompile(`^(lib[^/]*\.so\.[0-9]+)(\.[0-9A-Za-z.+~-]*)?$`)

// Sonames returns the shared-library SONAMEs a .deb ships (name identifies
// it in errors): the names of lib*.so.* files and symlinks below usr/lib or
// lib (reduced to libNAME.so.MAJOR) and the libraries its shlibs control
// file declares, sorted. A package that declares no shared library (no
// shlibs or symbols control file) and whose name (pkg) does not start with
// "lib" is not unpacked.
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
	for _, s := range Parse(ctl["shlibs"]) {
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
		if !inLibDir(p) {
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

// inLibDir reports whether p (relative, cleaned) is below a directory the
// dynamic linker searches by default.
func inLibDir(p string) bool {
	return strings.HasPrefix(p, "usr/lib/") || strings.HasPrefix(p, "lib/") || strings.HasPrefix(p, "lib64/") || strings.HasPrefix(p, "usr/lib64/")
}

// Parse reads a shlibs control file ("[type: ]library version
// dependencies") into SONAMEs: "libfoo 1" is libfoo.so.1, and a version
// that is not a plain number stands for libfoo-VERSION.so. Comment lines
// and lines with fewer than two words are skipped.
func Parse(data []byte) []string {
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
