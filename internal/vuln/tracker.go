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
// is split by source package, and the sources are decoded into records in
// parallel batches; the records are then indexed (their strings interned)
// in file order, so the same export always gives the same index.
func ParseTrackerBytes(data []byte) (*Index, error) {
	spans, err := splitSources(data)
	if err != nil {
		return nil, err
	}
	const batch = 256
	decoded := make([][]pendingRecord, len(spans))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for lo := 0; lo < len(spans); lo += batch {
		hi := min(lo+batch, len(spans))
		g.Go(func() error {
			for i := lo; i < hi; i++ {
				var entries map[string]trackerEntry
				if err := json.Unmarshal(spans[i].value, &entries); err != nil {
					return fmt.Errorf("security tracker JSON, source %q: %w", spans[i].name, err)
				}
				decoded[i] = sourceRecords(entries)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	b := newIndexBuilder(len(spans))
	for i, sp := range spans {
		b.addSource(sp.name, decoded[i])
		decoded[i] = nil
	}
	return b.ix, nil
}

// pendingRecord is a decoded record before it is indexed.
type pendingRecord struct {
	release string
	Record
}

// sourceRecords turns one source's entries into records, by id and then
// release name.
func sourceRecords(entries map[string]trackerEntry) []pendingRecord {
	ids := make([]string, 0, len(entries))
	n := 0
	for id, e := range entries {
		ids = append(ids, id)
		n += len(e.Releases)
	}
	sort.Strings(ids)
	out := make([]pendingRecord, 0, n)
	for _, id := range ids {
		e := entries[id]
		rels := make([]string, 0, len(e.Releases))
		for rel := range e.Releases {
			rels = append(rels, rel)
		}
		sort.Strings(rels)
		for _, rel := range rels {
			r := recordOf(id, e.Releases[rel])
			r.Description = e.Description
			out = append(out, pendingRecord{rel, r})
		}
	}
	return out
}

// indexBuilder interns the records' strings into the index's table.
type indexBuilder struct {
	ix   *Index
	idx  map[string]uint32
	desc map[string]uint32 // an id's description, by id
}

func newIndexBuilder(sources int) *indexBuilder {
	return &indexBuilder{
		ix:   &Index{strs: []string{""}, releases: map[string]map[string][]rec{}},
		idx:  make(map[string]uint32, sources*8),
		desc: make(map[string]uint32, sources*4),
	}
}

func (b *indexBuilder) str(s string) uint32 {
	if s == "" {
		return 0
	}
	if i, ok := b.idx[s]; ok {
		return i
	}
	i := uint32(len(b.ix.strs))
	b.idx[s] = i
	b.ix.strs = append(b.ix.strs, s)
	return i
}

// description adds an id's description once: descriptions are not hashed
// (they are long and unique per id; hashing megabytes of them only to
// find no duplicates was a fifth of a cold load), only compared with the
// one the id already has.
func (b *indexBuilder) description(idStr, d string) uint32 {
	if d == "" {
		return 0
	}
	if i, ok := b.desc[idStr]; ok && b.ix.strs[i] == d {
		return i
	}
	i := uint32(len(b.ix.strs))
	b.ix.strs = append(b.ix.strs, d)
	b.desc[idStr] = i
	return i
}

func (b *indexBuilder) addSource(source string, recs []pendingRecord) {
	for _, p := range recs {
		srcs := b.ix.releases[p.release]
		if srcs == nil {
			srcs = map[string][]rec{}
			b.ix.releases[p.release] = srcs
		}
		id := b.str(p.ID)
		r := rec{id: id, fixed: b.str(p.FixedVersion), urgency: b.str(p.Urgency), reason: b.str(p.NoDSAReason),
			comment: b.str(p.Comment), desc: b.description(p.ID, p.Description), status: p.Status}
		if p.UrgencyFromNVD {
			r.flags |= flagNVD
		}
		if p.NoDSA {
			r.flags |= flagNoDSA
		}
		srcs[source] = append(srcs[source], r)
	}
}

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
