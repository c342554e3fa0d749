package build

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

func testSet(t *testing.T, content string) *runtimeLayerSet {
	t.Helper()
	tree := rootfs.New()
	if err := tree.Put(&rootfs.Entry{Path: "f", Kind: rootfs.File, Mode: 0o644, Data: []byte(content)}); err != nil {
		t.Fatal(err)
	}
	return &runtimeLayerSet{trees: []*rootfs.FS{tree}}
}

func content(set *runtimeLayerSet) string {
	if set == nil {
		return ""
	}
	e, _ := set.trees[0].Get("f")
	return string(e.Data)
}

// TestRuntimeLayerMemoNeverServesAnotherContent: a set is served only for
// the key it was handed over with: every part of the key (definition file
// and bytes, lock, architecture, apt sources, budget, compression, layer
// cache) tells sets apart.
func TestRuntimeLayerMemoNeverServesAnotherContent(t *testing.T) {
	ctx := context.Background()
	l, err := spec.LoadLock("../../examples/catalog/base/12-bookworm.lock.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def := &spec.Definition{File: "a.yaml", SHA256: "aa"}
	cache := &oci.LayerCache{}
	base, ok := runtimeKeyOf(def, l, "amd64", [2]string{"x", "y"}, 7, oci.Gzip, cache)
	if !ok {
		t.Fatal("no key")
	}
	if _, ok := runtimeKeyOf(&spec.Definition{File: "a.yaml", SHA256: "aa", Variant: "dev"}, l, "amd64", [2]string{}, 7, oci.Gzip, cache); ok {
		t.Fatal("a variant's definition has a runtime key")
	}
	other := func(f func(*runtimeKey)) runtimeKey { k := base; f(&k); return k }
	keys := []runtimeKey{
		base,
		other(func(k *runtimeKey) { k.file = "b.yaml" }),
		other(func(k *runtimeKey) { k.defSHA256 = "bb" }),
		other(func(k *runtimeKey) { k.lock = "other" }),
		other(func(k *runtimeKey) { k.arch = "arm64" }),
		other(func(k *runtimeKey) { k.apt[1] = "z" }),
		other(func(k *runtimeKey) { k.n = 6 }),
		other(func(k *runtimeKey) { k.comp = oci.Zstd }),
		other(func(k *runtimeKey) { k.cache = &oci.LayerCache{} }),
	}
	c := newRuntimeLayerMemo(1 << 20)
	for i, k := range keys {
		fin := c.begin(k, 2)
		if fin == nil {
			t.Fatalf("key %d: already announced", i)
		}
		fin(testSet(t, string(rune('A'+i))))
	}
	for i, k := range keys {
		set, err := c.get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := content(set), string(rune('A'+i)); got != want {
			t.Errorf("key %d: served %q, want %q", i, got, want)
		}
	}
	// A key never announced is served nothing.
	if set, _ := c.get(ctx, other(func(k *runtimeKey) { k.arch = "s390x" })); set != nil {
		t.Errorf("served %q for a key never announced", content(set))
	}
}

// TestRuntimeLayerMemoWaitsUsesAndBounds: a variant's get waits for the
// runtime's build; a failed build serves nothing; a set is served at most
// uses times; the kept size stays within the bound.
func TestRuntimeLayerMemoWaitsUsesAndBounds(t *testing.T) {
	ctx := context.Background()
	c := newRuntimeLayerMemo(1 << 20)
	k := runtimeKey{file: "a.yaml", arch: "amd64"}
	fin := c.begin(k, 2)
	if c.begin(k, 2) != nil {
		t.Fatal("announced twice")
	}
	var wg sync.WaitGroup
	got := make([]string, 2)
	for i := range got {
		wg.Go(func() {
			set, err := c.get(ctx, k)
			if err != nil {
				t.Error(err)
			}
			got[i] = content(set)
		})
	}
	time.Sleep(10 * time.Millisecond)
	fin(testSet(t, "runtime"))
	fin(testSet(t, "again")) // only the first hand-over counts
	wg.Wait()
	for i, g := range got {
		if g != "runtime" {
			t.Errorf("waiter %d got %q", i, g)
		}
	}
	if set, _ := c.get(ctx, k); set != nil {
		t.Error("served more than uses times")
	}
	if c.used != 0 || c.order.Len() != 0 {
		t.Errorf("kept %d bytes in %d sets after the last use", c.used, c.order.Len())
	}

	// A failed build: waiters get nothing and build the layers themselves.
	k2 := runtimeKey{file: "b.yaml"}
	fin = c.begin(k2, 1)
	fin(nil)
	if set, _ := c.get(ctx, k2); set != nil {
		t.Error("served a failed build's layers")
	}

	// A canceled wait returns the context's error.
	k3 := runtimeKey{file: "c.yaml"}
	fin = c.begin(k3, 1)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.get(cctx, k3); err == nil {
		t.Error("a canceled wait returned no error")
	}
	fin(nil)

	// The bound: a small memo keeps the most recent sets only.
	small := newRuntimeLayerMemo(testSet(t, "0123456789").size()*2 + 1)
	for i := range 5 {
		f := small.begin(runtimeKey{n: i}, 1)
		f(testSet(t, "0123456789"))
		if small.used > small.max {
			t.Fatalf("kept %d bytes, bound %d", small.used, small.max)
		}
	}
	if small.order.Len() != 2 {
		t.Errorf("kept %d sets, want 2", small.order.Len())
	}
	if set, _ := small.get(ctx, runtimeKey{n: 0}); set != nil {
		t.Error("served a dropped set")
	}
	if set, _ := small.get(ctx, runtimeKey{n: 4}); content(set) != "0123456789" {
		t.Error("the most recent set was not kept")
	}
}

// TestRuntimeLayerMemoEvictionOrder: a set served (and still wanted) is
// the most recently used: a hand-over past the bound drops the other.
func TestRuntimeLayerMemoEvictionOrder(t *testing.T) {
	ctx := context.Background()
	c := newRuntimeLayerMemo(testSet(t, "0123456789").size()*2 + 1)
	for i := range 2 {
		c.begin(runtimeKey{n: i}, 3)(testSet(t, "0123456789"))
	}
	if set, _ := c.get(ctx, runtimeKey{n: 0}); set == nil {
		t.Fatal("set 0 not served")
	}
	c.begin(runtimeKey{n: 2}, 3)(testSet(t, "0123456789")) // 1 goes
	if set, _ := c.get(ctx, runtimeKey{n: 1}); set != nil {
		t.Error("set 1 served: the least recently used was not dropped")
	}
	for _, n := range []int{0, 2} {
		if set, _ := c.get(ctx, runtimeKey{n: n}); set == nil {
			t.Errorf("set %d dropped", n)
		}
	}
	// Set 0 has one use left, set 2 two: a third get of 0 drops it.
	c.get(ctx, runtimeKey{n: 0})
	if set, _ := c.get(ctx, runtimeKey{n: 0}); set != nil {
		t.Error("set 0 served more than 3 times")
	}
	if c.used != testSet(t, "0123456789").size() || c.order.Len() != 1 {
		t.Errorf("kept %d bytes in %d sets, want set 2 only", c.used, c.order.Len())
	}
	// A set over the bound is not kept, and drops nothing.
	big := newRuntimeLayerMemo(5)
	big.begin(runtimeKey{n: 9}, 1)(testSet(t, "0123456789"))
	if set, _ := big.get(ctx, runtimeKey{n: 9}); set != nil || big.used != 0 {
		t.Errorf("a set over the bound was kept (%d bytes)", big.used)
	}
}
