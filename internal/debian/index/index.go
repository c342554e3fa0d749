// Package index reads a Debian Packages index (the decompressed
// dists/<suite>/<component>/binary-<arch>/Packages file) into Go values,
// fast: a whole bookworm main index (50 MB, 63,000 stanzas) parses in a few
// tens of milliseconds.
//
// Relationship fields (Depends, Provides, ...) are kept as raw text, folded
// onto one line; the relation package parses them.
package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"sync"
	"unsafe"

	"github.com/temper-dev/temper/internal/debian/deb822"
)

// Package is one stanza of a Packages index.
type Package struct {
	Name, Version, Architecture, MultiArch string
	// Source and SourceVersion come from "Source: foo (1.2-3)"; they default
	// to Name and Version.
	Source, SourceVersion string
	Essential             bool
	Priority, Section     string
	Maintainer, Homepage  string
	// Description is the short (first-line) description only.
	Description string
	// Relationship fields: raw text, continuation lines folded onto one
	// line with single spaces.
	Depends, PreDepends, Recommends, Suggests string
	Provides, Conflicts, Breaks, Replaces     string
	Filename                                  string
	Size, InstalledSize                       int64  // InstalledSize in KiB, 0 if absent
	SHA256                                    string // lowercase or uppercase hex, as in the index
}

// ParseError is a stanza that is not a valid Packages entry. Callers add the
// index file name or URL.
type ParseError struct {
	Line    int    // 1-based line of the offending field (or of the stanza)
	Package string // package name, if known
	Field   string // offending field name
	Msg     string // what is wrong
}

func (e *ParseError) Error() string {
	if e.Package != "" {
		return fmt.Sprintf("line %d: package %s: %s", e.Line, e.Package, e.Msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// Parse parses a whole decompressed Packages index held in memory.
//
// The returned strings alias data (no copy is made), so data must not be
// modified afterwards, and it stays in memory while any of the returned
// strings is reachable. Architecture, Multi-Arch, Priority, Section and
// Maintainer values are interned (shared, not aliasing data). Duplicate
// packages are kept, in index order.
//
// Inputs of several megabytes are cut at stanza boundaries and parsed on up
// to GOMAXPROCS goroutines.
//
// Syntax errors are *deb822.SyntaxError; invalid entries (a stanza without
// Package, Version, Architecture, Filename, Size or SHA256 (an empty value
// counts as missing), or with a bad Size, Installed-Size, SHA256, Source or
// Essential value) are *ParseError. Both name the line.
func Parse(data []byte) ([]Package, error) {
	chunks := split(data, runtime.GOMAXPROCS(0))
	if len(chunks) == 1 {
		return parseChunk(data, make([]Package, 0, estimate(len(data))))
	}
	// All chunks parse into one result slice, each from an estimated
	// offset; the gaps are closed afterwards. If a chunk outgrows its
	// region, append moves it to a fresh array and the pieces are copied.
	total := 0
	starts := make([]int, len(chunks))
	for i, c := range chunks {
		starts[i] = total
		total += estimate(c.end - c.off)
	}
	all := make([]Package, total)
	type result struct {
		pkgs []Package
		err  error
	}
	results := make([]result, len(chunks))
	var wg sync.WaitGroup
	for i, c := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			end := total
			if i+1 < len(chunks) {
				end = starts[i+1]
			}
			pkgs, err := parseChunk(data[c.off:c.end], all[starts[i]:starts[i]:end])
			results[i] = result{pkgs, err}
		}()
	}
	wg.Wait()
	n := 0
	inPlace := true
	for i, r := range results {
		if r.err != nil {
			// Line numbers are relative to the chunk; make them absolute.
			return nil, addLines(r.err, bytes.Count(data[:chunks[i].off], nl))
		}
		n += len(r.pkgs)
		if len(r.pkgs) > 0 && unsafe.SliceData(r.pkgs) != &all[starts[i]] {
			inPlace = false
		}
	}
	if !inPlace {
		out := make([]Package, 0, n)
		for _, r := range results {
			out = append(out, r.pkgs...)
		}
		return out, nil
	}
	n = 0
	for _, r := range results {
		n += copy(all[n:], r.pkgs) // moves down (or stays): regions are in order
	}
	clear(all[n:]) // drop stale copies
	return all[:n:n], nil
}

// estimate is a generous guess of the number of stanzas in size bytes of a
// Packages index (bookworm main averages 790 bytes a stanza).
func estimate(size int) int { return size/700 + 16 }

// addLines adds n to the line number of a parse error.
func addLines(err error, n int) error {
	switch e := err.(type) {
	case *ParseError:
		c := *e
		c.Line += n
		return &c
	case *deb822.SyntaxError:
		c := *e
		c.Line += n
		return &c
	}
	return err
}

var nl = []byte{'\n'}

type chunk struct{ off, end int }

// minChunk is the smallest input worth parsing on a goroutine of its own.
// A variable so that tests can exercise splitting on small inputs.
var minChunk = 4 << 20

// split cuts data into at most n chunks at stanza boundaries (after an
// empty line "\n\n").
func split(data []byte, n int) []chunk {
	if n > len(data)/minChunk {
		n = len(data) / minChunk
	}
	if n <= 1 {
		return []chunk{{0, len(data)}}
	}
	var cs []chunk
	off := 0
	for i := 1; i < n; i++ {
		at := len(data) * i / n
		if at < off {
			continue
		}
		j := bytes.Index(data[at:], []byte("\n\n"))
		if j < 0 {
			break
		}
		cut := at + j + 2
		cs = append(cs, chunk{off, cut})
		off = cut
	}
	return append(cs, chunk{off, len(data)})
}

// parseChunk parses data, appending to pkgs, whose spare capacity must be
// zero.
func parseChunk(data []byte, pkgs []Package) ([]Package, error) {
	p := newParser()
	sc := deb822.NewBytesScanner(data)
	for sc.Scan() {
		if len(pkgs) < cap(pkgs) {
			pkgs = pkgs[:len(pkgs)+1] // fresh from make: already zero
		} else {
			pkgs = append(pkgs, Package{})
		}
		if err := p.fill(&pkgs[len(pkgs)-1], sc.Stanza()); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return pkgs, nil
}

// ParseReader parses a Packages index streamed from r, calling fn for each
// package in index order; it stops at the first error, including one
// returned by fn. The *Package is reused by the next call; its strings are
// independent copies (one allocation per package, interned values shared)
// and may be kept.
func ParseReader(r io.Reader, fn func(*Package) error) error {
	p := newParser()
	sc := deb822.NewScanner(r)
	var pkg Package
	for sc.Scan() {
		pkg = Package{}
		if err := p.fill(&pkg, sc.Stanza()); err != nil {
			return err
		}
		detach(&pkg)
		if err := fn(&pkg); err != nil {
			return err
		}
	}
	return sc.Err()
}

// detach copies the strings of pkg that may alias the scanner's buffer into
// one new allocation. Interned strings are shared already; strings from
// folding are fresh; copying them too is harmless.
func detach(pkg *Package) {
	fields := [...]*string{
		&pkg.Name, &pkg.Version, &pkg.Source, &pkg.SourceVersion,
		&pkg.Homepage, &pkg.Description,
		&pkg.Depends, &pkg.PreDepends, &pkg.Recommends, &pkg.Suggests,
		&pkg.Provides, &pkg.Conflicts, &pkg.Breaks, &pkg.Replaces,
		&pkg.Filename, &pkg.SHA256,
	}
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	buf := make([]byte, 0, n)
	for _, f := range fields {
		if len(*f) == 0 {
			continue
		}
		start := len(buf)
		buf = append(buf, *f...)
		*f = unsafe.String(&buf[start], len(*f))
	}
}

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

// str returns b as a string sharing b's memory.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// interner shares the string for each distinct value of a repetitive
// field. It is an open-addressing hash set with a cheap hash: the generic map
// was a tenth of Parse's time.
type interner struct {
	last  string
	slots []string // len is a power of two; "" marks a free slot
	n     int
}

func newInterner(size int) interner {
	return interner{slots: make([]string, size)}
}

func (t *interner) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if string(b) == t.last {
		return t.last
	}
	mask := uint64(len(t.slots) - 1)
	for i := hashBytes(b) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == "" {
			s = string(b)
			t.slots[i] = s
			t.n++
			if 2*t.n > len(t.slots) {
				t.grow()
			}
			t.last = s
			return s
		}
		if s == string(b) {
			t.last = s
			return s
		}
	}
}

func (t *interner) grow() {
	old := t.slots
	t.slots = make([]string, 2*len(old))
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s == "" {
			continue
		}
		i := hashBytes(unsafe.Slice(unsafe.StringData(s), len(s))) & mask
		for t.slots[i] != "" {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// hashBytes mixes the length and the first, middle and last eight bytes of
// b (Maintainer values share long prefixes and suffixes).
func hashBytes(b []byte) uint64 {
	n := len(b)
	var x, y, z uint64
	if n >= 8 {
		x = binary.LittleEndian.Uint64(b)
		y = binary.LittleEndian.Uint64(b[n/2-4:])
		z = binary.LittleEndian.Uint64(b[n-8:])
	} else {
		for i, c := range b {
			x |= uint64(c) << (8 * i)
		}
	}
	h := (x ^ uint64(n)) * 0x9E3779B97F4A7C15
	h = (h ^ y ^ h>>29) * 0xBF58476D1CE4E5B9
	h = (h ^ z ^ h>>32) * 0x94D049BB133111EB
	return h ^ h>>31
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
