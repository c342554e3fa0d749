package lru

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// evicted records what a cache dropped, in order.
type evicted struct {
	keys []string
	vals []int
}

func (r *evicted) record(k string, v int) { r.keys = append(r.keys, k); r.vals = append(r.vals, v) }

func wantKeys(t *testing.T, c *Cache[string, int], want ...string) {
	t.Helper()
	if got := c.Keys(); !slices.Equal(got, want) {
		t.Errorf("keys %q, want %q", got, want)
	}
	if c.Len() != len(want) {
		t.Errorf("Len %d, want %d", c.Len(), len(want))
	}
}

// The total size stays within the bound; the least recently used entries
// go first, and a Get makes an entry the most recent.
func TestBoundAndOrder(t *testing.T) {
	var ev evicted
	c := New(10, ev.record)
	for i, k := range []string{"a", "b", "c"} {
		if !c.Add(k, i, 3) {
			t.Fatalf("%s not kept", k)
		}
	}
	wantKeys(t, c, "c", "b", "a")
	if v, ok := c.Get("a"); !ok || v != 0 {
		t.Fatalf("Get(a) = %d, %v", v, ok)
	}
	wantKeys(t, c, "a", "c", "b")
	if !c.Add("d", 3, 3) { // 12 > 10: b goes
		t.Fatal("d not kept")
	}
	wantKeys(t, c, "d", "a", "c")
	if c.Size() != 9 {
		t.Errorf("size %d, want 9", c.Size())
	}
	if !c.Add("e", 4, 7) { // 16 > 10: c, then a go
		t.Fatal("e not kept")
	}
	wantKeys(t, c, "e", "d")
	if c.Size() != 10 {
		t.Errorf("size %d, want 10 (the bound itself fits)", c.Size())
	}
	if !slices.Equal(ev.keys, []string{"b", "c", "a"}) || !slices.Equal(ev.vals, []int{1, 2, 0}) {
		t.Errorf("evicted %q %v, want b c a with their values", ev.keys, ev.vals)
	}
	if _, ok := c.Get("b"); ok {
		t.Error("an evicted key was served")
	}
	if c.Max() != 10 {
		t.Errorf("Max %d", c.Max())
	}
}

// An entry larger than the bound is not kept and drops nothing; one of
// exactly the bound is kept and drops everything else.
func TestOversize(t *testing.T) {
	var ev evicted
	c := New(10, ev.record)
	c.Add("a", 1, 4)
	if c.Add("big", 2, 11) {
		t.Error("an entry over the bound was kept")
	}
	wantKeys(t, c, "a")
	if len(ev.keys) != 0 {
		t.Errorf("an entry over the bound dropped %q", ev.keys)
	}
	if !c.Add("full", 3, 10) {
		t.Error("an entry of the bound's size was not kept")
	}
	wantKeys(t, c, "full")
	if c.Size() != 10 || !slices.Equal(ev.keys, []string{"a"}) {
		t.Errorf("size %d, evicted %q", c.Size(), ev.keys)
	}
	zero := New[string, int](0, nil)
	if !zero.Add("empty", 1, 0) || zero.Add("one", 1, 1) {
		t.Error("a cache bounded at 0 keeps entries of size 0 only")
	}
}

// Adding a key kept already keeps the first value, in its place, and
// drops nothing.
func TestAddKeptKey(t *testing.T) {
	var ev evicted
	c := New(10, ev.record)
	c.Add("a", 1, 5)
	c.Add("b", 2, 5)
	if c.Add("a", 99, 1) {
		t.Error("a second Add of a kept key reported kept")
	}
	if v, _ := c.Remove("a"); v != 1 {
		t.Errorf("a's value %d after a second Add, want the first (1)", v)
	}
	c.Add("a", 1, 5)
	c.Add("b", 3, 5)
	wantKeys(t, c, "a", "b") // b not moved to the front
	if c.Size() != 10 || len(ev.keys) != 0 {
		t.Errorf("size %d, evicted %q", c.Size(), ev.keys)
	}
	// After its removal a key can be added again, with a new value.
	c.Remove("b")
	if !c.Add("b", 4, 2) {
		t.Fatal("a removed key was not added again")
	}
	if v, _ := c.Get("b"); v != 4 {
		t.Errorf("b = %d, want 4", v)
	}
}

// Remove forgets an entry and its size without calling onEvict.
func TestRemove(t *testing.T) {
	var ev evicted
	c := New(10, ev.record)
	c.Add("a", 1, 3)
	c.Add("b", 2, 4)
	if v, ok := c.Remove("a"); !ok || v != 1 {
		t.Errorf("Remove(a) = %d, %v", v, ok)
	}
	if _, ok := c.Remove("a"); ok {
		t.Error("removed twice")
	}
	wantKeys(t, c, "b")
	if c.Size() != 4 || len(ev.keys) != 0 {
		t.Errorf("size %d, evicted %q", c.Size(), ev.keys)
	}
	c.Remove("b")
	wantKeys(t, c)
	if c.Size() != 0 {
		t.Errorf("size %d when empty", c.Size())
	}
	// An empty cache still takes entries (the lists were left whole).
	c.Add("c", 3, 10)
	wantKeys(t, c, "c")
}

// A segmented cache drops entries read once (probation), least recent
// first, before entries read again (protected), least recent first; a
// read moves an entry to the front of protected.
func TestSegmented(t *testing.T) {
	var ev evicted
	c := NewSegmented(5, ev.record)
	for i, k := range []string{"a", "b", "c", "d"} {
		c.Add(k, i, 1)
	}
	c.Get("b")
	c.Get("a")
	wantKeys(t, c, "a", "b", "d", "c")
	c.Get("b") // protected: to its front
	wantKeys(t, c, "b", "a", "d", "c")
	c.Add("e", 4, 1)
	c.Add("f", 5, 1) // probation goes first: c
	wantKeys(t, c, "b", "a", "f", "e", "d")
	c.Add("g", 6, 3) // then d, e, f
	wantKeys(t, c, "b", "a", "g")
	c.Add("h", 7, 4) // probation empties (g), then protected's least recent: a
	wantKeys(t, c, "b", "h")
	if !slices.Equal(ev.keys, []string{"c", "d", "e", "f", "g", "a"}) {
		t.Errorf("evicted %q", ev.keys)
	}
	if c.Size() != 5 {
		t.Errorf("size %d, want 5", c.Size())
	}
	// A removed protected entry leaves its segment.
	c.Remove("b")
	c.Add("i", 8, 1)
	wantKeys(t, c, "i", "h")
}

// A plain cache never promotes: a read entry is just the most recent.
func TestPlainHasOneSegment(t *testing.T) {
	c := New[string, int](3, nil)
	c.Add("a", 0, 1)
	c.Add("b", 1, 1)
	c.Get("a")
	c.Add("c", 2, 1)
	wantKeys(t, c, "c", "a", "b")
	c.Add("d", 3, 1)
	wantKeys(t, c, "d", "c", "a")
}

// Concurrent Adds, Gets and Removes keep the size within the bound and
// equal to the kept entries' sizes, and serve only the values added under
// each key (run with -race).
func TestConcurrent(t *testing.T) {
	for _, seg := range []bool{false, true} {
		t.Run(fmt.Sprint("segmented=", seg), func(t *testing.T) {
			var mu sync.Mutex
			evictions := 0
			onEvict := func(k string, v int) {
				if k != fmt.Sprint(v) {
					t.Errorf("evicted %q with value %d", k, v)
				}
				mu.Lock()
				evictions++
				mu.Unlock()
			}
			c := New(100, onEvict)
			if seg {
				c = NewSegmented(100, onEvict)
			}
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for i := range 2000 {
						n := (g*7 + i*13) % 60
						k := fmt.Sprint(n)
						switch i % 5 {
						case 0, 1:
							c.Add(k, n, int64(n%9+1))
						case 2, 3:
							if v, ok := c.Get(k); ok && v != n {
								t.Errorf("Get(%s) = %d", k, v)
							}
						default:
							c.Remove(k)
						}
						if s := c.Size(); s > c.Max() {
							t.Errorf("size %d past the bound", s)
						}
					}
				})
			}
			wg.Wait()
			var sum int64
			for _, k := range c.Keys() {
				var n int
				fmt.Sscan(k, &n)
				sum += int64(n%9 + 1)
			}
			if sum != c.Size() || len(c.Keys()) != c.Len() {
				t.Errorf("size %d, kept entries' sizes %d; %d keys, Len %d", c.Size(), sum, len(c.Keys()), c.Len())
			}
			if evictions == 0 {
				t.Error("no evictions: the test did not fill the cache")
			}
		})
	}
}

func BenchmarkGet(b *testing.B) {
	c := New[int, int](1<<20, nil)
	for i := range 1000 {
		c.Add(i, i, 1)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Get(i % 1000)
		i++
	}
}

func BenchmarkAddEvict(b *testing.B) {
	c := NewSegmented[int, int](1000, nil)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Add(i, i, 1)
		i++
	}
}
