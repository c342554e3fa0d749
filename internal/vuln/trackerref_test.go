package vuln

// The encoding/json path the tracker was decoded with before the
// hand-written decoder (trackerdec.go): kept here as the reference the
// differential test and the fuzz target compare the decoder with.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
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

// parseTrackerJSON is ParseTrackerBytes as it was: each source's value
// decoded by encoding/json into the structs above.
func parseTrackerJSON(data []byte) (*Index, error) {
	spans, err := splitSources(data)
	if err != nil {
		return nil, err
	}
	b := newIndexBuilder(len(spans))
	for _, sp := range spans {
		var entries map[string]trackerEntry
		if err := json.Unmarshal(sp.value, &entries); err != nil {
			return nil, fmt.Errorf("security tracker JSON, source %q: %w", sp.name, err)
		}
		b.addSource(sp.name, sourceRecords(entries))
	}
	return b.ix, nil
}
