package lock

import (
	"bytes"
	"fmt"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/index"
	"github.com/temper-dev/temper/internal/debian/release"
	"github.com/temper-dev/temper/internal/spec"
)

// LocalIndex is the definition's local_debs: for arch as the local
// repository lock.Resolve adds to the release (nil for none): temper
// check looks up local packages in it.
func LocalIndex(def *spec.Definition, arch string) (*archive.RepoIndex, error) {
	return localIndex(def, arch)
}

// localIndex is the definition's local_debs: as apt sees a local
// repository: one more package file, default priority 500, whose
// packages are those of arch (or all). It needs no signature: the .debs
// are the catalog's own, read when the definition was loaded, and the
// lock pins each by SHA-256. Nil for a definition without local .debs.
func localIndex(def *spec.Definition, arch string) (*archive.RepoIndex, error) {
	if len(def.LocalDebs) == 0 {
		return nil, nil
	}
	var stanzas bytes.Buffer
	for _, f := range def.LocalDebs {
		stanzas.Write(bytes.TrimRight(f.Control, "\n"))
		fmt.Fprintf(&stanzas, "\nFilename: %s\nSize: %d\nSHA256: %s\n\n", f.Src, f.Size, f.SHA256)
	}
	pkgs, err := index.Parse(stanzas.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: local_debs: a control file is not a valid package entry: %w", def.File, err)
	}
	repo := archive.Repository{Name: spec.LocalRepository, Suite: spec.LocalRepository}
	suite := &archive.Suite{Ref: archive.SuiteRef{Name: spec.LocalRepository, Repository: spec.LocalRepository}, Release: &release.File{}}
	x := &archive.RepoIndex{Repository: repo, Suite: suite, Arch: arch}
	for i := range pkgs {
		p := &pkgs[i]
		if p.Architecture != arch && p.Architecture != "all" {
			continue
		}
		x.Packages = append(x.Packages, archive.Package{Package: p, Suite: spec.LocalRepository, Repository: spec.LocalRepository, From: suite})
	}
	return x, nil
}
