// Package version parses and orders Debian package version strings as
// specified by Debian Policy §5.6.12 ([epoch:]upstream_version[-debian_revision]),
// with the exact comparison semantics of dpkg's verrevcmp: '~' sorts before
// everything (even the end of the string), letters sort before non-letters,
// and runs of digits compare numerically.
//
// Parse validates a version string and returns its parts; Compare orders
// parsed versions; CompareStrings orders two version strings directly without
// allocating, for hot paths such as dependency resolvers.
package version

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a parsed Debian version: [Epoch:]Upstream[-Revision].
type Version struct {
	Epoch    uint32
	Upstream string
	Revision string
}

// maxEpoch is the largest epoch dpkg accepts (INT_MAX).
const maxEpoch = 1<<31 - 1

// ParseError reports a version string that dpkg would reject.
type ParseError struct {
	Input  string // the string as given to Parse
	Reason string // what is wrong with it
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid Debian version %q: %s", e.Input, e.Reason)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// trimBlank removes leading and trailing spaces and tabs, as dpkg does.
func trimBlank(s string) string {
	for len(s) > 0 && isBlank(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isBlank(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// Parse parses a Debian version string.
//
// It follows dpkg's parseversion: surrounding spaces and tabs are ignored;
// the epoch is the decimal number before the first ':' (at most 2147483647);
// the revision is everything after the last '-'. It rejects what dpkg rejects
// (empty string, embedded blanks, empty or non-numeric or too large epoch,
// nothing after the colon, empty upstream version, empty revision) and, more
// strictly than dpkg (which only warns), characters outside the policy
// alphabet: upstream may contain [A-Za-z0-9.+~:-], revision [A-Za-z0-9.+~].
// Like dpkg, it accepts an upstream version that does not start with a digit.
func Parse(s string) (Version, error) {
	fail := func(reason string) (Version, error) {
		return Version{}, &ParseError{Input: s, Reason: reason}
	}
	t := trimBlank(s)
	if t == "" {
		return fail("version string is empty")
	}
	for i := 0; i < len(t); i++ {
		if isBlank(t[i]) {
			return fail("version string has embedded spaces")
		}
	}
	var v Version
	if colon := strings.IndexByte(t, ':'); colon >= 0 {
		ep := t[:colon]
		if ep == "" {
			return fail("epoch in version is empty")
		}
		var n uint64
		for i := 0; i < len(ep); i++ {
			if !isDigit(ep[i]) {
				return fail("epoch in version is not number")
			}
			n = n*10 + uint64(ep[i]-'0')
			if n > maxEpoch {
				return fail("epoch in version is too big")
			}
		}
		t = t[colon+1:]
		if t == "" {
			return fail("nothing after colon in version number")
		}
		v.Epoch = uint32(n)
	}
	if hyphen := strings.LastIndexByte(t, '-'); hyphen >= 0 {
		v.Upstream, v.Revision = t[:hyphen], t[hyphen+1:]
		if v.Revision == "" {
			return fail("revision number is empty")
		}
	} else {
		v.Upstream = t
	}
	if v.Upstream == "" {
		return fail("upstream version is empty")
	}
	for i := 0; i < len(v.Upstream); i++ {
		c := v.Upstream[i]
		if !isDigit(c) && !isAlpha(c) && strings.IndexByte(".-+~:", c) < 0 {
			return fail("invalid character " + quoteByte(c) + " in upstream version")
		}
	}
	for i := 0; i < len(v.Revision); i++ {
		c := v.Revision[i]
		if !isDigit(c) && !isAlpha(c) && strings.IndexByte(".+~", c) < 0 {
			return fail("invalid character " + quoteByte(c) + " in revision")
		}
	}
	return v, nil
}

// quoteByte quotes a single byte as a Go character literal, using \x escapes
// for bytes outside ASCII so that broken UTF-8 is shown as it is.
func quoteByte(c byte) string {
	if c < 0x80 {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf(`'\x%02x'`, c)
}

// MustParse is like Parse but panics if s is not a valid version.
// It is meant for tests and constants.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String returns the canonical form of v. The epoch is shown only when it is
// non-zero, or when the upstream version contains a ':' (which would otherwise
// be read back as an epoch separator). The revision is shown when non-empty.
func (v Version) String() string {
	var b strings.Builder
	b.Grow(len(v.Upstream) + len(v.Revision) + 12)
	if v.Epoch > 0 || strings.IndexByte(v.Upstream, ':') >= 0 {
		b.WriteString(strconv.FormatUint(uint64(v.Epoch), 10))
		b.WriteByte(':')
	}
	b.WriteString(v.Upstream)
	if v.Revision != "" {
		b.WriteByte('-')
		b.WriteString(v.Revision)
	}
	return b.String()
}

// Compare returns -1, 0 or +1 when v sorts before, equal to or after o.
func (v Version) Compare(o Version) int { return Compare(v, o) }

// Compare returns -1, 0 or +1 when a sorts before, equal to or after b,
// with dpkg's semantics: epochs compare numerically, then upstream versions
// and then revisions with verrevcmp.
func Compare(a, b Version) int {
	if a.Epoch != b.Epoch {
		if a.Epoch < b.Epoch {
			return -1
		}
		return 1
	}
	if c := verrevcmp(a.Upstream, b.Upstream); c != 0 {
		return c
	}
	return verrevcmp(a.Revision, b.Revision)
}

// CompareStrings compares two version strings like Compare(MustParse(a),
// MustParse(b)) without allocating. For strings that Parse rejects the result
// is deterministic but unspecified (they are split as leniently as possible).
func CompareStrings(a, b string) int {
	if a == b {
		return 0
	}
	ae, au, ar := split(a)
	be, bu, br := split(b)
	if ae != be {
		if ae < be {
			return -1
		}
		return 1
	}
	if c := verrevcmp(au, bu); c != 0 {
		return c
	}
	return verrevcmp(ar, br)
}

// split divides s into epoch, upstream and revision without validation.
func split(s string) (epoch uint64, upstream, revision string) {
	if len(s) > 0 && (isBlank(s[0]) || isBlank(s[len(s)-1])) {
		s = trimBlank(s)
	}
	if colon := strings.IndexByte(s, ':'); colon > 0 {
		var n uint64
		ok := true
		for i := 0; i < colon; i++ {
			c := s[i]
			if !isDigit(c) {
				ok = false
				break
			}
			if n <= maxEpoch {
				n = n*10 + uint64(c-'0')
			}
		}
		if ok {
			epoch, s = n, s[colon+1:]
		}
	}
	if hyphen := strings.LastIndexByte(s, '-'); hyphen >= 0 {
		return epoch, s[:hyphen], s[hyphen+1:]
	}
	return epoch, s, ""
}

// order is dpkg's character weight: digits and end of string 0, '~' -1,
// letters their ASCII value, everything else ASCII value + 256.
var order = func() (t [256]int16) {
	for c := 0; c < 256; c++ {
		switch {
		case isDigit(byte(c)) || c == 0:
			t[c] = 0
		case isAlpha(byte(c)):
			t[c] = int16(c)
		case c == '~':
			t[c] = -1
		default:
			t[c] = int16(c + 256)
		}
	}
	return t
}()

// verrevcmp is dpkg's comparison of an upstream version or revision.
func verrevcmp(a, b string) int {
	// Skip the common prefix, backing off to the start of a digit run: the
	// comparison state there is the same as at the start of the strings.
	n := min(len(a), len(b))
	k := 0
	for k < n && a[k] == b[k] {
		k++
	}
	if k == len(a) && k == len(b) {
		return 0
	}
	for k > 0 && isDigit(a[k-1]) {
		k--
	}
	i, j := k, k
	for i < len(a) || j < len(b) {
		// Non-digit prefix, compared character by character by weight.
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			var ac, bc int16
			if i < len(a) {
				ac = order[a[i]]
			}
			if j < len(b) {
				bc = order[b[j]]
			}
			if ac != bc {
				if ac < bc {
					return -1
				}
				return 1
			}
			i++
			j++
		}
		// Digit run, compared numerically.
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		firstDiff := 0
		for i < len(a) && j < len(b) && isDigit(a[i]) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			if firstDiff < 0 {
				return -1
			}
			return 1
		}
	}
	return 0
}
