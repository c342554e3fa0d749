package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/temper-dev/temper/internal/about"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/vuln"
)

// VulnFetched is one data set `temper vuln update` fetched.
type VulnFetched struct {
	Kind  vuln.Kind
	State vuln.State
	// Outcome says what happened: updated or not modified.
	Outcome vuln.Outcome
}

// UpdateVulns fetches the tracker, KEV and (when a source names it) EPSS
// into the cache. sources maps a kind to a URL or file; an empty tracker
// or KEV source means the publisher's URL, an empty EPSS source skips it.
func UpdateVulns(ctx context.Context, c *cache.Cache, sources map[vuln.Kind]string, now func() time.Time) ([]VulnFetched, error) {
	opt := vuln.UpdateOptions{HTTP: fetch.NewHTTPClient(), UserAgent: about.UserAgent(), Now: now}
	var out []VulnFetched
	for _, k := range []vuln.Kind{vuln.Tracker, vuln.KEVFeed, vuln.EPSSFeed} {
		from := sources[k]
		if from == "" && k != vuln.EPSSFeed {
			from = vuln.DefaultURLs[k]
		}
		if from == "" {
			continue
		}
		st, what, err := vuln.Update(ctx, c, k, from, opt)
		if err != nil {
			return out, fmt.Errorf("%s: %w", k, err)
		}
		out = append(out, VulnFetched{Kind: k, State: st, Outcome: what})
	}
	return out, nil
}
