package assemble

import (
	"testing"

	"github.com/temper-dev/temper/internal/rootfs"
)

func TestSplitTree(t *testing.T) {
	tree := rootfs.New()
	put := func(e *rootfs.Entry) {
		t.Helper()
		if err := tree.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	put(&rootfs.Entry{Path: "usr", Kind: rootfs.Dir, Mode: 0o755, Package: "base-files"})
	put(&rootfs.Entry{Path: "usr/lib", Kind: rootfs.Dir, Mode: 0o700, UID: 3, Package: "libc6"})
	put(&rootfs.Entry{Path: "usr/lib/libc.so.6", Kind: rootfs.File, Mode: 0o755, Data: []byte("libc"), Package: "libc6"})
	put(&rootfs.Entry{Path: "usr/lib/libssl.so.3", Kind: rootfs.File, Mode: 0o644, Data: []byte("ssl"), Package: "libssl3"})
	put(&rootfs.Entry{Path: "usr/bin/perl5.36", Kind: rootfs.File, Mode: 0o755, Data: []byte("perl"), Package: "perl-base"})
	put(&rootfs.Entry{Path: "usr/bin/perl", Kind: rootfs.Hardlink, Target: "usr/bin/perl5.36", Package: "perl"})
	put(&rootfs.Entry{Path: "var/cache/empty", Kind: rootfs.Dir, Mode: 0o750, Package: "libssl3"})
	put(&rootfs.Entry{Path: "tmp", Kind: rootfs.Dir, Mode: 0o1777})
	put(&rootfs.Entry{Path: "etc/passwd", Kind: rootfs.File, Mode: 0o644, Data: []byte("root")})
	put(&rootfs.Entry{Path: statusDir + "/libc6", Kind: rootfs.File, Mode: 0o644, Data: []byte("Package: libc6")})
	put(&rootfs.Entry{Path: statusDir + "/libc6.md5sums", Kind: rootfs.File, Mode: 0o644, Data: []byte("x")})
	put(&rootfs.Entry{Path: statusDir + "/perl", Kind: rootfs.File, Mode: 0o644, Data: []byte("Package: perl")})

	layers, err := SplitTree(tree, [][]string{{"libc6"}, {"libssl3"}, {"perl", "perl-base", "base-files"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 4 {
		t.Fatalf("%d layers, want 4", len(layers))
	}
	in := func(i int, p string) bool { _, ok := layers[i].Get(p); return ok }
	for _, c := range []struct {
		layer int
		path  string
	}{
		{0, "usr/lib/libc.so.6"}, {0, statusDir + "/libc6"}, {0, statusDir + "/libc6.md5sums"},
		{1, "usr/lib/libssl.so.3"}, {1, "var/cache/empty"},
		{2, "usr/bin/perl"}, {2, "usr/bin/perl5.36"}, {2, statusDir + "/perl"},
		{3, "tmp"}, {3, "etc/passwd"},
	} {
		for i := range layers {
			if in(i, c.path) != (i == c.layer) {
				t.Errorf("/%s in layer %d: %v, want it only in layer %d", c.path, i, in(i, c.path), c.layer)
			}
		}
	}
	// Parents carry the tree's metadata in every layer that needs them.
	for _, i := range []int{0, 1} {
		e, ok := layers[i].Get("usr/lib")
		if !ok || e.Mode != 0o700 || e.UID != 3 {
			t.Errorf("layer %d: usr/lib %+v, want the tree's 0700 uid 3", i, e)
		}
	}
	// Applied in order, the layers give back the tree.
	union := map[string]*rootfs.Entry{}
	for _, l := range layers {
		for _, p := range l.Paths() {
			e, _ := l.Get(p)
			if old, ok := union[p]; ok && old != e {
				t.Errorf("/%s differs between layers", p)
			}
			union[p] = e
		}
	}
	for _, p := range tree.Paths() {
		e, _ := tree.Get(p)
		if union[p] != e {
			t.Errorf("/%s: lost or changed by the split", p)
		}
	}
	if len(union) != tree.Len() {
		t.Errorf("%d paths after the split, %d before", len(union), tree.Len())
	}

	if _, err := SplitTree(tree, [][]string{{"libc6"}}); err == nil {
		t.Error("a package in no group was accepted")
	}
}
