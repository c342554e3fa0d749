package vuln

import (
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
func Scan(definition string, lock *spec.Lock, db *DB) *Image {
	img := &Image{Definition: definition, Release: lock.Release, Findings: []Finding{}}
	bins := map[sourceKey][]Binary{}
	for arch, a := range lock.Architectures {
		img.Architectures = append(img.Architectures, arch)
		if a == nil {
			continue
		}
		for _, p := range a.Packages {
			k := sourceKey{p.Source, SourceVersion(p)}
			bins[k] = append(bins[k], Binary{p.Name, p.Version, p.Architecture})
		}
	}
	sort.Strings(img.Architectures)
	keys := make([]sourceKey, 0, len(bins))
	for k := range bins {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return version.CompareStrings(keys[i].version, keys[j].version) < 0
	})
	n := 0
	for _, k := range keys {
		n += len(db.Index.Records(lock.Release, k.name))
	}
	img.Findings = make([]Finding, 0, n) // one allocation, not a doubling series
	for _, k := range keys {
		recs := db.Index.Records(lock.Release, k.name)
		if len(recs) == 0 {
			continue
		}
		names := packageNames(bins[k]) // shared by the source's findings
		for _, rec := range recs {
			f := db.finding(k, rec, bins[k], names)
			if f.Status == Fixed || f.Status == NotAffected {
				img.Verdicts = append(img.Verdicts, f)
			} else {
				img.Findings = append(img.Findings, f)
			}
		}
	}
	return img
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

// finding applies the matching table to one tracker record.
func (db *DB) finding(k sourceKey, rec Record, bins []Binary, names []string) Finding {
	f := Finding{
		ID: rec.ID, Source: k.name, SourceVersion: k.version, Status: Classify(rec, k.version),
		FixedVersion: rec.FixedVersion, Urgency: rec.Urgency, UrgencyFromNVD: rec.UrgencyFromNVD,
		Description: db.Index.Description(rec.ID), Comment: rec.Comment, Binaries: bins, Packages: names,
	}
	if f.Urgency == "" {
		f.Urgency = "not yet assigned"
	}
	if kev, ok := db.KEV[rec.ID]; ok {
		f.KEV = &kev
	}
	if e, ok := db.EPSS[rec.ID]; ok {
		f.EPSS = &e
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
