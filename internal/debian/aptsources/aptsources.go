// Package aptsources reads the machine's apt source configuration
// (sources.list in one-line format and sources.list.d/*.list / *.sources in
// deb822 format) and picks the Debian archive and security archive base URLs
// from it, so that temper uses the same mirror as apt by default.
package aptsources

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/debian/deb822"
)

// Source is one apt source entry: a one-line "deb ..." line or a deb822
// stanza.
type Source struct {
	Types, URIs, Suites, Components []string
	// SignedBy is the signed-by option: keyring paths or fingerprints, or
	// an embedded key block.
	SignedBy string
	Enabled  bool
	// File and Line say where the entry was defined (Line is the first line
	// of a deb822 stanza).
	File string
	Line int
}

// Load reads <root>/etc/apt/sources.list, then <root>/etc/apt/sources.list.d/
// *.list and *.sources in name order. Files with other suffixes are ignored,
// as apt does. Missing files and directories are not errors. root is "/" in
// production. Syntax errors name the file and line.
func Load(root string) ([]Source, error) {
	srcs, _, err := load(root)
	return srcs, err
}

// files returns the apt source files under root that exist, in apt's order.
func files(root string) ([]string, error) {
	var out []string
	main := filepath.Join(root, "etc", "apt", "sources.list")
	if fi, err := os.Stat(main); err == nil && fi.Mode().IsRegular() {
		out = append(out, main)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("apt sources: %w", err)
	}
	dir := filepath.Join(root, "etc", "apt", "sources.list.d")
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("apt sources: %w", err)
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") {
			continue
		}
		if strings.HasSuffix(n, ".list") || strings.HasSuffix(n, ".sources") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, filepath.Join(dir, n))
	}
	return out, nil
}

func load(root string) ([]Source, []string, error) {
	names, err := files(root)
	if err != nil {
		return nil, nil, err
	}
	var all []Source
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, names, fmt.Errorf("apt sources: %w", err)
		}
		var srcs []Source
		if strings.HasSuffix(name, ".sources") {
			srcs, err = parseDeb822(name, data)
		} else {
			srcs, err = parseOneLine(name, data)
		}
		if err != nil {
			return nil, names, err
		}
		all = append(all, srcs...)
	}
	return all, names, nil
}

func syntaxError(file string, line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...))
}

// parseOneLine parses the classic format:
//
//	deb [ opt=val opt2=val2 ] uri suite [component...]
//
// Everything from '#' to the end of a line is a comment.
func parseOneLine(file string, data []byte) ([]Source, error) {
	var out []Source
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		typ, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexAny(typ, "\t["); i > 0 {
			typ, rest = typ[:i], line[i:]
		}
		if typ != "deb" && typ != "deb-src" {
			return nil, syntaxError(file, n, "unknown type %q (want deb or deb-src)", typ)
		}
		s := Source{Types: []string{typ}, Enabled: true, File: file, Line: n}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, syntaxError(file, n, "unterminated option list (missing ])")
			}
			for _, opt := range strings.Fields(rest[1:end]) {
				k, v, ok := strings.Cut(opt, "=")
				if !ok || k == "" {
					return nil, syntaxError(file, n, "malformed option %q (want key=value)", opt)
				}
				switch strings.ToLower(k) {
				case "signed-by":
					s.SignedBy = v
				case "enabled":
					s.Enabled = !isNo(v)
				}
			}
			rest = rest[end+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			return nil, syntaxError(file, n, "want %s URI SUITE [COMPONENT...]", typ)
		}
		s.URIs = []string{f[0]}
		s.Suites = []string{f[1]}
		s.Components = f[2:]
		if !strings.HasSuffix(f[1], "/") && len(s.Components) == 0 {
			return nil, syntaxError(file, n, "suite %q needs at least one component (or end the suite with / for a flat repository)", f[1])
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

func isNo(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "no", "false", "0", "off", "without":
		return true
	}
	return false
}

// parseDeb822 parses the deb822 format through the deb822 reader: stanzas
// of "Field: value" lines separated by blank lines; lines starting with '#'
// are comments; lines starting with white space continue the previous
// field. Every stanza is checked before the next is read, so the first
// error in file order is the one reported.
func parseDeb822(file string, data []byte) ([]Source, error) {
	var out []Source
	sc := deb822.NewBytesScanner(data)
	for sc.Scan() {
		s, err := sourceOf(file, data, sc.Stanza())
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		// The fields before the malformed line come first.
		if err := checkNames(file, data, sc.Stanza()); err != nil {
			return nil, err
		}
		return nil, deb822Error(file, data, err)
	}
	return out, nil
}

// checkNames refuses field names with white space, which apt does not
// read as fields.
func checkNames(file string, data []byte, st *deb822.Stanza) error {
	for _, f := range st.Fields {
		if name := string(f.Name); strings.TrimSpace(name) == "" || strings.ContainsAny(name, " \t") {
			return syntaxError(file, f.Line, "want Field: value, got %q", quoted(data, f.Line))
		}
	}
	return nil
}

// sourceOf reads one stanza into a Source and checks it: an enabled
// stanza needs Types, URIs and Suites, and only deb and deb-src types.
func sourceOf(file string, data []byte, st *deb822.Stanza) (Source, error) {
	if err := checkNames(file, data, st); err != nil {
		return Source{}, err
	}
	s := Source{Enabled: true, File: file, Line: st.Line}
	for i := range st.Fields {
		f := &st.Fields[i]
		value := unfold(st, f)
		switch strings.ToLower(string(f.Name)) {
		case "types":
			s.Types = strings.Fields(value)
		case "uris":
			s.URIs = strings.Fields(value)
		case "suites":
			s.Suites = strings.Fields(value)
		case "components":
			s.Components = strings.Fields(value)
		case "signed-by":
			s.SignedBy = strings.TrimSpace(value)
		case "enabled":
			s.Enabled = !isNo(value)
		}
	}
	if !s.Enabled {
		return s, nil
	}
	for _, req := range []struct {
		name string
		v    []string
	}{{"Types", s.Types}, {"URIs", s.URIs}, {"Suites", s.Suites}} {
		if len(req.v) == 0 {
			return Source{}, syntaxError(file, s.Line, "stanza has no %s field", req.name)
		}
	}
	for _, t := range s.Types {
		if t != "deb" && t != "deb-src" {
			return Source{}, syntaxError(file, s.Line, "unknown type %q (want deb or deb-src)", t)
		}
	}
	return s, nil
}

// unfold returns a field's value as apt reads it: the first-line value,
// then every continuation line trimmed, a "." line standing for an empty
// line.
func unfold(st *deb822.Stanza, f *deb822.Field) string {
	lines := st.ValueLines(f)
	var b strings.Builder
	b.WriteString(strings.TrimSpace(string(lines[0].Text)))
	for _, l := range lines[1:] {
		v := strings.TrimSpace(string(l.Text))
		if v == "." { // an empty line inside a multi-line value
			v = ""
		}
		b.WriteString("\n")
		b.WriteString(v)
	}
	return b.String()
}

// deb822Error words a deb822 syntax error as the apt sources reader does.
func deb822Error(file string, data []byte, err error) error {
	var se *deb822.SyntaxError
	if !errors.As(err, &se) {
		return fmt.Errorf("%s: %w", file, err)
	}
	if errors.Is(err, deb822.ErrContinuation) {
		return syntaxError(file, se.Line, "continuation line outside a field")
	}
	return syntaxError(file, se.Line, "want Field: value, got %q", quoted(data, se.Line))
}

// quoted is line n of data as an error message quotes it.
func quoted(data []byte, n int) string {
	return strings.TrimRight(string(deb822.LineText(data, n)), " \t\r")
}

// Find loads the apt sources under root and returns Mirrors of them. When no
// archive is found, the error lists every source file that was read.
func Find(root string) (archive, security string, err error) {
	srcs, names, err := load(root)
	if err != nil {
		return "", "", err
	}
	return mirrors(srcs, names)
}

// Mirrors picks the Debian archive base URL and the security archive base URL
// from sources:
//
//   - archive is the URI of an enabled "deb" source whose suites include a
//     plain codename (e.g. bookworm) or <codename>-updates;
//   - security is the URI of an enabled "deb" source with a suite ending in
//     "-security" (or the pre-bullseye "<codename>/updates").
//
// Sources that are clearly not Debian's are ignored: Signed-By set to
// something other than a debian-archive keyring, suites like "nodistro", and
// URIs that are not http(s). When several sources qualify, one signed by the
// Debian keyring and whose path ends in /debian (/debian-security) is
// preferred, then the first in file order. Trailing slashes are trimmed.
// If only an archive is found, security is "". If no archive is found the
// error says which files were read and how to name a mirror.
func Mirrors(sources []Source) (archive, security string, err error) {
	var names []string
	seen := map[string]bool{}
	for _, s := range sources {
		if s.File != "" && !seen[s.File] {
			seen[s.File] = true
			names = append(names, s.File)
		}
	}
	return mirrors(sources, names)
}

func mirrors(sources []Source, files []string) (archive, security string, err error) {
	bestA, bestS := -1, -1
	for _, s := range sources {
		if !s.Enabled || !contains(s.Types, "deb") || !debianKey(s.SignedBy) {
			continue
		}
		var isArchive, isSecurity bool
		for _, suite := range s.Suites {
			switch suiteKind(suite) {
			case kindArchive:
				isArchive = true
			case kindSecurity:
				isSecurity = true
			}
		}
		if !isArchive && !isSecurity {
			continue
		}
		for _, u := range s.URIs {
			u = strings.TrimRight(u, "/")
			pu, err := url.Parse(u)
			if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				continue
			}
			score := 0
			if s.SignedBy != "" {
				score += 2
			}
			last := pu.Path[strings.LastIndexByte(pu.Path, '/')+1:]
			if isArchive {
				sc := score
				if last == "debian" {
					sc++
				}
				if sc > bestA {
					archive, bestA = u, sc
				}
			}
			if isSecurity {
				sc := score
				if last == "debian-security" {
					sc++
				}
				if sc > bestS {
					security, bestS = u, sc
				}
			}
		}
	}
	if archive == "" {
		read := "no apt source files"
		if len(files) > 0 {
			read = strings.Join(files, ", ")
		}
		return "", "", fmt.Errorf("no Debian archive found in apt sources (read: %s); "+
			"pass --archive http://<mirror>/debian and --security-archive http://<mirror>/debian-security, "+
			"or set them in the catalog configuration", read)
	}
	return archive, security, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// debianKey reports whether signedBy is empty (apt's global trusted keys) or
// names a Debian archive keyring.
func debianKey(signedBy string) bool {
	if signedBy == "" {
		return true
	}
	if strings.Contains(signedBy, "BEGIN PGP") {
		return false // an embedded key: a third-party repository
	}
	for _, k := range strings.FieldsFunc(signedBy, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		if strings.Contains(strings.ToLower(filepath.Base(k)), "debian-archive") {
			return true
		}
	}
	return false
}

type kind int

const (
	kindOther kind = iota
	kindArchive
	kindSecurity
)

// nonDebianSuites are suite names that third-party repositories use.
var nonDebianSuites = map[string]bool{"nodistro": true}

// suiteKind classifies a suite name.
func suiteKind(suite string) kind {
	if strings.HasSuffix(suite, "-security") || strings.HasSuffix(suite, "/updates") {
		base, _, _ := strings.Cut(suite, "-")
		base, _, _ = strings.Cut(base, "/")
		if plain(base) {
			return kindSecurity
		}
		return kindOther
	}
	if base, ok := strings.CutSuffix(suite, "-updates"); ok {
		suite = base
	}
	if plain(suite) && !nonDebianSuites[suite] {
		return kindArchive
	}
	return kindOther
}

// plain reports whether s looks like a codename or suite alias: lowercase
// letters only (bookworm, trixie, sid, stable, ...).
func plain(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}
