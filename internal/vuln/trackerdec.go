package vuln

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A hand-written decoder for one source package's value in the tracker's
// export, {id: {description, releases: {codename: {status, fixed_version,
// urgency, nodsa, nodsa_reason, ...}}}}: one pass over the bytes, no
// reflection, building the records encoding/json into the former structs
// built (TestTrackerDecoderDifferential and FuzzTrackerDecoder compare the
// two). It follows encoding/json's rules exactly where they show in the
// records: string escapes (\uXXXX, surrogate pairs, a lone surrogate or an
// invalid UTF-8 byte read as U+FFFD), field names matched exactly or else
// case-insensitively, null leaving a string unchanged, a repeated id or
// codename replacing the earlier one, a repeated "releases" adding to the
// earlier, nodsa accepting any JSON value. Unknown fields are validated and
// skipped; invalid JSON or a value of the wrong type is an error naming the
// byte offset in the file.

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

type trackerDecoder struct {
	data   []byte // the file, up to the end of the value being decoded
	i      int
	depth  int
	buf    []byte
	intern map[string]string
}

type rawRelease struct {
	name                                    string
	status, fixed, urgency, comment, reason string
	nodsa                                   bool
}

type rawEntry struct {
	id, desc string
	rels     []rawRelease
}

// keep copies a decoded string, sharing the short ones that repeat
// (codenames, urgencies, versions).
func (d *trackerDecoder) keep(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > 32 {
		return string(b)
	}
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.intern) < 1<<14 {
		d.intern[s] = s
	}
	return s
}

// Field numbers, and their names as encoding/json matches them: exactly,
// or else folded (ASCII case and Unicode simple folding, so "ſtatus" is
// "status").
const (
	fUnknown = iota
	fDescription
	fReleases
	fStatus
	fFixedVersion
	fUrgency
	fNoDSA
	fNoDSAReason
)

var entryFields = []string{fDescription: "description", fReleases: "releases"}
var releaseFields = []string{fStatus: "status", fFixedVersion: "fixed_version", fUrgency: "urgency", fNoDSA: "nodsa", fNoDSAReason: "nodsa_reason"}

func foldedNames(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if n != "" {
			out[i] = string(foldName([]byte(n)))
		}
	}
	return out
}

var entryFolded, releaseFolded = foldedNames(entryFields), foldedNames(releaseFields)

func fieldOf(key []byte, names, folded []string) int {
	for i, n := range names {
		if n != "" && string(key) == n {
			return i
		}
	}
	f := foldName(key)
	for i, n := range folded {
		if n != "" && string(f) == n {
			return i
		}
	}
	return fUnknown
}

// foldName is encoding/json's: ASCII letters upper-cased, other runes
// replaced by the smallest rune of their fold set.
func foldName(in []byte) []byte {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); {
		if c := in[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(in[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return out
}

// stringField reads a string field: null leaves it unchanged, another
// type is an error.
func (d *trackerDecoder) stringField(dst *string, name string, long bool) error {
	switch d.peek() {
	case 'n':
		return d.lit("null")
	case '"':
		b, err := d.str()
		if err != nil {
			return err
		}
		if long {
			*dst = string(b)
		} else {
			*dst = d.keep(b)
		}
		return nil
	}
	if err := d.skip(); err != nil {
		return err
	}
	return d.typeErr(name)
}

// flexField reads nodsa or nodsa_reason as the former flexString did: a
// string's value, "" for null and false, any other value's JSON text.
// It reports whether the value was null.
func (d *trackerDecoder) flexField(dst *string) (null bool, err error) {
	switch d.peek() {
	case '"':
		b, err := d.str()
		if err != nil {
			return false, err
		}
		*dst = d.keep(b)
		return false, nil
	case 'n':
		*dst = ""
		return true, d.lit("null")
	case 'f':
		*dst = ""
		return false, d.lit("false")
	}
	start := d.i
	if err := d.skip(); err != nil {
		return false, err
	}
	*dst = string(d.data[start:d.i])
	return false, nil
}

func (d *trackerDecoder) release(r *rawRelease) error {
	return d.object(func(key []byte) error {
		switch fieldOf(key, releaseFields, releaseFolded) {
		case fStatus:
			return d.stringField(&r.status, "status", false)
		case fFixedVersion:
			return d.stringField(&r.fixed, "fixed_version", false)
		case fUrgency:
			return d.stringField(&r.urgency, "urgency", false)
		case fNoDSA:
			null, err := d.flexField(&r.comment)
			r.nodsa = !null
			return err
		case fNoDSAReason:
			_, err := d.flexField(&r.reason)
			return err
		}
		return d.skip()
	})
}

func (d *trackerDecoder) entry(e *rawEntry) error {
	return d.object(func(key []byte) error {
		switch fieldOf(key, entryFields, entryFolded) {
		case fDescription:
			return d.stringField(&e.desc, "description", true)
		case fReleases:
			switch d.peek() {
			case 'n':
				e.rels = nil
				return d.lit("null")
			case '{':
				return d.object(func(key []byte) error {
					r := rawRelease{name: d.keep(key)}
					switch d.peek() {
					case 'n':
						if err := d.lit("null"); err != nil {
							return err
						}
					case '{':
						if err := d.release(&r); err != nil {
							return err
						}
					default:
						if err := d.skip(); err != nil {
							return err
						}
						return d.typeErr("a release record")
					}
					e.rels = append(e.rels, r)
					return nil
				})
			}
			if err := d.skip(); err != nil {
				return err
			}
			return d.typeErr("releases")
		}
		return d.skip()
	})
}

// decodeSource decodes the object at data[start:end] (one source's
// entries) into its records, by id and then codename.
func (d *trackerDecoder) decodeSource(data []byte, start, end int) ([]pendingRecord, error) {
	d.data, d.i, d.depth = data[:end], start, 0
	var entries []rawEntry
	err := d.object(func(key []byte) error {
		e := rawEntry{id: string(key)}
		switch d.peek() {
		case 'n':
			if err := d.lit("null"); err != nil {
				return err
			}
		case '{':
			if err := d.entry(&e); err != nil {
				return err
			}
		default:
			if err := d.skip(); err != nil {
				return err
			}
			return d.typeErr("an entry")
		}
		entries = append(entries, e)
		return nil
	})
	if err == nil && d.i != end {
		err = d.fail("expected the end of the source's object")
	}
	if err != nil {
		return nil, err
	}
	// A repeated id or codename replaces the earlier one (as in a map).
	entries = lastOf(entries, func(a, b rawEntry) int { return strings.Compare(a.id, b.id) })
	n := 0
	for i := range entries {
		entries[i].rels = lastOf(entries[i].rels, func(a, b rawRelease) int { return strings.Compare(a.name, b.name) })
		n += len(entries[i].rels)
	}
	out := make([]pendingRecord, 0, n)
	for _, e := range entries {
		for _, r := range e.rels {
			p := pendingRecord{release: r.name, Record: recordFrom(e.id, r)}
			p.Description = e.desc
			out = append(out, p)
		}
	}
	return out, nil
}

// lastOf sorts s stably and keeps the last of each run of equal elements.
func lastOf[T any](s []T, cmp func(a, b T) int) []T {
	if len(s) < 2 {
		return s
	}
	slices.SortStableFunc(s, cmp)
	w := 0
	for i := range s {
		if i+1 < len(s) && cmp(s[i], s[i+1]) == 0 {
			continue
		}
		s[w] = s[i]
		w++
	}
	return s[:w]
}

// recordFrom keeps what matching needs from one release record.
func recordFrom(id string, r rawRelease) Record {
	rec := Record{ID: id, FixedVersion: r.fixed, NoDSAReason: r.reason}
	switch r.status {
	case "resolved":
		rec.Status = TrackerResolved
	case "open":
		rec.Status = TrackerOpen
	default: // "undetermined", and anything the tracker may add later
		rec.Status = TrackerUndetermined
	}
	rec.Urgency, rec.UrgencyFromNVD = strings.CutSuffix(r.urgency, "**")
	rec.Urgency = strings.TrimSpace(rec.Urgency)
	if r.nodsa {
		rec.NoDSA = true
		rec.Comment = r.comment
	}
	return rec
}
