package assemble

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/limits"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// pinned is mkdeb with the SHA-256 a lock would pin.
func pinned(t testing.TB, p pk) Deb {
	d := mkdeb(t, p)
	h := sha256.Sum256(d.Data)
	d.Package.SHA256 = hex.EncodeToString(h[:])
	return d
}

// dump lists every entry of a tree with its metadata and content.
func dump(tree *rootfs.FS) string {
	var b strings.Builder
	tree.Walk(func(e *rootfs.Entry) error {
		fmt.Fprintf(&b, "%s %s %v %d:%d %q %q %q\n", e.Path, e.Kind, e.Mode, e.UID, e.GID, e.Target, e.Data, e.Package)
		return nil
	})
	return b.String()
}

func memoPackages(t testing.TB) (libc, tool, doc Deb) {
	libc = pinned(t, pk{name: "libc6", files: []debtest.File{
		file("./lib/x86_64-linux-gnu/libc.so.6", "libc"),
		file("./usr/share/doc/libc6/changelog", "docs"),
	}, scripts: map[string]string{"postinst": "#!/bin/sh\nupdate-alternatives --install /usr/bin/cc cc /usr/bin/gcc 10\n"}})
	tool = pinned(t, pk{name: "tool", extra: "Depends: libc6\n", files: []debtest.File{
		{Path: "./usr/bin/tool", Data: []byte("tool"), Mode: 0o4755},
		file("./usr/share/man/man1/tool.1", "man"),
	}})
	doc = pinned(t, pk{name: "doc", files: []debtest.File{file("./usr/share/doc/doc/README", "read me")}})
	return
}

// Images assembled with a shared memo are the same as without it, entry
// for entry, while the definitions harden them differently (a package
// kept in memory is never changed by an image's steps); the shared
// package is read once.
func TestPackagesSameTrees(t *testing.T) {
	libc, tool, doc := memoPackages(t)
	keepDocs := def()
	keepDocs.Keep = []string{"usr/share/doc/**", "usr/share/man/**"}
	images := []struct {
		def  *spec.Definition
		debs []Deb
	}{
		{def(), []Deb{libc, tool}},
		{keepDocs, []Deb{libc, tool, doc}},
		{def(), []Deb{libc, doc}},
		{keepDocs, []Deb{tool, libc}},
	}
	memo := NewPackages(1 << 20)
	for i, im := range images {
		want, _, err := Assemble(Input{Def: im.def, Arch: "amd64", Debs: im.debs, Release: "bookworm"})
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := Assemble(Input{Def: im.def, Arch: "amd64", Debs: im.debs, Release: "bookworm", Packages: memo})
		if err != nil {
			t.Fatal(err)
		}
		if dump(got) != dump(want) {
			t.Errorf("image %d with the memo:\n%s\nwithout:\n%s", i, dump(got), dump(want))
		}
	}
	st := memo.Stats()
	if st.Reads != 3 || st.Hits != 6 || st.Kept != 3 {
		t.Errorf("stats %+v, want 3 reads, 6 hits, 3 kept", st)
	}
}

// A different .deb (another SHA-256, or the same SHA-256 claimed for other
// bytes of another size) is read, never served another's files.
func TestPackagesDifferentDeb(t *testing.T) {
	memo := NewPackages(1 << 20)
	a := pinned(t, pk{name: "x", files: []debtest.File{file("./usr/lib/x/data", "version a")}})
	b := pinned(t, pk{name: "x", files: []debtest.File{file("./usr/lib/x/data", "version b, longer")}})
	read := func(d Deb) string {
		tree, _, err := Assemble(Input{Def: def(), Arch: "amd64", Debs: []Deb{d}, Release: "bookworm", Packages: memo})
		if err != nil {
			t.Fatal(err)
		}
		return string(get(t, tree, "usr/lib/x/data").Data)
	}
	if got := read(a); got != "version a" {
		t.Fatalf("a: %q", got)
	}
	if got := read(b); got != "version b, longer" {
		t.Errorf("b after a: %q", got)
	}
	c := b
	c.Package.SHA256 = a.Package.SHA256 // same pin, other bytes
	if got := read(c); got != "version b, longer" {
		t.Errorf("other bytes under a's SHA-256: %q", got)
	}
	unpinned := b
	unpinned.Package.SHA256 = ""
	read(unpinned)
	if st := memo.Stats(); st.Hits != 0 || st.Reads != 3 {
		t.Errorf("stats %+v, want 3 reads and no hit (an unpinned .deb is not kept)", st)
	}
}

// The memo holds at most its bound: packages read once go first, packages
// read again stay.
func TestPackagesBounded(t *testing.T) {
	var debs []Deb
	for i := range 6 {
		debs = append(debs, pinned(t, pk{name: fmt.Sprintf("p%d", i), files: []debtest.File{
			file(fmt.Sprintf("./usr/lib/p%d/data", i), strings.Repeat("x", 10000)),
		}}))
	}
	probe := NewPackages(1 << 30)
	read := func(m *Packages, d Deb) {
		t.Helper()
		if _, _, err := Assemble(Input{Def: def(), Arch: "amd64", Debs: []Deb{d}, Release: "bookworm", Packages: m}); err != nil {
			t.Fatal(err)
		}
	}
	read(probe, debs[0])
	one := probe.Stats().Bytes
	memo := NewPackages(3*one + one/2) // room for 3
	read(memo, debs[0])
	read(memo, debs[0]) // p0: read again, protected
	for _, d := range debs[1:] {
		read(memo, d)
		if st := memo.Stats(); st.Bytes > memo.max || st.Kept > 3 {
			t.Fatalf("%+v past the bound %d", st, memo.max)
		}
	}
	before := memo.Stats()
	read(memo, debs[0]) // still kept
	read(memo, debs[5]) // the most recent
	read(memo, debs[1]) // dropped long ago
	after := memo.Stats()
	if after.Hits-before.Hits != 2 || after.Reads-before.Reads != 1 {
		t.Errorf("after %d packages through a memo of 3: %+v then %+v; want p0 and p5 kept, p1 dropped", len(debs), before, after)
	}
	// Larger than the bound: read, not kept.
	small := NewPackages(100)
	read(small, debs[0])
	if st := small.Stats(); st.Kept != 0 || st.Bytes != 0 {
		t.Errorf("a package over the bound was kept: %+v", st)
	}
}

// A package served from memory still counts against each image's
// unpacked-size budget; a failed read is not kept.
func TestPackagesBudget(t *testing.T) {
	big := pinned(t, pk{name: "big", files: []debtest.File{file("./usr/lib/big/data", strings.Repeat("y", 300<<10))}})
	memo := NewPackages(1 << 30)
	if _, _, err := Assemble(Input{Def: def(), Arch: "amd64", Debs: []Deb{big}, Release: "bookworm", Packages: memo}); err != nil {
		t.Fatal(err)
	}
	// A second image with less room, the package from memory.
	_, err := memo.read(context.Background(), big, &imageBudget{max: 200 << 10, limit: "a test's 200 KiB"})
	var le *limits.Error
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "big") || !strings.Contains(err.Error(), "200 KiB") {
		t.Errorf("an image over its budget with a package from memory: %v", err)
	}
	if st := memo.Stats(); st.Hits != 1 {
		t.Errorf("stats %+v, want the package served from memory", st)
	}
	// With the budget set up front, the first read fails and nothing is
	// kept; a later read with room succeeds.
	memo = NewPackages(1 << 30)
	restore := limits.Set(limits.Limits{Image: 200 << 10})
	_, _, err = Assemble(Input{Def: def(), Arch: "amd64", Debs: []Deb{big}, Release: "bookworm", Packages: memo})
	restore()
	if err == nil {
		t.Fatal("an image over its budget was assembled")
	}
	if st := memo.Stats(); st.Kept != 0 {
		t.Errorf("a failed read was kept: %+v", st)
	}
	if _, _, err := Assemble(Input{Def: def(), Arch: "amd64", Debs: []Deb{big}, Release: "bookworm", Packages: memo}); err != nil {
		t.Errorf("after a failed read: %v", err)
	}
}

// Concurrent images sharing packages through a small memo (entries come
// and go) give the trees they give alone (run with -race).
func TestPackagesConcurrent(t *testing.T) {
	libc, tool, doc := memoPackages(t)
	sets := [][]Deb{{libc, tool}, {libc, doc}, {tool, doc, libc}, {doc}}
	want := make([]string, len(sets))
	for i, s := range sets {
		tree, _, err := Assemble(Input{Def: def(), Arch: "amd64", Debs: s, Release: "bookworm"})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = dump(tree)
	}
	probe := NewPackages(1 << 30)
	Assemble(Input{Def: def(), Arch: "amd64", Debs: []Deb{libc}, Release: "bookworm", Packages: probe})
	memo := NewPackages(2 * probe.Stats().Bytes)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				k := (g + i) % len(sets)
				tree, _, err := Assemble(Input{Def: def(), Arch: "amd64", Debs: sets[k], Release: "bookworm", Packages: memo, Context: context.Background()})
				if err != nil {
					t.Error(err)
					return
				}
				if got := dump(tree); got != want[k] {
					t.Errorf("set %d:\n%s\nwant\n%s", k, got, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
	if st := memo.Stats(); st.Hits == 0 || st.Bytes > memo.max {
		t.Errorf("stats %+v (bound %d)", st, memo.max)
	}
}

// The segmented order, read by read: packages read once go first, least
// recently used first; then packages read again, least recently read
// first.
func TestPackagesEvictionOrder(t *testing.T) {
	var debs []Deb
	for i := range 5 {
		debs = append(debs, pinned(t, pk{name: fmt.Sprintf("p%d", i), files: []debtest.File{
			file(fmt.Sprintf("./usr/lib/p%d/data", i), strings.Repeat("x", 10000)),
		}}))
	}
	ctx := context.Background()
	probe := NewPackages(1 << 30)
	probe.read(ctx, debs[0], &imageBudget{max: 1 << 40})
	one := probe.Stats().Bytes
	memo := NewPackages(3*one + one/2) // room for 3
	var got strings.Builder
	for _, i := range []int{0, 0, 1, 1, 0, 2, 3, 3, 4, 2, 0, 1} {
		before := memo.Stats().Hits
		if _, err := memo.read(ctx, debs[i], &imageBudget{max: 1 << 40}); err != nil {
			t.Fatal(err)
		}
		if memo.Stats().Hits > before {
			got.WriteString("h")
		} else {
			got.WriteString("r")
		}
	}
	// p0 r h, p1 r h, p0 h (protected: p0 p1), p2 r, p3 r (p2 goes), p3 h
	// (protected: p3 p0 p1), p4 r (p1 goes), p2 r (p4 goes), p0 h, p1 r.
	if want := "rhrhhrrhrrhr"; got.String() != want {
		t.Errorf("reads and hits %s, want %s", got.String(), want)
	}
}
