package vuln

import "sort"

// TrackerStatus is a tracker record's status for one release.
type TrackerStatus uint8

// The tracker's statuses. Unknown statuses read as undetermined, so a
// record the tracker adds later is reported rather than dropped.
const (
	TrackerUndetermined TrackerStatus = iota
	TrackerResolved
	TrackerOpen
)

// Record is what matching needs of one (source, id, release) record of the
// security tracker, with its strings: the form Records returns.
type Record struct {
	ID             string
	Status         TrackerStatus
	FixedVersion   string // "" when none; "0" means never affected
	Urgency        string // without the "**" suffix
	UrgencyFromNVD bool   // the urgency had "**": NVD's, not Debian's
	NoDSA          bool   // the record has a nodsa field
	NoDSAReason    string // "", "postponed" or "ignored"
	Comment        string // Debian's nodsa comment, e.g. "Minor issue"
	Description    string // the tracker's description of the id
}

// rec is how the index holds a Record: its strings as indices into the
// index's string table, so that the 345,000 records of the real export
// hold no pointers (the garbage collector never walks them) and a finding's
// description is one slice access rather than a look-up by id.
type rec struct {
	id, fixed, urgency, reason, comment, desc uint32
	status                                    TrackerStatus
	flags                                     uint8
}

const (
	flagNVD   = 1 << 0
	flagNoDSA = 1 << 1
)

// Index is the security tracker reduced to what matching needs: per
// release and source package, the records, whose strings (ids, versions,
// urgencies, comments, descriptions) are in one table; strs[0] is "".
type Index struct {
	strs     []string
	releases map[string]map[string][]rec
}

// Records returns the records of source in release, in id order.
func (ix *Index) Records(release, source string) []Record {
	rs := ix.releases[release][source]
	if len(rs) == 0 {
		return nil
	}
	out := make([]Record, len(rs))
	for i := range rs {
		r := &rs[i]
		out[i] = Record{ID: ix.strs[r.id], Status: r.status, FixedVersion: ix.strs[r.fixed], Urgency: ix.strs[r.urgency],
			UrgencyFromNVD: r.flags&flagNVD != 0, NoDSA: r.flags&flagNoDSA != 0, NoDSAReason: ix.strs[r.reason],
			Comment: ix.strs[r.comment], Description: ix.strs[r.desc]}
	}
	return out
}

// Releases lists the release codenames the index has records for.
func (ix *Index) Releases() []string {
	out := make([]string, 0, len(ix.releases))
	for r := range ix.releases {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Len is the number of (release, source, id) records.
func (ix *Index) Len() int {
	n := 0
	for _, srcs := range ix.releases {
		for _, recs := range srcs {
			n += len(recs)
		}
	}
	return n
}
