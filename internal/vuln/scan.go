package vuln

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/debian/version"
	"github.com/temper-dev/temper/internal/spec"
)

// sourceKey is what matching keys on: a source package and its version.
type sourceKey struct{ name, version string }

// Scan matches every package of the lock against db for the lock's
// release. definition is how the image is named in the report.
//
// It is allocation-bound over a catalog (a lock hits hundreds of
// records), so findings and verdicts share one exactly sized array, and
// verdicts skip the description, KEV and EPSS look-ups nothing reads; a
// finding's description is its record's (a table index, no look-up).
func Scan(definition string, lock *spec.Lock, db *DB) *Image {
	img := &Image{Definition: definition, Release: lock.Release}
	bins := lockedSources(lock, img)
	srcs := db.Index.releases[lock.Release]
	keys := make([]sourceKey, 0, len(bins))
	n := 0
	for k := range bins {
		keys = append(keys, k)
		n += len(srcs[k.name])
	}
	slices.SortFunc(keys, func(a, b sourceKey) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return version.CompareStrings(a.version, b.version)
	})
	// Findings fill all from the front, verdicts from the back.
	all := make([]Finding, n)
	front, back := 0, n
	for _, k := range keys {
		recs := srcs[k.name]
		if len(recs) == 0 {
			continue
		}
		names := packageNames(bins[k]) // shared by the source's findings
		for i := range recs {
			r := &recs[i]
			st := db.Index.classify(r, k.version)
			if st == Fixed || st == NotAffected {
				back--
				db.Index.verdict(&all[back], k, r, st, bins[k], names)
				continue
			}
			db.finding(&all[front], k, r, st, bins[k], names)
			front++
		}
	}
	img.Findings = all[:front:front]
	img.Verdicts = all[back:]
	slices.Reverse(img.Verdicts)
	if len(img.Verdicts) == 0 {
		img.Verdicts = nil
	}
	return img
}

// lockedSources groups the lock's binary packages, of every architecture,
// by source key, and lists the architectures on img. Packages from a
// designated repository are not Debian's: they are listed on img as not
// covered and never matched against Debian's data.
func lockedSources(lock *spec.Lock, img *Image) map[sourceKey][]Binary {
	size := 0
	for _, a := range lock.Architectures {
		if a != nil {
			size = max(size, len(a.Packages))
		}
	}
	bins := make(map[sourceKey][]Binary, size)
	var other map[notCoveredKey][]Binary
	for arch, a := range lock.Architectures {
		img.Architectures = append(img.Architectures, arch)
		if a == nil {
			continue
		}
		for _, p := range a.Packages {
			if p.Repository != "" {
				if other == nil {
					other = map[notCoveredKey][]Binary{}
				}
				k := notCoveredKey{sourceKey{p.Source, SourceVersion(p)}, p.Repository}
				other[k] = append(other[k], Binary{p.Name, p.Version, p.Architecture})
				continue
			}
			k := sourceKey{p.Source, SourceVersion(p)}
			bins[k] = append(bins[k], Binary{p.Name, p.Version, p.Architecture})
		}
	}
	sort.Strings(img.Architectures)
	img.NotCovered = notCovered(other)
	return bins
}

type notCoveredKey struct {
	sourceKey
	repository string
}

// notCovered lists the repository packages by source, in a stable order.
func notCovered(m map[notCoveredKey][]Binary) []NotCovered {
	var out []NotCovered
	for k, bins := range m {
		out = append(out, NotCovered{Source: k.name, SourceVersion: k.version, Packages: packageNames(bins),
			Repository: k.repository, Status: NotCoveredStatus, Reason: fmt.Sprintf(NotCoveredReason, k.repository)})
	}
	slices.SortFunc(out, func(a, b NotCovered) int {
		return strings.Compare(a.Source+" "+a.SourceVersion+" "+a.Repository, b.Source+" "+b.SourceVersion+" "+b.Repository)
	})
	return out
}

// SourceVersion is the version matching uses for a locked package: its
// source version, without a binNMU suffix (+bN) should the index have given
// the binary's version for it.
func SourceVersion(p spec.LockedPackage) string {
	v := p.SourceVersion
	if v == "" {
		v = p.Version
	}
	return stripBinNMU(v)
}

func stripBinNMU(v string) string {
	i := strings.LastIndex(v, "+b")
	if i < 0 || i+2 == len(v) {
		return v
	}
	for _, c := range v[i+2:] {
		if c < '0' || c > '9' {
			return v
		}
	}
	return v[:i]
}

// finding fills f with one record's finding of status st (a classify
// result).
func (db *DB) finding(f *Finding, k sourceKey, r *rec, st Status, bins []Binary, names []string) {
	db.Index.verdict(f, k, r, st, bins, names)
	f.Description = db.Index.strs[r.desc]
	if db.KEV != nil {
		if kev, ok := db.KEV[f.ID]; ok { // copied only when present: most ids are not in KEV
			f.KEV = &kev
		}
	}
	if db.EPSS != nil {
		if e, ok := db.EPSS[f.ID]; ok {
			f.EPSS = &e
		}
	}
}

// verdict fills f with what OpenVEX needs of a record: a finding without
// the description, KEV and EPSS.
func (ix *Index) verdict(f *Finding, k sourceKey, r *rec, st Status, bins []Binary, names []string) {
	*f = Finding{
		ID: ix.strs[r.id], Source: k.name, SourceVersion: k.version, Status: st,
		FixedVersion: ix.strs[r.fixed], Urgency: ix.strs[r.urgency], UrgencyFromNVD: r.flags&flagNVD != 0,
		Comment: ix.strs[r.comment], Binaries: bins, Packages: names,
	}
	if f.Urgency == "" {
		f.Urgency = "not yet assigned"
	}
}

// classify is Classify on an indexed record.
func (ix *Index) classify(r *rec, v string) Status {
	return classify(r.status, ix.strs[r.fixed], ix.strs[r.urgency], ix.strs[r.reason], r.flags&flagNoDSA != 0, v)
}

// Classify is the matching table: the status of a tracker record for a
// source at version v.
func Classify(rec Record, v string) Status {
	return classify(rec.Status, rec.FixedVersion, rec.Urgency, rec.NoDSAReason, rec.NoDSA, v)
}

func classify(status TrackerStatus, fixed, urgency, reason string, nodsa bool, v string) Status {
	if fixed == "0" {
		return NotAffected
	}
	switch status {
	case TrackerResolved:
		if fixed == "" || version.CompareStrings(v, fixed) >= 0 {
			return Fixed
		}
		return Fixable
	case TrackerOpen:
		switch {
		case urgency == "unimportant":
			return Unimportant
		case urgency == "end-of-life":
			return EndOfLife
		case reason == "postponed":
			return Postponed
		case reason == "ignored":
			return Ignored
		case nodsa:
			return NoDSA
		}
		return Open
	}
	return Undetermined
}

// packageNames lists the binary package names, sorted, once each.
func packageNames(bins []Binary) []string {
	names := make([]string, 0, len(bins))
	for _, b := range bins {
		names = append(names, b.Name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}
