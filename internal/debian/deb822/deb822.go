// Package deb822 scans deb822-formatted text (Debian control data) into
// stanzas of fields, fast and with little allocation.
//
// It reads Release/InRelease bodies, Packages and Sources indices and control
// files. The syntax accepted is:
//
//   - A field line is "Name: value". The name is everything before the first
//     ':' and must not be empty; leading and trailing whitespace of the value
//     is removed.
//   - A line starting with a space or a tab continues the previous field
//     (a folded or multi-line value). A continuation line consisting of " ."
//     stands for an empty line inside a multi-line value; it is passed through
//     unchanged for the caller to render.
//   - Lines starting with '#' are comments and are skipped wherever they
//     appear, also between the lines of a multi-line value.
//   - Blank lines (empty or whitespace-only) separate stanzas; any number of
//     them may appear, also before the first and after the last stanza.
//   - CRLF line endings are tolerated (trailing whitespace, including '\r',
//     is removed from every line) and the last line need not end in a newline.
//
// # Field values
//
// Field.Value holds the first-line value (trimmed), followed, for every
// continuation line, by a '\n' and the continuation line exactly as written
// except for trailing whitespace: its leading whitespace is kept. So
//
//	Description: short
//	 long line one
//	 .
//	 long line two
//
// yields the Value "short\n long line one\n .\n long line two", and a field
// whose first line is empty ("SHA256:" followed by continuation lines in a
// Release file) yields a Value starting with '\n'. The text before the first
// '\n' is always the first-line value.
//
// # Memory
//
// NewBytesScanner works on a whole buffer: names and values alias that
// buffer wherever the value is contiguous there (always, except for values
// of multi-line fields whose lines carry trailing whitespace or CRs, or are
// interrupted by comments; those are assembled in a side buffer that is
// never overwritten). Field slices stay valid after later calls to Scan.
// NewScanner streams from an io.Reader through a bounded internal buffer;
// there, field bytes are valid only until the next call to Scan.
//
// In both modes the *Stanza returned by Stanza and its Fields slice are
// reused by the next call to Scan; copy the Field values you keep.
package deb822

import (
	"bytes"
	"fmt"
	"io"
)

// MaxStanzaSize is the largest stanza (including the blank and comment lines
// before it) a streaming Scanner accepts; it bounds the scanner's memory.
const MaxStanzaSize = 64 << 20

// defaultBufSize is the initial buffer size of a streaming Scanner.
const defaultBufSize = 256 << 10

// Field is one field of a stanza. See the package documentation for how
// multi-line values are represented.
type Field struct {
	Name  []byte
	Value []byte
	Line  int // 1-based line number of the field's first line
}

// Stanza is one paragraph of fields.
type Stanza struct {
	Fields []Field
	Line   int // 1-based line number of the stanza's first field
}

// Get returns the value of the first field called name, matched ASCII
// case-insensitively, or nil if there is none.
func (s *Stanza) Get(name string) []byte {
	for i := range s.Fields {
		if equalFold(s.Fields[i].Name, name) {
			return s.Fields[i].Value
		}
	}
	return nil
}

// GetString is Get returning a newly allocated string ("" if absent).
func (s *Stanza) GetString(name string) string {
	return string(s.Get(name))
}

// Has reports whether the stanza has a field called name (ASCII
// case-insensitive), which Get cannot tell for empty values.
func (s *Stanza) Has(name string) bool {
	for i := range s.Fields {
		if equalFold(s.Fields[i].Name, name) {
			return true
		}
	}
	return false
}

// equalFold reports whether b equals s under ASCII case folding.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
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

// SyntaxError is a malformed line. Callers typically wrap it with the file
// name or URL.
type SyntaxError struct {
	Line int    // 1-based line number
	Msg  string // what is wrong
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Scanner reads stanzas one at a time. Create one with NewScanner or
// NewBytesScanner.
type Scanner struct {
	r          io.Reader
	buf        []byte // bytes mode: the whole input; streaming: the buffer
	start, end int    // unread input is buf[start:end]
	eof        bool   // nothing more to read beyond buf[:end]
	bytesMode  bool
	line       int // number of lines before buf[start]
	maxSize    int
	st         Stanza
	arena      []byte
	err        error
	done       bool
}

// NewScanner returns a Scanner streaming from r. Memory use is bounded by
// the largest stanza (at most MaxStanzaSize). Field bytes are valid until
// the next call to Scan.
func NewScanner(r io.Reader) *Scanner {
	return newScannerSize(r, defaultBufSize)
}

func newScannerSize(r io.Reader, size int) *Scanner {
	return &Scanner{r: r, buf: make([]byte, size), maxSize: MaxStanzaSize}
}

// NewBytesScanner returns a Scanner over data. Field slices alias data (or a
// side buffer that is never overwritten) and stay valid after later calls to
// Scan; data must not be modified while they are in use.
func NewBytesScanner(data []byte) *Scanner {
	return &Scanner{buf: data, end: len(data), eof: true, bytesMode: true}
}

// Stanza returns the stanza read by the last successful call to Scan. The
// Stanza and its Fields slice are reused by the next call to Scan.
func (s *Scanner) Stanza() *Stanza { return &s.st }

// Err returns the first error met, other than io.EOF. Syntax errors are
// *SyntaxError; read errors are returned as the reader gave them.
func (s *Scanner) Err() error { return s.err }

// Line returns the number of input lines consumed so far (plus the offset
// set by SetLine).
func (s *Scanner) Line() int { return s.line }

// SetLine declares that n lines precede the input, so that reported line
// numbers are counted from n+1. Use it when scanning a piece cut from a
// larger file. Call it before the first Scan.
func (s *Scanner) SetLine(n int) { s.line = n }

// Scan reads the next stanza, which is then available through Stanza. It
// returns false at the end of input or on error (see Err).
func (s *Scanner) Scan() bool {
	if s.done {
		return false
	}
	for {
		if s.bytesMode {
			// Never overwrite side-buffer bytes handed out before.
			s.arena = s.arena[len(s.arena):]
		} else {
			s.arena = s.arena[:0]
		}
		n, lines, res := s.parse(s.buf[s.start:s.end], s.eof)
		switch res {
		case resStanza:
			s.start += n
			s.line += lines
			return true
		case resEOF:
			s.start += n
			s.line += lines
			s.done = true
			return false
		case resError:
			s.done = true
			s.st.Fields = s.st.Fields[:0]
			return false
		}
		// resMore: n bytes of blank lines and comments were consumed.
		s.start += n
		s.line += lines
		if err := s.fill(); err != nil {
			s.err = err
			s.done = true
			s.st.Fields = s.st.Fields[:0]
			return false
		}
	}
}

// fill reads more input into the streaming buffer, compacting or growing it.
func (s *Scanner) fill() error {
	if s.start > 0 {
		s.end = copy(s.buf, s.buf[s.start:s.end])
		s.start = 0
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= s.maxSize {
			return &SyntaxError{Line: s.line + 1, Msg: fmt.Sprintf("stanza longer than %d bytes", s.maxSize)}
		}
		n := 2 * len(s.buf)
		if n < 4096 {
			n = 4096
		}
		if n > s.maxSize {
			n = s.maxSize
		}
		nb := make([]byte, n)
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	empty := 0
	for s.end < len(s.buf) {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 {
			empty++
			if empty >= 100 {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}

type result int

const (
	resStanza result = iota // a stanza was read
	resEOF                  // only blank lines/comments up to the end of input
	resMore                 // more input is needed
	resError                // syntax error, stored in s.err
)

// parse reads one stanza from b, a prefix of the remaining input (all of it
// when atEOF). It returns the number of bytes and lines consumed.
func (s *Scanner) parse(b []byte, atEOF bool) (consumed, lines int, res result) {
	fields := s.st.Fields[:0]
	line := s.line // number of the line before b[p]
	inStanza := false
	// The value of the last field is either b[curVS:curVE] (curArena < 0)
	// or s.arena[curArena:].
	curVS, curVE, curArena := 0, 0, -1
	p := 0
	// Blank and comment lines before the stanza: consumed even when more
	// input is needed, so they do not count against the buffer limit.
	skip, skipLines := 0, 0
	for {
		if p >= len(b) {
			if !atEOF {
				return skip, skipLines, resMore
			}
			if inStanza {
				s.st.Fields = fields
				return p, line - s.line, resStanza
			}
			s.st.Fields = fields
			return p, line - s.line, resEOF
		}
		var le, next int // end of line content, start of next line
		if nl := bytes.IndexByte(b[p:], '\n'); nl >= 0 {
			le = p + nl
			next = le + 1
		} else {
			if !atEOF {
				return skip, skipLines, resMore
			}
			le, next = len(b), len(b)
		}
		line++
		c := b[p]
		switch c {
		case '#':
			p = next
			if !inStanza {
				skip, skipLines = p, line-s.line
			}
			continue
		case ' ', '\t', '\r', '\n':
			e := le
			for e > p && (b[e-1] == ' ' || b[e-1] == '\t' || b[e-1] == '\r') {
				e--
			}
			if e == p { // blank line
				p = next
				if inStanza {
					s.st.Fields = fields
					return p, line - s.line, resStanza
				}
				skip, skipLines = p, line-s.line
				continue
			}
			if c == ' ' || c == '\t' {
				if !inStanza {
					s.err = &SyntaxError{Line: line, Msg: "continuation line before any field"}
					return 0, 0, resError
				}
				f := &fields[len(fields)-1]
				if curArena < 0 && curVE+1 == p && b[curVE] == '\n' {
					curVE = e
					f.Value = b[curVS:e:e]
				} else {
					if curArena < 0 {
						curArena = len(s.arena)
						s.arena = append(s.arena, f.Value...)
					}
					s.arena = append(s.arena, '\n')
					s.arena = append(s.arena, b[p:e]...)
					n := len(s.arena)
					f.Value = s.arena[curArena:n:n]
				}
				p = next
				continue
			}
			// A line starting with '\r' and something else: treat as a
			// field line.
		}
		// Field line.
		// Field names are short: a plain loop beats IndexByte's setup.
		col := -1
		for i := p; i < le; i++ {
			if b[i] == ':' {
				col = i - p
				break
			}
		}
		if col <= 0 {
			msg := "missing ':' in field"
			if col == 0 {
				msg = "empty field name"
			}
			s.err = &SyntaxError{Line: line, Msg: msg}
			return 0, 0, resError
		}
		if !inStanza {
			inStanza = true
			s.st.Line = line
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
		fields = append(fields, Field{Name: b[p:ne:ne], Value: b[vs:ve:ve], Line: line})
		curVS, curVE, curArena = vs, ve, -1
		p = next
	}
}
