package vuln

import (
	"fmt"
	"io"
	"runtime"

	"golang.org/x/sync/errgroup"
)

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
// parallel batches (trackerDecoder, one pass over each source's bytes); the records are then indexed (their strings interned)
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
			d := trackerDecoder{intern: map[string]string{}}
			for i := lo; i < hi; i++ {
				sp := spans[i]
				recs, err := d.decodeSource(data, sp.start, sp.start+len(sp.value))
				if err != nil {
					return fmt.Errorf("security tracker JSON, source %q: %w", sp.name, err)
				}
				decoded[i] = recs
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
