package vuln

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
)

// trackerRelease is one release's record of a tracker entry. Fields the
// matching does not need (repositories, next_point_update, debianbug) are
// not decoded.
type trackerRelease struct {
	Status       string      `json:"status"`
	FixedVersion string      `json:"fixed_version"`
	Urgency      string      `json:"urgency"`
	NoDSA        *flexString `json:"nodsa"`
	NoDSAReason  flexString  `json:"nodsa_reason"`
}

// trackerEntry is one CVE (or TEMP-) id of one source package.
type trackerEntry struct {
	Description string                    `json:"description"`
	Releases    map[string]trackerRelease `json:"releases"`
}

// flexString accepts a JSON string, boolean or number: the tracker writes
// nodsa as Debian's comment, but a boolean must not break the parse.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if string(b) == "null" || string(b) == "false" {
		*f = ""
		return nil
	}
	*f = flexString(b)
	return nil
}

// ParseTracker reads the tracker's JSON export, {source: {id: entry}}, into
// an Index.
func ParseTracker(r io.Reader) (*Index, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return ParseTrackerBytes(data)
}

// ParseTrackerBytes parses the export held in memory: the top-level object
// is split by source package and the sources are decoded in parallel
// batches, then indexed in file order.
func ParseTrackerBytes(data []byte) (*Index, error) {
	spans, err := splitSources(data)
	if err != nil {
		return nil, err
	}
	const batch = 256
	decoded := make([]map[string]trackerEntry, len(spans))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for lo := 0; lo < len(spans); lo += batch {
		hi := min(lo+batch, len(spans))
		g.Go(func() error {
			for i := lo; i < hi; i++ {
				if err := json.Unmarshal(spans[i].value, &decoded[i]); err != nil {
					return fmt.Errorf("security tracker JSON, source %q: %w", spans[i].name, err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	b := newIndexBuilder()
	for i, sp := range spans {
		b.addSource(sp.name, decoded[i])
		decoded[i] = nil
	}
	return b.finish(), nil
}

// indexBuilder collects records while the tracker is read.
type indexBuilder struct{ ix *Index }

func newIndexBuilder() *indexBuilder {
	return &indexBuilder{ix: &Index{releases: map[string]map[string][]Record{}, descriptions: map[string]string{}}}
}

func (b *indexBuilder) addSource(source string, entries map[string]trackerEntry) {
	ids := make([]string, 0, len(entries))
	for id := range entries {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		e := entries[id]
		if e.Description != "" {
			b.ix.descriptions[id] = e.Description
		}
		for rel, r := range e.Releases {
			srcs := b.ix.releases[rel]
			if srcs == nil {
				srcs = map[string][]Record{}
				b.ix.releases[rel] = srcs
			}
			srcs[source] = append(srcs[source], recordOf(id, r))
		}
	}
}

func (b *indexBuilder) finish() *Index { return b.ix }

// recordOf keeps what matching needs from one release record.
func recordOf(id string, r trackerRelease) Record {
	rec := Record{ID: id, FixedVersion: r.FixedVersion, NoDSAReason: string(r.NoDSAReason)}
	switch r.Status {
	case "resolved":
		rec.Status = TrackerResolved
	case "open":
		rec.Status = TrackerOpen
	default: // "undetermined", and anything the tracker may add later
		rec.Status = TrackerUndetermined
	}
	rec.Urgency, rec.UrgencyFromNVD = strings.CutSuffix(r.Urgency, "**")
	rec.Urgency = strings.TrimSpace(rec.Urgency)
	if r.NoDSA != nil {
		rec.NoDSA = true
		rec.Comment = string(*r.NoDSA)
	}
	return rec
}
