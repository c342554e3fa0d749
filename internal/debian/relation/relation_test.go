package relation

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Relations
		str  string
	}{
		{"", nil, ""},
		{"  \n ", nil, ""},
		{"libc6", Relations{{[]Possibility{{Name: "libc6"}}}}, "libc6"},
		{
			"libc6 (>= 2.36), libssl3 (>= 3.0.0) | libssl3t64, python3:any (>= 3.11~), foo [amd64 !i386] <!nocheck>, perl:any",
			Relations{
				{[]Possibility{{Name: "libc6", Op: GE, Version: "2.36"}}},
				{[]Possibility{{Name: "libssl3", Op: GE, Version: "3.0.0"}, {Name: "libssl3t64"}}},
				{[]Possibility{{Name: "python3", ArchQual: "any", Op: GE, Version: "3.11~"}}},
				{[]Possibility{{Name: "foo", Archs: []string{"amd64", "!i386"}, Profiles: [][]string{{"!nocheck"}}}}},
				{[]Possibility{{Name: "perl", ArchQual: "any"}}},
			},
			"libc6 (>= 2.36), libssl3 (>= 3.0.0) | libssl3t64, python3:any (>= 3.11~), foo [amd64 !i386] <!nocheck>, perl:any",
		},
		{
			// Folded field as in a Packages stanza.
			"libc6 (>= 2.34),\n libgcc-s1 (>= 3.0),\n\tlibstdc++6 (>= 12)",
			Relations{
				{[]Possibility{{Name: "libc6", Op: GE, Version: "2.34"}}},
				{[]Possibility{{Name: "libgcc-s1", Op: GE, Version: "3.0"}}},
				{[]Possibility{{Name: "libstdc++6", Op: GE, Version: "12"}}},
			},
			"libc6 (>= 2.34), libgcc-s1 (>= 3.0), libstdc++6 (>= 12)",
		},
		{
			"foo(<<1.0),bar( >>2:1.0-1 ),baz (= 1.0-1+b1),qux (<= 3), quux (>=4)",
			Relations{
				{[]Possibility{{Name: "foo", Op: LT, Version: "1.0"}}},
				{[]Possibility{{Name: "bar", Op: GT, Version: "2:1.0-1"}}},
				{[]Possibility{{Name: "baz", Op: EQ, Version: "1.0-1+b1"}}},
				{[]Possibility{{Name: "qux", Op: LE, Version: "3"}}},
				{[]Possibility{{Name: "quux", Op: GE, Version: "4"}}},
			},
			"foo (<< 1.0), bar (>> 2:1.0-1), baz (= 1.0-1+b1), qux (<= 3), quux (>= 4)",
		},
		{
			// Legacy operators.
			"old (< 1.0), older (> 2.0)",
			Relations{
				{[]Possibility{{Name: "old", Op: LE, Version: "1.0"}}},
				{[]Possibility{{Name: "older", Op: GE, Version: "2.0"}}},
			},
			"old (<= 1.0), older (>= 2.0)",
		},
		{
			// Versioned Provides.
			"libfoo-abi-2, foo (= 1.0)",
			Relations{
				{[]Possibility{{Name: "libfoo-abi-2"}}},
				{[]Possibility{{Name: "foo", Op: EQ, Version: "1.0"}}},
			},
			"libfoo-abi-2, foo (= 1.0)",
		},
		{
			// Built-Using.
			"gcc-12 (= 12.2.0-14), glibc (= 2.36-9+deb12u4)",
			Relations{
				{[]Possibility{{Name: "gcc-12", Op: EQ, Version: "12.2.0-14"}}},
				{[]Possibility{{Name: "glibc", Op: EQ, Version: "2.36-9+deb12u4"}}},
			},
			"gcc-12 (= 12.2.0-14), glibc (= 2.36-9+deb12u4)",
		},
		{
			// Build-Depends style with qualifiers, arch lists and profiles.
			"debhelper-compat (= 13), gcc:native, libfoo-dev:amd64 [linux-any] <!stage1 !cross> <nocheck>, python3-pytest <!nocheck>",
			Relations{
				{[]Possibility{{Name: "debhelper-compat", Op: EQ, Version: "13"}}},
				{[]Possibility{{Name: "gcc", ArchQual: "native"}}},
				{[]Possibility{{Name: "libfoo-dev", ArchQual: "amd64", Archs: []string{"linux-any"}, Profiles: [][]string{{"!stage1", "!cross"}, {"nocheck"}}}}},
				{[]Possibility{{Name: "python3-pytest", Profiles: [][]string{{"!nocheck"}}}}},
			},
			"debhelper-compat (= 13), gcc:native, libfoo-dev:amd64 [linux-any] <!stage1 !cross> <nocheck>, python3-pytest <!nocheck>",
		},
		{
			// Trailing and doubled commas are ignored.
			"a, , b,",
			Relations{{[]Possibility{{Name: "a"}}}, {[]Possibility{{Name: "b"}}}},
			"a, b",
		},
		{
			"default-mta | mail-transport-agent,exim4|postfix (>= 3.7)",
			Relations{
				{[]Possibility{{Name: "default-mta"}, {Name: "mail-transport-agent"}}},
				{[]Possibility{{Name: "exim4"}, {Name: "postfix", Op: GE, Version: "3.7"}}},
			},
			"default-mta | mail-transport-agent, exim4 | postfix (>= 3.7)",
		},
		{
			"linux-image-6.1.0-18-amd64 (= 6.1.76-1), libc6.1 (>= 2.36), Foo_Bar",
			Relations{
				{[]Possibility{{Name: "linux-image-6.1.0-18-amd64", Op: EQ, Version: "6.1.76-1"}}},
				{[]Possibility{{Name: "libc6.1", Op: GE, Version: "2.36"}}},
				{[]Possibility{{Name: "Foo_Bar"}}},
			},
			"linux-image-6.1.0-18-amd64 (= 6.1.76-1), libc6.1 (>= 2.36), Foo_Bar",
		},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) =\n %#v\nwant\n %#v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, s, tt.str)
		}
		again, err := Parse(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("Parse(%q).String() re-parses to %#v, %v", tt.in, again, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in     string
		offset int
		text   string
		reason string
	}{
		{"foo,  | bar", 6, "|", "missing package name"},
		{"foo |", 5, "", "missing package name at end"},
		{"foo | | bar", 6, "|", "missing package name"},
		{"foo$bar", 0, "foo$bar", "character '$' not allowed"},
		{"libc6, -foo", 7, "-foo", "must start with an alphanumeric"},
		{"foo (1.0)", 5, "1.0", "missing version relation operator"},
		{"foo (>= )", 8, ")", "missing version after"},
		{"foo (>=)", 7, ")", "missing version after"},
		{"foo (=> 1.0)", 5, "=>", "unknown version relation operator"},
		{"foo (== 1.0)", 5, "==", "unknown version relation operator"},
		{"foo (<<= 1.0)", 5, "<<=", "unknown version relation operator"},
		{"foo (>= 1.0", 4, "(>= 1.0", "missing ')'"},
		{"foo (>= 1.0 2)", 12, "2", "expected ')'"},
		{"foo (>= 1:)", 8, "1:", "nothing after colon"},
		{"foo (>= 1.0_1)", 8, "1.0_1", "invalid character '_'"},
		{"foo bar", 4, "bar", "expected ',' or '|'"},
		{"foo (>= 1.0) bar", 13, "bar", "expected ',' or '|'"},
		{"foo:", 3, ":", "missing architecture qualifier"},
		{"foo:all", 4, "all", "may not be \"all\""},
		{"foo:am_d64", 4, "am_d64", "invalid architecture qualifier"},
		{"foo [amd64", 4, "[amd64", "missing ']'"},
		{"foo []", 4, "[]", "empty architecture restriction list"},
		{"foo [amd64 !]", 11, "!", "invalid architecture restriction"},
		{"foo [amd64 i3$86]", 11, "i3$86", "invalid architecture restriction"},
		{"foo <>", 4, "<>", "empty build profile list"},
		{"foo <!nocheck", 4, "<!nocheck", "missing '>'"},
		{"foo <NoCheck>", 5, "NoCheck", "invalid build profile"},
		{"foo <nocheck> [amd64]", 14, "[", "expected ',' or '|'"},
		{"foo [amd64 (>= 1)]", 11, "(", "unexpected character"},
		{"foo (>= 1.0) (>= 2.0)", 13, "(", "expected ',' or '|'"},
		{"foo)", 3, ")", "expected ',' or '|'"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want error %q", tt.in, got, tt.reason)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error %v is not a *SyntaxError", tt.in, err)
			continue
		}
		if se.Offset != tt.offset || se.Text != tt.text || !strings.Contains(se.Reason, tt.reason) {
			t.Errorf("Parse(%q) error = {%d %q %q}, want {%d %q ...%q...}", tt.in, se.Offset, se.Text, se.Reason, tt.offset, tt.text, tt.reason)
		}
		if !strings.Contains(err.Error(), "byte") {
			t.Errorf("Parse(%q) error %q does not give the byte offset", tt.in, err)
		}
	}
}

func TestAppliesToArch(t *testing.T) {
	tests := []struct {
		archs []string
		arch  string
		want  bool
	}{
		{nil, "amd64", true},
		{[]string{"amd64"}, "amd64", true},
		{[]string{"amd64"}, "i386", false},
		{[]string{"amd64", "!i386"}, "arm64", true}, // mixed: negation admits others
		{[]string{"amd64", "!i386"}, "i386", false},
		{[]string{"!i386", "!armel"}, "amd64", true},
		{[]string{"!i386", "!armel"}, "armel", false},
		{[]string{"!i386", "!armel"}, "i386", false},
		{[]string{"linux-any"}, "amd64", true},
		{[]string{"linux-any"}, "armhf", true},
		{[]string{"linux-any"}, "hurd-amd64", false},
		{[]string{"linux-any"}, "kfreebsd-amd64", false},
		{[]string{"!linux-any"}, "hurd-i386", true},
		{[]string{"!linux-any"}, "ppc64el", false},
		{[]string{"any-amd64"}, "amd64", true},
		{[]string{"any-amd64"}, "x32", true},
		{[]string{"any-amd64"}, "hurd-amd64", true},
		{[]string{"any-amd64"}, "arm64", false},
		{[]string{"any-arm"}, "armhf", true},
		{[]string{"any-arm"}, "armel", true},
		{[]string{"any-arm"}, "arm64", false},
		{[]string{"any-i386"}, "i386", true},
		{[]string{"any-i386"}, "hurd-i386", true},
		{[]string{"any"}, "s390x", true},
		{[]string{"!any"}, "s390x", false},
		{[]string{"gnu-any-any"}, "riscv64", true},
		{[]string{"musl-any-any"}, "riscv64", false},
		{[]string{"musl-linux-any"}, "musl-linux-amd64", true},
		{[]string{"eabihf-any-any-any"}, "armhf", true},
		{[]string{"eabihf-any-any-any"}, "armel", false},
		{[]string{"any-mips64el"}, "mips64el", true},
		{[]string{"s390x", "ppc64el", "riscv64"}, "riscv64", true},
		{[]string{"AMD64"}, "amd64", true},
		{[]string{"loong64"}, "loong64", true},
		{[]string{"any-loong64"}, "loong64", true},
		{[]string{"weird-arch"}, "weird-arch", true},
		{[]string{"any-amd64"}, "weird-arch", false},
	}
	for _, tt := range tests {
		p := Possibility{Name: "x", Archs: tt.archs}
		if got := p.AppliesToArch(tt.arch); got != tt.want {
			t.Errorf("%v.AppliesToArch(%q) = %v, want %v", tt.archs, tt.arch, got, tt.want)
		}
	}
}

func TestSatisfiedBy(t *testing.T) {
	tests := []struct {
		op   Op
		ver  string
		have string
		want bool
	}{
		{None, "", "anything", true},
		{GE, "2.36", "2.36-9+deb12u4", true},
		{GE, "2.36", "2.35-1", false},
		{GE, "3.11~", "3.11.2-1", true},
		{GE, "3.11~", "3.11~rc1", true},
		{GE, "3.11~", "3.10.4-1", false},
		{LT, "1.0", "1.0~rc1", true},
		{LT, "1.0", "1.0", false},
		{LE, "1.0", "1.0", true},
		{LE, "1.0", "1:0.1", false},
		{EQ, "1.0-1", "1.0-1", true},
		{EQ, "1.0-1", "0:1.0-1", true},
		{EQ, "1.0-1", "1.0-1+b1", false},
		{GT, "1.0", "1.0+b1", true},
		{GT, "1.0", "1.0", false},
		{Op("~="), "1.0", "1.0", false},
	}
	for _, tt := range tests {
		p := Possibility{Name: "x", Op: tt.op, Version: tt.ver}
		if got := p.SatisfiedBy(tt.have); got != tt.want {
			t.Errorf("(%s %s).SatisfiedBy(%q) = %v, want %v", tt.op, tt.ver, tt.have, got, tt.want)
		}
	}
}

func TestArchIs(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64", "armhf", "armel", "i386", "ppc64el", "s390x", "riscv64", "mips64el", "loong64", "x32", "hurd-amd64", "kfreebsd-i386", "musl-linux-arm64"} {
		if !ArchIs(arch, arch) || !ArchIs(arch, "any") || !ArchIs(arch, "any-any-any-any") {
			t.Errorf("ArchIs(%q, itself/any) = false", arch)
		}
		if _, ok := archTuple(arch); !ok {
			t.Errorf("archTuple(%q) unknown", arch)
		}
	}
}
