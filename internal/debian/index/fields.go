package index

import (
	"bytes"
	"fmt"

	"github.com/temper-dev/temper/internal/debian/deb822"
)

// Field identifiers.
const (
	fUnknown = iota
	fPackage
	fVersion
	fArchitecture
	fMultiArch
	fSource
	fEssential
	fPriority
	fSection
	fMaintainer
	fHomepage
	fDescription
	fDepends
	fPreDepends
	fRecommends
	fSuggests
	fProvides
	fConflicts
	fBreaks
	fReplaces
	fFilename
	fSize
	fInstalledSize
	fSHA256
)

// fieldNames are the canonical names of the fields fill reads.
var fieldNames = [...]string{
	fPackage: "Package", fVersion: "Version", fArchitecture: "Architecture",
	fMultiArch: "Multi-Arch", fSource: "Source", fEssential: "Essential",
	fPriority: "Priority", fSection: "Section", fMaintainer: "Maintainer",
	fHomepage: "Homepage", fDescription: "Description", fDepends: "Depends",
	fPreDepends: "Pre-Depends", fRecommends: "Recommends", fSuggests: "Suggests",
	fProvides: "Provides", fConflicts: "Conflicts", fBreaks: "Breaks",
	fReplaces: "Replaces", fFilename: "Filename", fSize: "Size",
	fInstalledSize: "Installed-Size", fSHA256: "SHA256",
}

// byShape lists the fields of each name length and first letter (its low
// five bits, the same for both cases); no shape has more than two.
var byShape = func() (t [15][32][2]uint8) {
	for id, name := range fieldNames {
		if name == "" {
			continue
		}
		c := &t[len(name)][name[0]&31]
		if c[0] == 0 {
			c[0] = uint8(id)
		} else {
			c[1] = uint8(id)
		}
	}
	return t
}()

// lookup identifies a field name (ASCII case-insensitive) by its length and
// first letter, then confirms with one comparison per candidate.
func lookup(n []byte) (int, string) {
	if len(n) < 4 || len(n) >= len(byShape) {
		return fUnknown, ""
	}
	for _, id := range byShape[len(n)][n[0]&31] {
		if id == fUnknown {
			break
		}
		if canon := fieldNames[id]; string(n) == canon || equalFold(n, canon) {
			return int(id), canon
		}
	}
	return fUnknown, ""
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

type parser struct {
	arch, multiArch, priority, section, maintainer interner
}

func newParser() *parser {
	return &parser{
		arch:       newInterner(8),
		multiArch:  newInterner(8),
		priority:   newInterner(16),
		section:    newInterner(128),
		maintainer: newInterner(8192),
	}
}

// Bits of the required fields seen.
const (
	hPackage = 1 << iota
	hVersion
	hArchitecture
	hFilename
	hSize
	hSHA256
	hSource
	hAll = hPackage | hVersion | hArchitecture | hFilename | hSize | hSHA256
)

// fillState is what fill learns besides the package's own fields.
type fillState struct {
	have       int    // h* bits of the fields seen
	srcVersion []byte // the version of "Source: name (version)"
	srcLine    int
	// The first invalid field, reported after Package is known.
	badLine         int
	badName, badMsg string
}

// invalid records f as invalid unless an earlier field was.
func (s *fillState) invalid(f *deb822.Field, canon, format string, args ...any) {
	if s.badLine == 0 {
		s.badLine, s.badName, s.badMsg = f.Line, canon, fmt.Sprintf(format, args...)
	}
}

// fill sets pkg from the fields of st.
func (p *parser) fill(pkg *Package, st *deb822.Stanza) error {
	var s fillState
	for i := range st.Fields {
		f := &st.Fields[i]
		id, canon := lookup(f.Name)
		switch {
		case id == fUnknown:
		case id == fSource:
			s.source(pkg, f, canon)
		case id == fEssential, id == fSize, id == fInstalledSize, id == fSHA256:
			s.checked(pkg, f, id, canon)
		default:
			p.plain(pkg, &s, f, id)
		}
	}
	if s.badLine != 0 || s.have&hAll != hAll {
		return p.stanzaError(pkg, st, s.have, s.badLine, s.badName, s.badMsg)
	}
	if s.have&hSource == 0 {
		pkg.Source = pkg.Name
	}
	if s.srcVersion != nil {
		pkg.SourceVersion = str(s.srcVersion)
	} else {
		pkg.SourceVersion = pkg.Version
	}
	if pkg.Source == "" {
		return &ParseError{Line: s.srcLine, Package: pkg.Name, Field: "Source", Msg: "empty Source"}
	}
	return nil
}

// plain sets a field that is taken as written: identity, text (interned
// where few values repeat often) and relationship fields.
func (p *parser) plain(pkg *Package, s *fillState, f *deb822.Field, id int) {
	v := f.Value
	switch id {
	case fPackage:
		pkg.Name = str(v)
		s.seen(v, hPackage)
	case fVersion:
		pkg.Version = str(v)
		s.seen(v, hVersion)
	case fArchitecture:
		pkg.Architecture = p.arch.get(v)
		s.seen(v, hArchitecture)
	case fFilename:
		pkg.Filename = str(v)
		s.seen(v, hFilename)
	case fMultiArch:
		pkg.MultiArch = p.multiArch.get(v)
	case fPriority:
		pkg.Priority = p.priority.get(v)
	case fSection:
		pkg.Section = p.section.get(v)
	case fMaintainer:
		pkg.Maintainer = p.maintainer.get(v)
	case fHomepage:
		pkg.Homepage = str(v)
	case fDescription:
		if i := bytes.IndexByte(v, '\n'); i >= 0 {
			v = v[:i]
		}
		pkg.Description = str(v)
	default:
		if r := relationOf(pkg, id); r != nil {
			*r = relation(v)
		}
	}
}

// seen marks a required field as present when its value is not empty.
func (s *fillState) seen(v []byte, bit int) {
	if len(v) > 0 {
		s.have |= bit
	}
}

// relationOf returns where the relationship field id goes, or nil.
func relationOf(pkg *Package, id int) *string {
	switch id {
	case fDepends:
		return &pkg.Depends
	case fPreDepends:
		return &pkg.PreDepends
	case fRecommends:
		return &pkg.Recommends
	case fSuggests:
		return &pkg.Suggests
	case fProvides:
		return &pkg.Provides
	case fConflicts:
		return &pkg.Conflicts
	case fBreaks:
		return &pkg.Breaks
	case fReplaces:
		return &pkg.Replaces
	}
	return nil
}

// source reads "Source: name" or "Source: name (version)".
func (s *fillState) source(pkg *Package, f *deb822.Field, canon string) {
	v := f.Value
	s.have |= hSource
	s.srcLine = f.Line
	name := v
	s.srcVersion = nil
	if i := bytes.IndexByte(v, ' '); i >= 0 {
		name = v[:i]
		rest := bytes.TrimLeft(v[i:], " \t")
		if len(rest) < 3 || rest[0] != '(' || rest[len(rest)-1] != ')' {
			s.invalid(f, canon, "invalid Source %q", v)
			return
		}
		s.srcVersion = bytes.TrimSpace(rest[1 : len(rest)-1])
		if len(s.srcVersion) == 0 {
			s.invalid(f, canon, "invalid Source %q", v)
			return
		}
	}
	pkg.Source = str(name)
}

// checked sets a field whose value must have a form: Essential (yes or
// no), Size and Installed-Size (numbers), SHA256 (64 hex digits).
func (s *fillState) checked(pkg *Package, f *deb822.Field, id int, canon string) {
	v := f.Value
	switch id {
	case fEssential:
		switch {
		case equalFold(v, "yes"):
			pkg.Essential = true
		case equalFold(v, "no"):
			pkg.Essential = false
		default:
			s.invalid(f, canon, "invalid Essential %q (want yes or no)", v)
		}
	case fSize, fInstalledSize:
		n, ok := parseSize(v)
		if !ok {
			s.invalid(f, canon, "invalid %s %q", canon, v)
			return
		}
		if id == fSize {
			pkg.Size = n
			s.have |= hSize
		} else {
			pkg.InstalledSize = n
		}
	case fSHA256:
		if !isSHA256(v) {
			s.invalid(f, canon, "invalid SHA256 %q", v)
			return
		}
		pkg.SHA256 = str(v)
		s.have |= hSHA256
	}
}

func (p *parser) stanzaError(pkg *Package, st *deb822.Stanza, have, badLine int, badName, badMsg string) error {
	if have&hPackage == 0 {
		return &ParseError{Line: st.Line, Field: "Package", Msg: "stanza has no Package field"}
	}
	if badLine != 0 {
		return &ParseError{Line: badLine, Package: pkg.Name, Field: badName, Msg: badMsg}
	}
	for _, r := range []struct {
		bit  int
		name string
	}{
		{hVersion, "Version"}, {hArchitecture, "Architecture"},
		{hFilename, "Filename"}, {hSize, "Size"}, {hSHA256, "SHA256"},
	} {
		if have&r.bit == 0 {
			return &ParseError{Line: st.Line, Package: pkg.Name, Field: r.name, Msg: "missing " + r.name + " field"}
		}
	}
	return nil
}

// relation returns a relationship field value on one line.
func relation(v []byte) string {
	if bytes.IndexByte(v, '\n') < 0 {
		return str(v)
	}
	out := make([]byte, 0, len(v))
	for len(v) > 0 {
		line := v
		if i := bytes.IndexByte(v, '\n'); i >= 0 {
			line, v = v[:i], v[i+1:]
		} else {
			v = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if len(out) > 0 {
			out = append(out, ' ')
		}
		out = append(out, line...)
	}
	return str(out)
}

// parseSize parses a non-negative decimal integer.
func parseSize(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// notHex[c] is 1 for bytes that are not hexadecimal digits.
var notHex = func() (t [256]byte) {
	for c := range t {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			t[c] = 1
		}
	}
	return t
}()

// isSHA256 reports whether v is 64 hexadecimal digits. It is branch-free
// over the digits: the obvious loop was a fifth of Parse's time.
func isSHA256(v []byte) bool {
	if len(v) != 64 {
		return false
	}
	v = v[:64]
	var bad byte
	for i := 0; i < 64; i += 4 {
		bad |= notHex[v[i]] | notHex[v[i+1]] | notHex[v[i+2]] | notHex[v[i+3]]
	}
	return bad == 0
}
