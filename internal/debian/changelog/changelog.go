// Package changelog reads Debian changelogs (debian/changelog, shipped as
// /usr/share/doc/<pkg>/changelog.Debian.gz): entry headers "pkg (version)
// dists; urgency=..." and the CVE IDs each entry's text mentions.
//
// It reads the format only; what an update plan makes of the entries (which
// versions an update covers, how urgent it is) is the caller's policy, with
// Between as the one shared helper. It does not validate trailer lines or
// dates.
package changelog

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/temper-dev/temper/internal/debian/version"
)

// Entry is one entry of a Debian changelog.
type Entry struct {
	Package, Version, Distribution, Urgency string
	CVEs                                    []string // sorted, unique
}

var (
	// "openssl (3.0.15-1~deb12u1) bookworm-security; urgency=medium"
	headerRE  = regexp.MustCompile(`^(\S+) \(([^() \t]+)\) ([^;]*);(.*)$`)
	cveRE     = regexp.MustCompile(`CVE-\d{4}-\d{4,}`)
	urgencyRE = regexp.MustCompile(`(?i)(?:^|[ ,])urgency=([a-z]+)`)
)

// urgencyRank orders the urgencies Debian uses (Policy 5.6.17); unknown
// values rank lowest.
var urgencyRank = map[string]int{"low": 1, "medium": 2, "high": 3, "emergency": 4, "critical": 5}

// maxUrgency returns the more urgent of a and b.
func maxUrgency(a, b string) string {
	if urgencyRank[strings.ToLower(b)] > urgencyRank[strings.ToLower(a)] {
		return strings.ToLower(b)
	}
	if a == "" {
		return strings.ToLower(b)
	}
	return a
}

// Parse reads a (decompressed) Debian changelog: entry headers
// "pkg (version) dists; urgency=..." and the CVE IDs mentioned in each
// entry's body. Lines that are not headers belong to the entry above them.
func Parse(data []byte) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	cves := map[string]bool{}
	flush := func() {
		if len(out) == 0 {
			return
		}
		e := &out[len(out)-1]
		for c := range cves {
			e.CVEs = append(e.CVEs, c)
		}
		sort.Strings(e.CVEs)
		clear(cves)
	}
	for sc.Scan() {
		line := sc.Text()
		if e, ok := parseHeader(line); ok {
			flush()
			out = append(out, e)
			continue
		}
		if len(out) == 0 {
			continue
		}
		for _, c := range cveRE.FindAllString(line, -1) {
			cves[c] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	flush()
	if len(out) == 0 {
		return nil, fmt.Errorf("no changelog entries found")
	}
	return out, nil
}

// parseHeader reads an entry header line; body lines (indented or empty)
// and other text are not headers.
func parseHeader(line string) (Entry, bool) {
	if line == "" || line[0] == ' ' || line[0] == '\t' {
		return Entry{}, false
	}
	m := headerRE.FindStringSubmatch(line)
	if m == nil {
		return Entry{}, false
	}
	e := Entry{Package: m[1], Version: m[2], Distribution: strings.TrimSpace(m[3])}
	if u := urgencyRE.FindStringSubmatch(m[4]); u != nil {
		e.Urgency = strings.ToLower(u[1])
	}
	return e, true
}

// ReadGz decompresses and parses changelog.Debian.gz.
func ReadGz(r io.Reader) ([]Entry, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("changelog.Debian.gz: %w", err)
	}
	defer zr.Close()
	data, err := io.ReadAll(io.LimitReader(zr, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("changelog.Debian.gz: %w", err)
	}
	return Parse(data)
}

// Between returns what the entries with old < version <= new say: their
// CVE IDs (sorted, unique), the highest urgency, and the versions they
// cover (newest first). Entries whose version does not parse are skipped.
func Between(entries []Entry, old, new string) (cves []string, urgency string, versions []string) {
	seen := map[string]bool{}
	for _, e := range entries {
		if _, err := version.Parse(e.Version); err != nil {
			continue
		}
		if version.CompareStrings(e.Version, old) <= 0 || version.CompareStrings(e.Version, new) > 0 {
			continue
		}
		versions = append(versions, e.Version)
		urgency = maxUrgency(urgency, e.Urgency)
		for _, c := range e.CVEs {
			if !seen[c] {
				seen[c] = true
				cves = append(cves, c)
			}
		}
	}
	sort.Strings(cves)
	return cves, urgency, versions
}
