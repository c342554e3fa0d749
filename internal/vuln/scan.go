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
// verdicts skip the description, KEV and EPSS look-ups nothing reads.
func Scan(definition string, lock *spec.Lock, db *DB) *Image {
	img := &Image{Definition: definition, Release: lock.Release}
	bins := lockedSources(lock, img)
	keys := make([]sourceKey, 0, len(bins))
	n := 0
	for k := range bins {
		keys = append(keys, k)
		n += len(db.Index.Records(lock.Release, k.name))
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
		recs := db.Index.Records(lock.Release, k.name)
		if len(recs) == 0 {
			continue
		}
		names := packageNames(bins[k]) // shared by the source's findings
		for _, rec := range recs {
			st := Classify(rec, k.version)
			if st == Fixed || st == NotAffected {
				back--
				all[back] = verdict(k, rec, st, bins[k], names)
				continue
			}
			all[front] = db.finding(k, rec, st, bins[k], names)
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

// finding is one record's finding of status st (a Classify result).
func (db *DB) finding(k sourceKey, rec Record, st Status, bins []Binary, names []string) Finding {
	f := verdict(k, rec, st, bins, names)
	f.Description = db.Index.Description(rec.ID)
	if _, ok := db.KEV[rec.ID]; ok {
		kev := db.KEV[rec.ID] // copied only when present: most ids are not in KEV
		f.KEV = &kev
	}
	if _, ok := db.EPSS[rec.ID]; ok {
		e := db.EPSS[rec.ID]
		f.EPSS = &e
	}
	return f
}

// verdict is what OpenVEX needs of a record: a finding without the
// description, KEV and EPSS.
func verdict(k sourceKey, rec Record, st Status, bins []Binary, names []string) Finding {
	f := Finding{
		ID: rec.ID, Source: k.name, SourceVersion: k.version, Status: st,
		FixedVersion: rec.FixedVersion, Urgency: rec.Urgency, UrgencyFromNVD: rec.UrgencyFromNVD,
		Comment: rec.Comment, Binaries: bins, Packages: names,
	}
	if f.Urgency == "" {
		f.Urgency = "not yet assigned"
	}
	return f
}

// Classify is the matching table: the status of a tracker record for a
// source at version v.
func Classify(rec Record, v string) Status {
	if rec.FixedVersion == "0" {
		return NotAffected
	}
	switch rec.Status {
	case TrackerResolved:
		if rec.FixedVersion == "" || version.CompareStrings(v, rec.FixedVersion) >= 0 {
			return Fixed
		}
		return Fixable
	case TrackerOpen:
		switch {
		case rec.Urgency == "unimportant":
			return Unimportant
		case rec.Urgency == "end-of-life":
			return EndOfLife
		case rec.NoDSAReason == "postponed":
			return Postponed
		case rec.NoDSAReason == "ignored":
			return Ignored
		case rec.NoDSA:
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
