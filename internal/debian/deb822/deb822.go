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
	"errors"
	"fmt"
)

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

	// skipped are the lines after Line that belong to no field (comments,
	// and malformed lines of a lenient Scanner), ascending: ValueLines
	// steps over them.
	skipped []int
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

// The kinds of malformed lines; a *SyntaxError for one of them wraps it.
var (
	ErrContinuation = errors.New("continuation line before any field")
	ErrNoColon      = errors.New("missing ':' in field")
	ErrEmptyName    = errors.New("empty field name")
)

// SyntaxError is a malformed line. Callers typically wrap it with the file
// name or URL.
type SyntaxError struct {
	Line int    // 1-based line number
	Msg  string // what is wrong
	Err  error  // ErrContinuation, ErrNoColon, ErrEmptyName, or nil
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Unwrap returns the kind of malformed line.
func (e *SyntaxError) Unwrap() error { return e.Err }
