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
// security tracker.
type Record struct {
	ID             string
	Status         TrackerStatus
	FixedVersion   string // "" when none; "0" means never affected
	Urgency        string // without the "**" suffix
	UrgencyFromNVD bool   // the urgency had "**": NVD's, not Debian's
	NoDSA          bool   // the record has a nodsa field
	NoDSAReason    string // "", "postponed" or "ignored"
	Comment        string // Debian's nodsa comment, e.g. "Minor issue"
}

// Index is the security tracker reduced to what matching needs: per
// release and source package, the records; per id, the description.
type Index struct {
	releases     map[string]map[string][]Record
	descriptions map[string]string
}

// Records returns the records of source in release, in id order.
func (ix *Index) Records(release, source string) []Record {
	return ix.releases[release][source]
}

// Description returns the tracker's description of id ("" when none).
func (ix *Index) Description(id string) string { return ix.descriptions[id] }

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
