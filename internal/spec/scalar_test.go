package spec

import (
	"regexp"
	"testing"
)

// The hand-written scalar checks must agree with the regular expressions
// they replace.
var (
	plainRE      = regexp.MustCompile(`^[A-Za-z0-9_/][A-Za-z0-9_./+~-]*$`)
	numberLikeRE = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$|^0[xXoObB]|^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}`)
)

var scalarSeeds = []string{"", "1", "1.0", "3.11", "1:2.36-9", "2.36-9+deb12u14", "2024a-0+deb12u1", "1e5", "1e", "1.5e-3", ".5", ".", "-1", "+.5e+2",
	"0x1F", "0o7", "0b1", "2026-11-25", "2026-1-5x", "2026-11", "1_000", "1_0.0_1", "515e692f2c4121c6fcec444ef100cc18f79a991910615f3a88c8b7becfc94d2f",
	"1234567890123456789012345678901234567890123456789012345678901234", "libc6", "pool/main/g/glibc/libc6_2.36-9_amd64.deb", "_x", "/abs", "a b", "yes", "1.2.3", "12e3x", "20250419~deb12u2"}

func TestScalarChecksMatchRegexps(t *testing.T) {
	for _, s := range scalarSeeds {
		if isPlain(s) != plainRE.MatchString(s) || numberLike(s) != numberLikeRE.MatchString(s) {
			t.Errorf("%q: isPlain %v (re %v), numberLike %v (re %v)", s, isPlain(s), plainRE.MatchString(s), numberLike(s), numberLikeRE.MatchString(s))
		}
	}
}

func FuzzScalarChecks(f *testing.F) {
	for _, s := range scalarSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if isPlain(s) != plainRE.MatchString(s) || numberLike(s) != numberLikeRE.MatchString(s) {
			t.Errorf("%q: isPlain %v (re %v), numberLike %v (re %v)", s, isPlain(s), plainRE.MatchString(s), numberLike(s), numberLikeRE.MatchString(s))
		}
	})
}
