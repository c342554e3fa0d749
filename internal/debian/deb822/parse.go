package deb822

import "bytes"

type result int

const (
	resStanza result = iota // a stanza was read
	resEOF                  // only blank lines/comments up to the end of input
	resMore                 // more input is needed
	resError                // syntax error, stored in s.err
)

// lineKind is what a line is, judged by its first byte and its content.
type lineKind int

const (
	lineField        lineKind = iota // "Name: value" (or malformed)
	lineComment                      // starts with '#'
	lineBlank                        // empty or white space only
	lineContinuation                 // starts with a space or a tab
)

// stanzaParse is the state of one parse call: the input, the fields read
// so far and where the last field's value lives.
type stanzaParse struct {
	b        []byte
	fields   []Field
	skipped  []int // lines inside the stanza that belong to no field
	line     int   // number of the line being read
	inStanza bool
	// The value of the last field is either b[curVS:curVE] (curArena < 0)
	// or s.arena[curArena:].
	curVS, curVE, curArena int
}

// parse reads one stanza from b, a prefix of the remaining input (all of it
// when atEOF). It returns the number of bytes and lines consumed.
func (s *Scanner) parse(b []byte, atEOF bool) (consumed, lines int, res result) {
	ps := stanzaParse{b: b, fields: s.st.Fields[:0], skipped: s.st.skipped[:0], line: s.line, curArena: -1}
	// Blank and comment lines before the stanza: consumed even when more
	// input is needed, so they do not count against the buffer limit.
	skip, skipLines := 0, 0
	for p := 0; ; {
		le, next, ok := lineAt(b, p, atEOF)
		if !ok {
			if !atEOF {
				return skip, skipLines, resMore
			}
			res = resEOF
			if ps.inStanza {
				res = resStanza
			}
			return p, ps.line - s.line, s.keep(&ps, res)
		}
		ps.line++
		kind, e := classify(b, p, le)
		bad := false
		switch kind {
		case lineBlank:
			if ps.inStanza {
				return next, ps.line - s.line, s.keep(&ps, resStanza)
			}
			skip, skipLines = next, ps.line-s.line
		case lineComment:
			if ps.inStanza {
				ps.skipped = append(ps.skipped, ps.line)
			} else {
				skip, skipLines = next, ps.line-s.line
			}
		case lineContinuation:
			if ps.inStanza {
				s.continueField(&ps, p, e)
			} else {
				bad = true
			}
		case lineField:
			bad = !s.fieldLine(&ps, p, le)
		}
		if bad {
			if !s.lenient {
				s.err = malformed(kind, ps.line, b, p, le)
				return 0, 0, s.keep(&ps, resError)
			}
			// Lenient: the line is passed over like a comment.
			if ps.inStanza {
				ps.skipped = append(ps.skipped, ps.line)
			} else {
				skip, skipLines = next, ps.line-s.line
			}
		}
		p = next
	}
}

// keep hands the fields read to the Stanza.
func (s *Scanner) keep(ps *stanzaParse, res result) result {
	s.st.Fields = ps.fields
	s.st.skipped = ps.skipped
	return res
}

// lineAt finds the line starting at b[p]: the end of its content and the
// start of the next line. ok is false at the end of b, and for a last line
// without a newline unless atEOF.
func lineAt(b []byte, p int, atEOF bool) (le, next int, ok bool) {
	if p >= len(b) {
		return 0, 0, false
	}
	if nl := bytes.IndexByte(b[p:], '\n'); nl >= 0 {
		return p + nl, p + nl + 1, true
	}
	if !atEOF {
		return 0, 0, false
	}
	return len(b), len(b), true
}

// classify says what the line b[p:le] is. For blank and continuation
// lines, e is the end of the content without trailing white space.
func classify(b []byte, p, le int) (kind lineKind, e int) {
	switch c := b[p]; c {
	case '#':
		return lineComment, le
	case ' ', '\t', '\r', '\n':
		e := le
		for e > p && (b[e-1] == ' ' || b[e-1] == '\t' || b[e-1] == '\r') {
			e--
		}
		if e == p {
			return lineBlank, e
		}
		if c == ' ' || c == '\t' {
			return lineContinuation, e
		}
		// A line starting with '\r' and something else: treat as a
		// field line.
	}
	return lineField, le
}

// malformed is the error for a line that is neither a field, a
// continuation of one, a comment nor blank.
func malformed(kind lineKind, line int, b []byte, p, le int) *SyntaxError {
	if kind == lineContinuation {
		return &SyntaxError{Line: line, Msg: ErrContinuation.Error(), Err: ErrContinuation}
	}
	if bytes.IndexByte(b[p:le], ':') == 0 {
		return &SyntaxError{Line: line, Msg: ErrEmptyName.Error(), Err: ErrEmptyName}
	}
	return &SyntaxError{Line: line, Msg: ErrNoColon.Error(), Err: ErrNoColon}
}

// continueField appends the continuation line b[p:e] to the last field's
// value: in place when it directly follows the value in b, otherwise in
// the side buffer.
func (s *Scanner) continueField(ps *stanzaParse, p, e int) {
	b := ps.b
	f := &ps.fields[len(ps.fields)-1]
	if ps.curArena < 0 && ps.curVE+1 == p && b[ps.curVE] == '\n' {
		ps.curVE = e
		f.Value = b[ps.curVS:e:e]
		return
	}
	if ps.curArena < 0 {
		ps.curArena = len(s.arena)
		s.arena = append(s.arena, f.Value...)
	}
	s.arena = append(s.arena, '\n')
	s.arena = append(s.arena, b[p:e]...)
	n := len(s.arena)
	f.Value = s.arena[ps.curArena:n:n]
}

// fieldLine reads the field line b[p:le] into a new field. It reports
// false, reading nothing, when the line has no ':' or (unless lenient) an
// empty name.
func (s *Scanner) fieldLine(ps *stanzaParse, p, le int) bool {
	b := ps.b
	// Field names are short: a plain loop beats IndexByte's setup.
	col := -1
	for i := p; i < le; i++ {
		if b[i] == ':' {
			col = i - p
			break
		}
	}
	if col < 0 || (col == 0 && !s.lenient) {
		return false
	}
	if !ps.inStanza {
		ps.inStanza = true
		s.st.Line = ps.line
	}
	ne := p + col
	vs := ne + 1
	for vs < le && (b[vs] == ' ' || b[vs] == '\t') {
		vs++
	}
	ve := le
	for ve > vs && (b[ve-1] == ' ' || b[ve-1] == '\t' || b[ve-1] == '\r') {
		ve--
	}
	ps.fields = append(ps.fields, Field{Name: b[p:ne:ne], Value: b[vs:ve:ve], Line: ps.line})
	ps.curVS, ps.curVE, ps.curArena = vs, ve, -1
	return true
}
