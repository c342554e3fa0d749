package lifecycle

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/debian/pool"
)

// FromDeb returns debian.csv (Path) from the distro-info-data .deb (name
// identifies it in errors). It reads at most 16 MiB.
func FromDeb(name string, data []byte) ([]byte, error) {
	d, err := deb.Open(name, data)
	if err != nil {
		return nil, err
	}
	var out []byte
	found := false
	err = d.Walk(func(hdr *tar.Header, r io.Reader) error {
		if strings.TrimPrefix(path.Clean("/"+hdr.Name), "/") != Path || hdr.Typeflag != tar.TypeReg {
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
		return nil, fmt.Errorf("%s: no /%s", name, Path)
	}
	return out, nil
}

// Connect returns the archive client and the .deb fetcher Fetch reads
// through; Fetch calls it only when there is a release to read.
type Connect func() (*archive.Client, *pool.Fetcher, error)

// Fetch reads debian.csv from distro-info-data in the newest of releases
// (ordered oldest first; the newest package knows every release's dates),
// from that release's amd64 main component. It returns the CSV and where it
// came from, e.g. "distro-info-data 0.58+deb12u3 (bookworm)". It does not
// parse the CSV.
func Fetch(ctx context.Context, connect Connect, releases []string) ([]byte, string, error) {
	if len(releases) == 0 {
		return nil, "", errors.New("no release")
	}
	client, fetcher, err := connect()
	if err != nil {
		return nil, "", err
	}
	newest := releases[len(releases)-1]
	rel, err := client.LoadReleaseComponents(ctx, newest, "amd64", []string{"main"})
	if err != nil {
		return nil, "", err
	}
	p := rel.Candidate("distro-info-data")
	if p == nil {
		return nil, "", fmt.Errorf("%s has no distro-info-data", newest)
	}
	it := pool.Item{Name: p.Name, Version: p.Version, Suite: p.Suite, Filename: p.Filename, SHA256: strings.ToLower(p.SHA256), Size: p.Size}
	data, _, err := fetcher.Fetch(ctx, []pool.Item{it})
	if err != nil {
		return nil, "", err
	}
	csv, err := FromDeb(p.Name+"_"+p.Version+".deb", data[0])
	if err != nil {
		return nil, "", err
	}
	return csv, "distro-info-data " + p.Version + " (" + newest + ")", nil
}
