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
