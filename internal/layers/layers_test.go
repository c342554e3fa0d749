package layers

import (
	"reflect"
	"testing"

	"github.com/temper-dev/temper/internal/spec"
)

func pkg(name, src string, size int64, requiredBy ...string) spec.LockedPackage {
	return spec.LockedPackage{Name: name, Source: src, Version: "1", Size: size, RequiredBy: requiredBy}
}

func names(gs []Group) [][]string {
	var out [][]string
	for _, g := range gs {
		var n []string
		for _, p := range g.Packages {
			n = append(n, p.Name)
		}
		out = append(out, n)
	}
	return out
}

func TestSplit(t *testing.T) {
	pkgs := []spec.LockedPackage{
		pkg("app", "app", 5000, "definition"),
		pkg("libc6", "glibc", 1000, "app", "libssl3", "libfoo", "libbar", "libc-bin"),
		pkg("libc-bin", "glibc", 100, "app"),
		pkg("libssl3", "openssl", 900, "app"),
		pkg("libfoo", "foo", 10, "app"),
		pkg("libbar", "bar", 20, "app"),
	}
	// Scores: app 5000×1; glibc 1100×6 (libc6 is needed by every package);
	// openssl 900×2; bar 20×2; foo 10×2.
	gs, err := Split(pkgs, 8)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"libc6", "libc-bin"}, {"app"}, {"libssl3"}, {"libbar"}, {"libfoo"}}
	if got := names(gs); !reflect.DeepEqual(got, want) {
		t.Fatalf("budget 8: %v, want %v", got, want)
	}
	gs, _ = Split(pkgs, 3)
	want = [][]string{{"libc6", "libc-bin"}, {"app"}, {"libbar", "libfoo", "libssl3"}}
	if got := names(gs); !reflect.DeepEqual(got, want) {
		t.Fatalf("budget 3: %v, want %v", got, want)
	}
	if gs[2].Name != "rest: 3 sources" || !reflect.DeepEqual(gs[2].Sources, []string{"bar", "foo", "openssl"}) {
		t.Errorf("rest: %q %v", gs[2].Name, gs[2].Sources)
	}
	// The order of the lock's packages does not matter.
	rev := append([]spec.LockedPackage(nil), pkgs...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	gr, _ := Split(rev, 3)
	for i := range gr {
		if gr[i].Name != gs[i].Name || !reflect.DeepEqual(gr[i].Sources, gs[i].Sources) {
			t.Errorf("reversed lock: group %d is %v, want %v", i, gr[i].Sources, gs[i].Sources)
		}
	}
	if _, err := Split(pkgs, 0); err == nil {
		t.Error("a budget of 0 was accepted")
	}
}
