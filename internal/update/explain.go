package update

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/changelog"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/spec"
)

// explain: the CVEs and urgency an upgraded source's changelog lists
// between the locked and the new version.

type changelogResult struct {
	entries []changelog.Entry
	from    string
}

// explain fills in the CVEs and urgency of one source update from the
// changelog of one of its new binary packages, read once per check.
func (c *checker) explain(ctx context.Context, su *SourceUpdate, def *spec.Definition, nl *spec.Lock) {
	res, err := c.changelog.do(su.Source+" "+su.New, func() (*changelogResult, error) {
		return c.findChangelog(ctx, su, def, nl)
	})
	if err != nil {
		su.Note = err.Error()
		return
	}
	su.ChangelogFrom = res.from
	su.CVEs, su.Urgency, su.Versions = changelog.Between(res.entries, su.Old, su.New)
	if su.CVEs == nil {
		su.CVEs = []string{}
	}
	if su.Versions == nil {
		su.Versions = []string{}
	}
}

// maxChangelogTries bounds the release's other binaries tried for a
// changelog (counting those of the new closure already tried).
const maxChangelogTries = 6

// findChangelog reads the source's changelog from the first of its new
// binaries that has one: the new closure's, smallest first, then the
// release's other binaries of that source (shared doc directories point
// at one of them), smallest first.
func (c *checker) findChangelog(ctx context.Context, su *SourceUpdate, def *spec.Definition, nl *spec.Lock) (*changelogResult, error) {
	s := &changelogSearch{c: c, ctx: ctx}
	seen := map[string]bool{}
	var cands []pool.Item
	for _, p := range closureBinaries(nl, su) {
		if !seen[p.Name] {
			seen[p.Name] = true
			cands = append(cands, lockItem(p))
		}
	}
	for _, it := range cands {
		if r := s.try(it); r != nil {
			return r, nil
		}
	}
	for _, arch := range def.Architectures {
		u, err := c.universe(ctx, def, arch)
		if err != nil {
			return nil, err
		}
		for _, p := range otherBinaries(u.Release(), su, seen) {
			if s.tried >= maxChangelogTries {
				break
			}
			seen[p.Name] = true
			if r := s.try(archiveItem(p)); r != nil {
				return r, nil
			}
		}
	}
	if errors.Is(s.lastErr, changelog.ErrNoChangelog) || s.lastErr == nil {
		return nil, fmt.Errorf("no changelog.Debian.gz found in %d .deb(s) of source %s %s", s.tried, su.Source, su.New)
	}
	return nil, s.lastErr
}

// changelogSearch counts the .debs tried and keeps the last failure.
type changelogSearch struct {
	c       *checker
	ctx     context.Context
	tried   int
	lastErr error
}

// try reads the changelog of one .deb; nil when it has none or fails.
func (s *changelogSearch) try(it pool.Item) *changelogResult {
	s.tried++
	data, err := s.c.deb(s.ctx, it)
	if err != nil {
		s.lastErr = err
		return nil
	}
	var entries []changelog.Entry
	s.c.debWork.do(func() { entries, err = changelog.FromDeb(it.Name, debName(it), data) })
	if err != nil {
		s.lastErr = err
		return nil
	}
	return &changelogResult{entries: entries, from: it.Name + " " + it.Version}
}

// closureBinaries lists the new closure's binaries built from the source
// update's new version, smallest first.
func closureBinaries(nl *spec.Lock, su *SourceUpdate) []spec.LockedPackage {
	var out []spec.LockedPackage
	for _, a := range nl.Architectures {
		for _, p := range a.Packages {
			if p.Source == su.Source && p.SourceVersion == su.New {
				out = append(out, p)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Size != out[j].Size {
			return out[i].Size < out[j].Size
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// otherBinaries lists the release's binaries built from the source
// update's new version, other than those seen, smallest first.
func otherBinaries(rel *archive.Release, su *SourceUpdate, seen map[string]bool) []*archive.Package {
	var others []*archive.Package
	for _, name := range rel.Names() {
		if seen[name] {
			continue
		}
		for _, p := range rel.Versions(name) {
			if p.Source == su.Source && p.SourceVersion == su.New {
				others = append(others, p)
				break
			}
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i].Size < others[j].Size })
	return others
}
