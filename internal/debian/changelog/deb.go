package changelog

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/temper-dev/temper/internal/debian/deb"
)

// ErrNoChangelog says the .deb does not carry its own changelog.Debian.gz
// (absent, or its doc directory is shared with another package).
var ErrNoChangelog = errors.New("no changelog.Debian.gz of its own")

// FromDeb reads /usr/share/doc/<pkg>/changelog.Debian.gz from a .deb (name
// identifies it in errors). It returns ErrNoChangelog when the file is
// absent, is a symlink, or the doc directory is a symlink to another
// package's: it does not follow shared doc directories.
func FromDeb(pkg, name string, data []byte) ([]Entry, error) {
	d, err := deb.Open(name, data)
	if err != nil {
		return nil, err
	}
	dir := "usr/share/doc/" + pkg
	want := dir + "/changelog.Debian.gz"
	var entries []Entry
	found := false
	err = d.Walk(func(hdr *tar.Header, r io.Reader) error {
		p := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		switch {
		case p == dir && hdr.Typeflag == tar.TypeSymlink:
			return fs.SkipAll // shared doc directory
		case p == want && hdr.Typeflag == tar.TypeReg:
			found = true
			var err error
			entries, err = ReadGz(r)
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
		return nil, ErrNoChangelog
	}
	return entries, nil
}
