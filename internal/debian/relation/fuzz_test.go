package relation

import (
	"errors"
	"reflect"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"",
		"libc6 (>= 2.36), libssl3 (>= 3.0.0) | libssl3t64, python3:any (>= 3.11~), foo [amd64 !i386] <!nocheck>, perl:any",
		"libc6 (>= 2.34),\n libgcc-s1 (>= 3.0),\n\tlibstdc++6 (>= 12)",
		"foo(<<1.0),bar( >>2:1.0-1 ),baz (= 1.0-1+b1),qux (<= 3), quux (>=4)",
		"old (< 1.0), older (> 2.0)",
		"debhelper-compat (= 13), gcc:native, libfoo-dev:amd64 [linux-any] <!stage1 !cross> <nocheck>",
		"a, , b,",
		"foo | | bar",
		"foo (>= 1.0",
		"foo [amd64",
		"foo <!nocheck",
		"foo:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %v is not a *SyntaxError", s, err)
			}
			if se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("Parse(%q) error offset %d out of range", s, se.Offset)
			}
			return
		}
		out := rs.String()
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) = %#v, but its String %q does not parse: %v", s, rs, out, err)
		}
		if !reflect.DeepEqual(again, rs) {
			t.Fatalf("Parse(%q) = %#v\nString %q re-parses to %#v", s, rs, out, again)
		}
		if again.String() != out {
			t.Fatalf("String not stable: %q then %q", out, again.String())
		}
		for _, r := range rs {
			if len(r.Alternatives) == 0 {
				t.Fatalf("Parse(%q) has a relation without alternatives", s)
			}
			for _, p := range r.Alternatives {
				if p.Name == "" || (p.Op == None) != (p.Version == "") {
					t.Fatalf("Parse(%q) gave inconsistent possibility %#v", s, p)
				}
				p.AppliesToArch("amd64")
				p.SatisfiedBy("1.0")
			}
		}
	})
}
