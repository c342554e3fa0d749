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

func TestSplitVariant(t *testing.T) {
	rt := []spec.LockedPackage{
		pkg("app", "app", 5000, "definition"),
		pkg("libc6", "glibc", 1000, "app", "libssl3", "libfoo", "libbar", "libc-bin"),
		pkg("libc-bin", "glibc", 100, "app"),
		pkg("libssl3", "openssl", 900, "app"),
		pkg("libfoo", "foo", 10, "app"),
		pkg("libbar", "bar", 20, "app"),
	}
	// The variant: the runtime's packages (their required_by grows with the
	// variant's own packages, which must not move the runtime's groups),
	// plus gcc, make and a newer libbar.
	v := []spec.LockedPackage{
		pkg("gcc", "gcc", 9000, "definition"),
		pkg("libc6", "glibc", 1000, "app", "libssl3", "libfoo", "libbar", "libc-bin", "gcc", "make"),
		pkg("make", "make", 300, "definition"),
		pkg("app", "app", 5000, "definition"),
		pkg("libc-bin", "glibc", 100, "app"),
		pkg("libssl3", "openssl", 900, "app", "gcc"),
		pkg("libfoo", "foo", 10, "app"),
		pkg("libbar", "bar", 20, "app"),
	}
	v[7].Version = "2"

	// Budget 8 (7 package layers): the runtime gets 5, the variant 5 + 2.
	r, err := SplitRuntime(rt, 7)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := Split(rt, 5)
	if !reflect.DeepEqual(r, plain) {
		t.Fatalf("SplitRuntime(7) = %v, want Split(5) %v", names(r), names(plain))
	}
	want := [][]string{{"libc6", "libc-bin"}, {"app"}, {"libssl3"}, {"libbar"}, {"libfoo"}}
	if got := names(r); !reflect.DeepEqual(got, want) {
		t.Fatalf("runtime: %v, want %v", got, want)
	}
	vg, err := SplitVariant(rt, v, 7)
	if err != nil {
		t.Fatal(err)
	}
	// The runtime's groups at the bottom, libbar at another version left
	// out of them; then the variant's own: gcc alone, the rest together.
	want = [][]string{{"libc6", "libc-bin"}, {"app"}, {"libssl3"}, {"libfoo"}, {"gcc"}, {"libbar", "make"}}
	if got := names(vg); !reflect.DeepEqual(got, want) {
		t.Fatalf("variant: %v, want %v", got, want)
	}
	if vg[0].Name != "glibc" || vg[4].Name != "gcc" || vg[5].Name != "rest: 2 sources" || !reflect.DeepEqual(vg[5].Sources, []string{"bar", "make"}) {
		t.Errorf("variant group names: %q %q %q %v", vg[0].Name, vg[4].Name, vg[5].Name, vg[5].Sources)
	}
	for i, want := range []int{1, 2, 3, 5, 0, 0} { // libbar's group (4) is left out
		if vg[i].Runtime != want {
			t.Errorf("group %d (%s): Runtime %d, want %d", i, vg[i].Name, vg[i].Runtime, want)
		}
	}
	for i, g := range vg {
		for _, p := range g.Packages {
			if i < 4 && p.Name == "libc6" && len(p.RequiredBy) != 7 {
				t.Errorf("group %d holds the runtime's record of %s, want the variant's", i, p.Name)
			}
		}
	}

	// A runtime group has a rest layer: the variant keeps it whole.
	r, _ = SplitRuntime(rt, 4) // 2 layers: glibc, rest
	vg, _ = SplitVariant(rt, v, 4)
	want = [][]string{{"libc6", "libc-bin"}, {"app", "libfoo", "libssl3"}, {"gcc"}, {"libbar", "make"}}
	if got := names(vg); !reflect.DeepEqual(got, want) || len(r) != 2 || len(vg) > 4 {
		t.Fatalf("budget 5: runtime %v, variant %v, want %v", names(r), names(vg), want)
	}

	// Too small a budget to reserve 2: n = 2 reserves 1, n = 1 none (the
	// variant is split alone).
	if Reserved(2) != 1 || Reserved(1) != 0 || Reserved(7) != 2 {
		t.Errorf("Reserved(2, 1, 7) = %d, %d, %d", Reserved(2), Reserved(1), Reserved(7))
	}
	vg, _ = SplitVariant(rt, v, 2)
	if len(vg) != 2 || len(vg[0].Packages) != 5 || len(vg[1].Packages) != 3 {
		t.Errorf("n = 2: %v", names(vg))
	}
	vg, _ = SplitVariant(rt, v, 1)
	if len(vg) != 1 || len(vg[0].Packages) != len(v) {
		t.Errorf("n = 1: %v", names(vg))
	}
	if _, err := SplitVariant(rt, v, 0); err == nil {
		t.Error("a budget of 0 was accepted")
	}
	if _, err := SplitRuntime(rt, 0); err == nil {
		t.Error("a budget of 0 was accepted")
	}

	// A variant with no packages of its own is its runtime's groups.
	vg, _ = SplitVariant(rt, rt, 7)
	if r, _ := SplitRuntime(rt, 7); !reflect.DeepEqual(names(vg), names(r)) {
		t.Errorf("no own packages: %v, want %v", names(vg), names(r))
	}
}
