// Package release models a Debian archive's Release file and verifies the
// OpenPGP clearsigned InRelease file that carries it.
//
// VerifyInRelease checks every signature in an InRelease file against a
// Keyring of trusted archive keys (EmbeddedKeyring holds Debian's own keys)
// and returns the signed text; Parse turns that text into a File, whose
// SHA256 list is what every index downloaded from the archive is checked
// against. CheckValid enforces the Valid-Until field.
package release

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/debian/deb822"
)

// FileHash is one entry of a Release file's SHA256 field.
type FileHash struct {
	Path   string // relative to the suite directory, e.g. "main/binary-amd64/Packages.xz"
	Size   int64
	SHA256 string // 64 lower-case hex digits
}

// File is the parsed content of a Release file (the signed text of InRelease).
type File struct {
	Origin, Label, Suite, Codename, Version string

	Date       time.Time // UTC; zero when absent
	ValidUntil time.Time // UTC; zero when absent

	// AcquireByHash reports "Acquire-By-Hash: yes": indices can be fetched
	// from ByHashPath paths, which never change while they are listed.
	AcquireByHash bool

	// NotAutomatic and ButAutomaticUpgrades are the flags that lower a
	// suite's default apt priority (1, or 100 with both), as backports and
	// experimental set them.
	NotAutomatic, ButAutomaticUpgrades bool

	Architectures, Components []string

	// SHA256 lists the files of the suite in the order of the Release file.
	SHA256 []FileHash
}

// ErrExpired is wrapped by CheckValid's error when Valid-Until has passed.
var ErrExpired = errors.New("Release file expired")

// Parse parses the text of a Release file: one deb822 stanza. Field names are
// case-insensitive; SHA256 is a multi-line field of "<sha256> <size> <path>"
// lines. Dates use the RFC 1123 form "Sat, 11 Jul 2026 10:16:37 UTC" (UTC,
// GMT or a numeric zone such as +0000). A Release file without a SHA256 field
// parses, with an empty SHA256 list; malformed lines, fields, dates or
// hashes are errors naming the line.
func Parse(body []byte) (*File, error) {
	fields, err := parseStanza(body)
	if err != nil {
		return nil, err
	}
	f := &File{}
	for _, fd := range fields {
		switch strings.ToLower(fd.name) {
		case "origin":
			f.Origin = fd.value
		case "label":
			f.Label = fd.value
		case "suite":
			f.Suite = fd.value
		case "codename":
			f.Codename = fd.value
		case "version":
			f.Version = fd.value
		case "date":
			if f.Date, err = parseDate(fd.value); err != nil {
				return nil, fmt.Errorf("release: line %d: Date: %w", fd.line, err)
			}
		case "valid-until":
			if f.ValidUntil, err = parseDate(fd.value); err != nil {
				return nil, fmt.Errorf("release: line %d: Valid-Until: %w", fd.line, err)
			}
		case "acquire-by-hash":
			f.AcquireByHash = strings.EqualFold(fd.value, "yes")
		case "notautomatic":
			f.NotAutomatic = strings.EqualFold(fd.value, "yes")
		case "butautomaticupgrades":
			f.ButAutomaticUpgrades = strings.EqualFold(fd.value, "yes")
		case "architectures":
			f.Architectures = strings.Fields(fd.value)
		case "components":
			f.Components = strings.Fields(fd.value)
		case "sha256":
			if f.SHA256, err = parseHashes(fd); err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}

// Lookup returns the SHA256 entry for path (relative to the suite directory,
// e.g. "main/binary-amd64/Packages.xz").
func (f *File) Lookup(path string) (FileHash, bool) {
	for _, h := range f.SHA256 {
		if h.Path == path {
			return h, true
		}
	}
	return FileHash{}, false
}

// ByHashPath returns the by-hash location of a file listed in the SHA256
// field: "main/binary-amd64/Packages.xz" becomes
// "main/binary-amd64/by-hash/SHA256/<hex>". It returns "" when path is not
// listed. It does not look at AcquireByHash; callers should use by-hash
// paths only when AcquireByHash is set.
func (f *File) ByHashPath(p string) string {
	h, ok := f.Lookup(p)
	if !ok {
		return ""
	}
	dir := path.Dir(h.Path)
	if dir == "." {
		return "by-hash/SHA256/" + h.SHA256
	}
	return dir + "/by-hash/SHA256/" + h.SHA256
}

// CheckValid returns an error wrapping ErrExpired when the Release file has a
// Valid-Until date and now is after it. name identifies the file in the
// error (e.g. its URL).
func (f *File) CheckValid(name string, now time.Time) error {
	if f.ValidUntil.IsZero() || !now.After(f.ValidUntil) {
		return nil
	}
	suite := f.Suite
	if suite == "" {
		suite = f.Codename
	}
	return fmt.Errorf("%s: suite %q: %w: Valid-Until is %s but now is %s; a mirror serving it is stale or replaying old metadata (use --allow-expired to accept it anyway, e.g. for snapshot archives)",
		name, suite, ErrExpired, f.ValidUntil.UTC().Format(dateLayout), now.UTC().Format(dateLayout))
}

// field is one field of a Release file: its value's first line (trimmed)
// and its continuation lines (trimmed), each with its line number.
type field struct {
	name  string
	value string
	line  int // line number of the field name
	more  []deb822.Line
}

// parseStanza reads the one stanza of a Release file through the deb822
// reader; the checks on top of it (one stanza, names without white space,
// no duplicates) are the Release file's own. Errors are reported in file
// order: the fields before a malformed line are checked first.
func parseStanza(body []byte) ([]field, error) {
	sc := deb822.NewBytesScanner(body)
	ok := sc.Scan()
	st := sc.Stanza()
	if !ok && (sc.Err() == nil || len(st.Fields) == 0) {
		if err := sc.Err(); err != nil {
			return nil, syntaxError(body, err)
		}
		return nil, errors.New("release: empty Release file")
	}
	fields, err := releaseFields(st)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, syntaxError(body, sc.Err())
	}
	if sc.Scan() || len(sc.Stanza().Fields) > 0 {
		return nil, fmt.Errorf("release: line %d: more than one stanza in a Release file", sc.Stanza().Fields[0].Line)
	}
	if err := sc.Err(); err != nil {
		// A malformed line after the stanza starts a second one all the same.
		var se *deb822.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("release: line %d: more than one stanza in a Release file", se.Line)
		}
		return nil, err
	}
	return fields, nil
}

// releaseFields checks a stanza's field names and reads its values.
func releaseFields(st *deb822.Stanza) ([]field, error) {
	fields := make([]field, 0, len(st.Fields))
	seen := map[string]bool{}
	for i := range st.Fields {
		f := &st.Fields[i]
		name := string(f.Name)
		if strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("release: line %d: bad field name %q", f.Line, name)
		}
		key := strings.ToLower(name)
		if seen[key] {
			return nil, fmt.Errorf("release: line %d: duplicate field %s", f.Line, name)
		}
		seen[key] = true
		lines := st.ValueLines(f)
		fd := field{name: name, value: string(bytes.TrimSpace(lines[0].Text)), line: f.Line, more: lines[1:]}
		for k := range fd.more {
			fd.more[k].Text = bytes.TrimSpace(fd.more[k].Text)
		}
		fields = append(fields, fd)
	}
	return fields, nil
}

// syntaxError words a deb822 syntax error as the Release reader does.
func syntaxError(body []byte, err error) error {
	var se *deb822.SyntaxError
	if !errors.As(err, &se) {
		return fmt.Errorf("release: %w", err)
	}
	if errors.Is(err, deb822.ErrContinuation) {
		return fmt.Errorf("release: line %d: continuation line before the first field", se.Line)
	}
	return fmt.Errorf("release: line %d: want \"Field: value\", got %q", se.Line, truncate(deb822.LineText(body, se.Line)))
}

func parseHashes(fd field) ([]FileHash, error) {
	if fd.value != "" {
		return nil, fmt.Errorf("release: line %d: SHA256: unexpected value %q on the field line", fd.line, fd.value)
	}
	hashes := make([]FileHash, 0, len(fd.more))
	for _, ml := range fd.more {
		l, num := string(ml.Text), ml.Num
		parts := strings.Fields(l)
		if len(parts) != 3 {
			return nil, fmt.Errorf("release: line %d: SHA256: want \"<sha256> <size> <path>\", got %q", num, l)
		}
		sum := strings.ToLower(parts[0])
		if len(sum) != 64 {
			return nil, fmt.Errorf("release: line %d: SHA256: hash %q is not 64 hex digits", num, parts[0])
		}
		if _, err := hex.DecodeString(sum); err != nil {
			return nil, fmt.Errorf("release: line %d: SHA256: hash %q is not hex", num, parts[0])
		}
		size, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil || size < 0 {
			return nil, fmt.Errorf("release: line %d: SHA256: bad size %q for %s", num, parts[1], parts[2])
		}
		p := parts[2]
		if strings.HasPrefix(p, "/") || p == ".." || strings.HasPrefix(p, "../") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
			return nil, fmt.Errorf("release: line %d: SHA256: path %q leaves the suite directory", num, p)
		}
		hashes = append(hashes, FileHash{Path: p, Size: size, SHA256: sum})
	}
	return hashes, nil
}

// dateLayout is how Debian writes Release dates.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 UTC"

// parseDate parses RFC 1123 dates as written in Release files. The zone must
// be UTC, GMT, Z or numeric (+0000); the weekday is optional.
func parseDate(s string) (time.Time, error) {
	fs := strings.Fields(s)
	if len(fs) == 0 {
		return time.Time{}, errors.New("empty date")
	}
	if strings.HasSuffix(fs[0], ",") { // optional weekday
		fs = fs[1:]
	}
	if len(fs) != 5 {
		return time.Time{}, fmt.Errorf("bad date %q: want e.g. \"Sat, 11 Jul 2026 10:16:37 UTC\"", s)
	}
	switch strings.ToUpper(fs[4]) {
	case "UTC", "GMT", "Z", "UT":
		fs[4] = "+0000"
	}
	t, err := time.Parse("2 Jan 2006 15:04:05 -0700", strings.Join(fs, " "))
	if err != nil {
		return time.Time{}, fmt.Errorf("bad date %q: want e.g. \"Sat, 11 Jul 2026 10:16:37 UTC\"", s)
	}
	return t.UTC(), nil
}

func truncate(b []byte) string {
	const max = 80
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
