// Package relation parses Debian package relationship fields (Depends,
// Pre-Depends, Recommends, Suggests, Enhances, Provides, Conflicts, Breaks,
// Replaces, Built-Using and the Build-Depends family) as described in Debian
// Policy §7.1 and implemented by dpkg: a comma-separated list of relations,
// each a '|'-separated list of alternatives of the form
//
//	name[:archqual] [(op version)] [[arch ...]] [<profile ...> ...]
//
// It also evaluates architecture restrictions and version constraints.
package relation

import (
	"fmt"
	"strings"

	"github.com/temper-dev/temper/internal/debian/version"
)

// Op is a version relation operator.
type Op string

// The version relation operators. The legacy operators "<" and ">" are
// parsed as LE and GE, as Debian Policy prescribes.
const (
	None Op = ""
	LT   Op = "<<"
	LE   Op = "<="
	EQ   Op = "="
	GE   Op = ">="
	GT   Op = ">>"
)

// Possibility is one alternative of a relation, e.g.
// "python3:any (>= 3.11~)" or "foo [amd64 !i386] <!nocheck>".
type Possibility struct {
	Name     string     // package name
	ArchQual string     // "" | "any" | "native" | an architecture name (e.g. "amd64" from "foo:amd64")
	Op       Op         // None when there is no version constraint
	Version  string     // empty when Op == None
	Archs    []string   // architecture restriction list as written, e.g. ["amd64","!i386"] or ["linux-any"]; nil when absent
	Profiles [][]string // build profile formula <a !b> <c>; nil when absent
}

// Relation is a list of alternatives, "a | b".
type Relation struct {
	Alternatives []Possibility
}

// Relations is a whole relationship field: comma-separated relations.
type Relations []Relation

// SyntaxError reports malformed relationship field text.
type SyntaxError struct {
	Offset int    // byte offset of the offending text in the field
	Text   string // the offending text
	Reason string // what is wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid relationship field at byte %d, %q: %s", e.Offset, e.Text, e.Reason)
}

// String formats p in canonical form: "name:qual (op version) [archs] <profiles>".
func (p Possibility) String() string {
	var b strings.Builder
	p.write(&b)
	return b.String()
}

func (p Possibility) write(b *strings.Builder) {
	b.WriteString(p.Name)
	if p.ArchQual != "" {
		b.WriteByte(':')
		b.WriteString(p.ArchQual)
	}
	if p.Op != None {
		b.WriteString(" (")
		b.WriteString(string(p.Op))
		b.WriteByte(' ')
		b.WriteString(p.Version)
		b.WriteByte(')')
	}
	if p.Archs != nil {
		b.WriteString(" [")
		b.WriteString(strings.Join(p.Archs, " "))
		b.WriteByte(']')
	}
	for _, terms := range p.Profiles {
		b.WriteString(" <")
		b.WriteString(strings.Join(terms, " "))
		b.WriteByte('>')
	}
}

// String formats r as "a | b".
func (r Relation) String() string {
	var b strings.Builder
	r.write(&b)
	return b.String()
}

func (r Relation) write(b *strings.Builder) {
	for i, p := range r.Alternatives {
		if i > 0 {
			b.WriteString(" | ")
		}
		p.write(b)
	}
}

// String formats rs as a single-line field value, "a, b | c".
func (rs Relations) String() string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteString(", ")
		}
		r.write(&b)
	}
	return b.String()
}

// AppliesToArch reports whether p's architecture restriction list selects
// the concrete Debian architecture arch (amd64, arm64, armhf, i386, ...).
// A possibility without a list applies everywhere. Entries may be negated
// ("!i386") and may be wildcards ("any", "linux-any", "any-amd64"); the list
// is evaluated as dpkg does (Dpkg::Arch::debarch_is_concerned).
func (p Possibility) AppliesToArch(arch string) bool {
	if p.Archs == nil {
		return true
	}
	return archConcerned(arch, p.Archs)
}

// SatisfiedBy reports whether a package at version ver meets p's version
// constraint. It is true when p has none.
func (p Possibility) SatisfiedBy(ver string) bool {
	if p.Op == None {
		return true
	}
	c := version.CompareStrings(ver, p.Version)
	switch p.Op {
	case LT:
		return c < 0
	case LE:
		return c <= 0
	case EQ:
		return c == 0
	case GE:
		return c >= 0
	case GT:
		return c > 0
	}
	return false
}

// Parse parses a relationship field value. Whitespace, including the
// newlines of folded fields, may appear between all tokens. An empty (or
// all-blank) field yields nil, nil; empty relations between commas, as in a
// trailing comma, are ignored (as dpkg-dev's Dpkg::Deps does), but an empty
// alternative is an error. The legacy operators "<" and ">" are read as "<="
// and ">=". Errors are *SyntaxError and give the offending text and its
// byte offset.
func Parse(field string) (Relations, error) {
	p := parser{s: field}
	var rs Relations
	for {
		p.skipSpace()
		if p.eof() {
			break
		}
		if p.peek() == ',' { // empty relation
			p.i++
			continue
		}
		var r Relation
		for {
			poss, err := p.possibility()
			if err != nil {
				return nil, err
			}
			r.Alternatives = append(r.Alternatives, poss)
			p.skipSpace()
			if p.eof() || p.peek() == ',' {
				break
			}
			if p.peek() != '|' {
				return nil, p.errorf(p.i, p.token(p.i), "expected ',' or '|' after %q", poss.String())
			}
			p.i++
		}
		rs = append(rs, r)
		if !p.eof() {
			p.i++ // ','
		}
	}
	return rs, nil
}

type parser struct {
	s string
	i int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func (p *parser) eof() bool  { return p.i >= len(p.s) }
func (p *parser) peek() byte { return p.s[p.i] }

func (p *parser) skipSpace() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// isDelim reports whether c ends a name, qualifier, version or list item.
func isDelim(c byte) bool {
	return isSpace(c) || strings.IndexByte(":,|()[]<>", c) >= 0
}

// word consumes and returns the bytes up to the next delimiter.
func (p *parser) word() (string, int) {
	start := p.i
	for p.i < len(p.s) && !isDelim(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i], start
}

// token returns a short excerpt of the field at offset i, for errors.
func (p *parser) token(i int) string {
	if i >= len(p.s) {
		return ""
	}
	end := i + 1
	for end < len(p.s) && end-i < 20 && !isSpace(p.s[end]) && !isDelim(p.s[i]) && !isDelim(p.s[end]) {
		end++
	}
	return p.s[i:end]
}

func (p *parser) errorf(off int, text, format string, args ...any) error {
	return &SyntaxError{Offset: off, Text: text, Reason: fmt.Sprintf(format, args...)}
}

func (p *parser) possibility() (Possibility, error) {
	var poss Possibility
	p.skipSpace()
	name, start := p.word()
	if name == "" {
		if p.eof() {
			return poss, p.errorf(start, "", "missing package name at end of field")
		}
		return poss, p.errorf(start, p.token(start), "missing package name")
	}
	if reason := nameError(name); reason != "" {
		return poss, p.errorf(start, name, "invalid package name: %s", reason)
	}
	poss.Name = name
	if !p.eof() && p.peek() == ':' {
		p.i++
		qual, qstart := p.word()
		if qual == "" {
			return poss, p.errorf(qstart-1, p.s[qstart-1:p.i]+p.token(p.i), "missing architecture qualifier after ':'")
		}
		if reason := archNameError(qual); reason != "" {
			return poss, p.errorf(qstart, qual, "invalid architecture qualifier: %s", reason)
		}
		if qual == "all" || qual == "source" {
			return poss, p.errorf(qstart, qual, "architecture qualifier may not be %q", qual)
		}
		poss.ArchQual = qual
	}
	p.skipSpace()
	if !p.eof() && p.peek() == '(' {
		if err := p.constraint(&poss); err != nil {
			return poss, err
		}
		p.skipSpace()
	}
	if !p.eof() && p.peek() == '[' {
		archs, err := p.list('[', ']', "architecture restriction", archItemError)
		if err != nil {
			return poss, err
		}
		poss.Archs = archs
		p.skipSpace()
	}
	for !p.eof() && p.peek() == '<' {
		terms, err := p.list('<', '>', "build profile", profileItemError)
		if err != nil {
			return poss, err
		}
		poss.Profiles = append(poss.Profiles, terms)
		p.skipSpace()
	}
	return poss, nil
}

// constraint parses "(op version)" at p.i.
func (p *parser) constraint(poss *Possibility) error {
	open := p.i
	p.i++ // '('
	p.skipSpace()
	opStart := p.i
	for p.i < len(p.s) && strings.IndexByte("<=>", p.s[p.i]) >= 0 {
		p.i++
	}
	switch op := p.s[opStart:p.i]; op {
	case "<<":
		poss.Op = LT
	case "<=", "<":
		poss.Op = LE
	case "=":
		poss.Op = EQ
	case ">=", ">":
		poss.Op = GE
	case ">>":
		poss.Op = GT
	case "":
		return p.errorf(opStart, p.token(opStart), "missing version relation operator after '(' at byte %d", open)
	default:
		return p.errorf(opStart, op, "unknown version relation operator")
	}
	p.skipSpace()
	vStart := p.i
	for p.i < len(p.s) && !isSpace(p.s[p.i]) && p.s[p.i] != ')' && p.s[p.i] != '(' {
		p.i++
	}
	ver := p.s[vStart:p.i]
	if ver == "" {
		return p.errorf(vStart, p.token(vStart), "missing version after %q", string(poss.Op))
	}
	if _, err := version.Parse(ver); err != nil {
		return p.errorf(vStart, ver, "%v", err)
	}
	poss.Version = ver
	p.skipSpace()
	if p.eof() {
		return p.errorf(open, p.s[open:], "missing ')'")
	}
	if p.peek() != ')' {
		return p.errorf(p.i, p.token(p.i), "expected ')' after version %q", ver)
	}
	p.i++
	return nil
}

// list parses a whitespace-separated list between open and close at p.i.
func (p *parser) list(open, close byte, what string, check func(string) string) ([]string, error) {
	start := p.i
	p.i++ // open
	var items []string
	for {
		p.skipSpace()
		if p.eof() {
			return nil, p.errorf(start, p.s[start:], "missing '%c' after %s list", close, what)
		}
		if p.peek() == close {
			p.i++
			break
		}
		iStart := p.i
		for p.i < len(p.s) && !isSpace(p.s[p.i]) && strings.IndexByte(",|()[]<>", p.s[p.i]) < 0 {
			p.i++
		}
		item := p.s[iStart:p.i]
		if item == "" {
			return nil, p.errorf(iStart, p.token(iStart), "unexpected character in %s list", what)
		}
		if reason := check(item); reason != "" {
			return nil, p.errorf(iStart, item, "invalid %s: %s", what, reason)
		}
		items = append(items, item)
	}
	if len(items) == 0 {
		return nil, p.errorf(start, p.s[start:p.i], "empty %s list", what)
	}
	return items, nil
}

// nameError checks a package name as dpkg does: it must start with an
// alphanumeric character and contain only alphanumerics and "-+._".
func nameError(s string) string {
	if !isAlnum(s[0]) {
		return "must start with an alphanumeric character"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && strings.IndexByte("-+._", c) < 0 {
			return fmt.Sprintf("character %q not allowed (only letters, digits and characters '-+._')", c)
		}
	}
	return ""
}

// archNameError checks an architecture name or wildcard as dpkg does: it
// must start with an alphanumeric character and contain only alphanumerics
// and '-'.
func archNameError(s string) string {
	if s == "" {
		return "may not be empty"
	}
	if !isAlnum(s[0]) {
		return "must start with an alphanumeric character"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' {
			return fmt.Sprintf("character %q not allowed (only letters, digits and '-')", c)
		}
	}
	return ""
}

func archItemError(s string) string {
	return archNameError(strings.TrimPrefix(s, "!"))
}

// profileItemError checks a build profile term: an optional '!' and a name
// of lowercase letters, digits and "-+.".
func profileItemError(s string) string {
	name := strings.TrimPrefix(s, "!")
	if name == "" {
		return "may not be empty"
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isDigit(c) && !('a' <= c && c <= 'z') && strings.IndexByte("-+.", c) < 0 {
			return fmt.Sprintf("character %q not allowed (only lowercase letters, digits and '-+.')", c)
		}
	}
	return ""
}
