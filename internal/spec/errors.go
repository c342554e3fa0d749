package spec

import (
	"fmt"
	"sort"
	"strings"
)

// MaxErrors is how many problems one ErrorList reports before it says how
// many more there were.
const MaxErrors = 20

// Error is one problem in a definition or lock. File, Line and Column are
// set when the problem was found in a file (Line and Column are 1-based and
// zero when unknown); Path names the field, e.g. "debian.release" or
// "tests[2].command.args".
type Error struct {
	File   string
	Line   int
	Column int
	Path   string
	Msg    string
}

// Error formats the problem as file:line:column: message, leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, "%d:", e.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in one file, sorted by position. Its
// Error method prints one problem per line, at most MaxErrors of them.
type ErrorList []*Error

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i == MaxErrors {
			fmt.Fprintf(&b, "\n... and %d more problems", len(l)-MaxErrors)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap lets errors.As find a single *Error in the list.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sort orders the list by position and drops exact duplicates.
func (l ErrorList) sorted() ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return false
	})
	out := l[:0]
	for i, e := range l {
		if i > 0 && *e == *l[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	return l.sorted()
}

// pos is a position in a YAML file.
type pos struct{ line, col int }

// positions remembers where each field path was found, so that validation
// running on the typed values can point at the file.
type positions struct {
	file string
	vals map[string]pos // value of the field at the path
	keys map[string]pos // key naming the field at the path (map entries)
	bad  map[string]bool
}

func newPositions(file string) *positions {
	return &positions{file: file, vals: map[string]pos{}, keys: map[string]pos{}, bad: map[string]bool{}}
}

// parent strips the last path element: "a.b[2]" -> "a.b", "a.b" -> "a".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// lookup finds the position of path, or of its nearest ancestor.
func (p *positions) lookup(path string, key bool) pos {
	if p == nil {
		return pos{}
	}
	if key {
		if q, ok := p.keys[path]; ok {
			return q
		}
	}
	for {
		if q, ok := p.vals[path]; ok {
			return q
		}
		if path == "" {
			return pos{}
		}
		path = parent(path)
	}
}

// isBad reports whether path or one of its ancestors already had a problem
// while decoding, so validation does not report the same thing twice.
func (p *positions) isBad(path string) bool {
	if p == nil {
		return false
	}
	for {
		if p.bad[path] {
			return true
		}
		if path == "" {
			return false
		}
		path = parent(path)
	}
}

// reporter collects validation problems for field paths.
type reporter struct {
	pos  *positions
	errs ErrorList
}

func (r *reporter) add(path string, key bool, format string, args ...any) {
	if r.pos.isBad(path) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	q := r.pos.lookup(path, key)
	e := &Error{Line: q.line, Column: q.col, Path: path, Msg: msg}
	if r.pos != nil {
		e.File = r.pos.file
	}
	r.errs = append(r.errs, e)
}

// errorf reports a problem with the value at path.
func (r *reporter) errorf(path, format string, args ...any) { r.add(path, false, format, args...) }

// keyErrorf reports a problem with the key of the map entry at path.
func (r *reporter) keyErrorf(path, format string, args ...any) { r.add(path, true, format, args...) }
