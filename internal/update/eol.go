package update

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/debian/lifecycle"
	"github.com/temper-dev/temper/internal/spec"
)

// lifecycleOf returns the release's end-of-life status from the
// distro-info-data package the release itself offers (nil when the release
// has none). The debian.csv found is remembered in the cache for this exact
// archive state (the suites' InRelease digests), so an unchanged archive is
// checked without reading any index.
func (c *checker) lifecycleOf(ctx context.Context, def *spec.Definition, state string) (*EOL, error) {
	e, err := c.releaseLifecycle(ctx, def, state)
	if err != nil {
		return nil, err
	}
	return withRepositoryEOL(e, def, c.opt.Now()), nil
}

// withRepositoryEOL adds the designated repositories' own ends of support
// (end_of_support:) to the release's status: past any of them the stream
// is frozen, as past the release's own end; the earlier date wins.
func withRepositoryEOL(e *EOL, def *spec.Definition, now time.Time) *EOL {
	var repos []RepositoryEOL
	for _, r := range def.Repositories {
		if r.EndOfSupport != "" {
			repos = append(repos, RepositoryEOL{Name: r.Name, URL: r.URL, EndOfSupport: r.EndOfSupport, Past: past(r.EndOfSupport, now)})
		}
	}
	if len(repos) == 0 {
		return e
	}
	if e == nil {
		e = &EOL{Release: def.Debian.Release}
	}
	e.Repositories = repos
	return e
}

// releaseLifecycle is the release's own status (lifecycleOf).
func (c *checker) releaseLifecycle(ctx context.Context, def *spec.Definition, state string) (*EOL, error) {
	release := def.Debian.Release
	lc, err := c.lifecycle.do(release+state, func() (*EOL, error) {
		ref := "temper distro-info v1 " + release + state
		var csv []byte
		var from string
		if c.opt.Cache != nil {
			if v, err := c.opt.Cache.GetRef(ref); err == nil {
				sum, f, _ := strings.Cut(string(v), " ")
				if sum == "none" {
					return nil, nil
				}
				if data, err := c.opt.Cache.Read(sum); err == nil {
					csv, from = data, f
				}
			}
		}
		if csv == nil {
			if len(def.Architectures) == 0 {
				return nil, nil
			}
			u, err := c.universe(ctx, def, def.Architectures[0])
			if err != nil {
				return nil, err
			}
			p := u.Release().Candidate("distro-info-data")
			if p == nil {
				if c.opt.Cache != nil {
					_ = c.opt.Cache.PutRef(ref, []byte("none"))
				}
				return nil, nil
			}
			it := archiveItem(p)
			data, err := c.deb(ctx, it)
			if err != nil {
				return nil, err
			}
			csv, err = lifecycle.FromDeb(debName(it), data)
			if err != nil {
				return nil, err
			}
			from = "distro-info-data " + p.Version
			if c.opt.Cache != nil {
				sum := sha256Hex(csv)
				// Remembering is an optimisation only: errors are ignored.
				if err := c.opt.Cache.WriteBytes(sum, csv); err == nil {
					_ = c.opt.Cache.PutRef(ref, []byte(sum+" "+from))
				}
			}
		}
		rows, err := lifecycle.ParseCSV(csv)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
		row, ok := rows[release]
		if !ok {
			return &EOL{Release: release, From: from}, nil
		}
		e := &EOL{Release: release, From: from, EOL: date(row.EOL), EOLLTS: date(row.EOLLTS), EOLELTS: date(row.EOLELTS)}
		return e, nil
	})
	if err != nil || lc == nil {
		return nil, err
	}
	// The clock may differ between calls; compute the flags on a copy.
	out := *lc
	now := c.opt.Now()
	out.PastEOL = past(out.EOL, now)
	out.PastLTS = past(out.EOLLTS, now)
	return &out, nil
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// past says whether the day d (YYYY-MM-DD) is over at now: support ends
// at the end of the day named.
func past(d string, now time.Time) bool {
	if d == "" {
		return false
	}
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return false
	}
	return !now.Before(t.AddDate(0, 0, 1))
}
