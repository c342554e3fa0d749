package lock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/resolve"
	"github.com/temper-dev/temper/internal/spec"
)

// Repositories are a definition's designated repositories, ready to load:
// one archive.Repository per suite, each with its key checked against the
// pinned fingerprint, and the apt policy their pins make.
type Repositories struct {
	Suites []archive.Repository
	Policy *resolve.Policy
	def    *spec.Definition
}

// LoadRepositories reads each repository's key file (relative to the
// definition) and refuses a key whose fingerprint is not the pinned one.
// A definition without repositories gives nil.
func LoadRepositories(def *spec.Definition) (*Repositories, error) {
	if len(def.Repositories) == 0 {
		return nil, nil
	}
	rs := &Repositories{Policy: &resolve.Policy{}, def: def}
	var errs []error
	for i, r := range def.Repositories {
		kr, err := archive.LoadPinnedKey(def.KeyPath(r), r.Fingerprint)
		if err != nil {
			errs = append(errs, def.FieldError(fmt.Sprintf("repositories[%d].key", i), "%v", err))
			continue
		}
		for _, s := range r.Suites {
			rs.Suites = append(rs.Suites, archive.Repository{Name: r.Name, URL: r.URL, Suite: s, Components: r.Components, Keyring: kr})
		}
		for _, p := range r.Pins {
			rs.Policy.Pins = append(rs.Policy.Pins, resolve.Pin{Packages: p.Packages, Repository: r.Name, Priority: p.Priority})
		}
		if r.DefaultPriority != 0 {
			rs.Policy.Pins = append(rs.Policy.Pins, resolve.Pin{Repository: r.Name, Priority: r.DefaultPriority})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return rs, nil
}

// universe merges the repositories into Debian's universe for one
// architecture, under the definition's pins.
// A non-nil local (the definition's local .debs, localIndex) is merged
// too, but not returned: it has no suite to record.
func (rs *Repositories) universe(ctx context.Context, u *resolve.Universe, releases resolve.Releases, local *archive.RepoIndex) (*resolve.Universe, []*archive.RepoIndex, error) {
	loader, ok := releases.(resolve.Repositories)
	if !ok {
		return nil, nil, fmt.Errorf("%s: this run cannot load designated repositories", rs.def.File)
	}
	idx := make([]*archive.RepoIndex, len(rs.Suites))
	for i, r := range rs.Suites {
		x, err := loader.Repository(ctx, r, u.Arch())
		if err != nil {
			return nil, nil, err
		}
		idx[i] = x
	}
	all := idx
	if local != nil {
		all = append(slices.Clone(idx), local)
	}
	pu, err := resolve.WithRepositories(u, all, rs.Policy)
	if err != nil {
		var pe *resolve.PinError
		if errors.As(err, &pe) {
			return nil, nil, rs.pinError(pe)
		}
		return nil, nil, err
	}
	return pu, idx, nil
}

// pinError places a PinError at the definition's pin.
func (rs *Repositories) pinError(pe *resolve.PinError) error {
	n := 0
	for i, r := range rs.def.Repositories {
		for j := range r.Pins {
			if n == pe.Pin {
				return rs.def.FieldError(fmt.Sprintf("repositories[%d].pins[%d].packages", i, j), "%v", pe)
			}
			n++
		}
		if r.DefaultPriority != 0 {
			n++
		}
	}
	return pe
}

// lockRepositories records the repository suites a lock was resolved
// against.
func lockRepositories(idx []*archive.RepoIndex) []spec.LockRepository {
	var out []spec.LockRepository
	for _, x := range idx {
		fp := ""
		if ents := x.Repository.Keyring.Entities(); len(ents) > 0 {
			fp = archive.Fingerprint(ents[0].PrimaryKey.Fingerprint)
		}
		out = append(out, spec.LockRepository{
			Name: x.Repository.Name, URL: strings.TrimRight(x.Repository.URL, "/"), Suite: x.Repository.Suite,
			Fingerprint: fp, InReleaseSHA256: x.Suite.InReleaseSHA256, Date: x.Suite.Release.Date,
		})
	}
	return out
}
