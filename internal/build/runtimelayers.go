package build

// A variant's build reuses its runtime's package layers (variantlayers.go).
// When the runtime is built in the same process (All builds it before or
// beside its variants), its build hands its package layers' trees and
// layers to its variants' builds through runtimeLayerMemo, so that a
// variant's build neither assembles the runtime's tree again nor hashes
// the runtime's layers again for their keys.

import (
	"context"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/limits"
	"github.com/temper-dev/temper/internal/lru"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// runtimeLayerMemoMax bounds the trees the memo keeps (their entries'
// contents, which mostly are the package memo's, and paths).
const runtimeLayerMemoMax = 1 << 30

// runtimeKey is everything that decides a runtime's package layers for
// one architecture: the definition (its file and bytes), the lock, the
// architecture, the apt sources written into the image, the unpacking
// limits, the number of package layers (the budget), the compression
// and the layer cache the layers came from.
type runtimeKey struct {
	file, defSHA256 string
	lock            string
	arch            string
	apt             [2]string
	limits          limits.Limits
	n               int
	comp            oci.Compression
	cache           *oci.LayerCache
}

// runtimeKeyOf is the key of def's (a runtime's) package layers built with
// lock l, or false when it has none (a definition read from no file).
func runtimeKeyOf(def *spec.Definition, l *spec.Lock, arch string, apt [2]string, n int, comp oci.Compression, cache *oci.LayerCache) (runtimeKey, bool) {
	if def == nil || l == nil || def.Variant != "" || def.File == "" || def.SHA256 == "" {
		return runtimeKey{}, false
	}
	d := l.Digest()
	if d == "" {
		return runtimeKey{}, false
	}
	return runtimeKey{file: def.File, defSHA256: def.SHA256, lock: d, arch: arch, apt: apt, limits: limits.Get(), n: n, comp: comp, cache: cache}, true
}

// runtimeLayerSet is a runtime's package layers for one architecture, by
// group of layers.SplitRuntime: the layer's tree (as assemble.SplitTree
// gives it) and the layer built from it (nil for a group with no files).
type runtimeLayerSet struct {
	trees  []*rootfs.FS
	layers []v1.Layer
}

// runtimeLayerMemo keeps runtimes' package layers for their variants'
// builds. A runtime's build announces the layers it will build (begin)
// and hands them over (the returned function); a variant's build waits
// for announced layers (get). Each set is served at most uses times, and
// the total size kept is bounded (least recently used first out). It is
// safe for concurrent use.
type runtimeLayerMemo struct {
	max int64

	mu    sync.Mutex
	used  int64                              // order.Size(), kept in step under mu
	m     map[runtimeKey]*runtimeSlot        // announced, or kept
	order *lru.Cache[*runtimeSlot, struct{}] // done slots kept
}

type runtimeSlot struct {
	key  runtimeKey
	done chan struct{} // closed once set is final (nil: none)
	set  *runtimeLayerSet
	uses int
}

func newRuntimeLayerMemo(max int64) *runtimeLayerMemo {
	c := &runtimeLayerMemo{max: max, m: map[runtimeKey]*runtimeSlot{}}
	// A set dropped to make room is built again by its variants' builds.
	// Called with c.mu held (finish).
	c.order = lru.New(max, func(s *runtimeSlot, _ struct{}) { delete(c.m, s.key) })
	return c
}

// begin announces that the caller builds k's layers, to be served to at
// most uses builds. It returns the function that hands them over (nil:
// the build failed; only the first call counts), or nil when k is
// already announced or kept.
func (c *runtimeLayerMemo) begin(k runtimeKey, uses int) func(*runtimeLayerSet) {
	if c == nil || uses <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return nil
	}
	s := &runtimeSlot{key: k, done: make(chan struct{}), uses: uses}
	c.m[k] = s
	var once sync.Once
	return func(set *runtimeLayerSet) {
		once.Do(func() { c.finish(s, set) })
	}
}

// finish makes set s's layers (nil: none) and wakes its waiters. A set
// larger than the bound is not kept.
func (c *runtimeLayerMemo) finish(s *runtimeSlot, set *runtimeLayerSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s.set = set
	if set == nil || !c.order.Add(s, struct{}{}, set.size()) {
		s.set = nil
		delete(c.m, s.key)
	}
	c.used = c.order.Size()
	close(s.done)
}

// get returns k's layers: kept, or waited for while a build that
// announced them runs; nil when there are none (never announced, dropped,
// served uses times, or their build failed).
func (c *runtimeLayerMemo) get(ctx context.Context, k runtimeKey) (*runtimeLayerSet, error) {
	if c == nil {
		return nil, nil
	}
	c.mu.Lock()
	s, ok := c.m[k]
	c.mu.Unlock()
	if !ok {
		return nil, nil
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, kept := c.order.Get(s); !kept { // none, or dropped since
		return nil, nil
	}
	s.uses--
	if s.uses <= 0 {
		c.order.Remove(s)
		c.used = c.order.Size()
		delete(c.m, k)
	}
	return s.set, nil
}

// size is what the set's trees hold (rootfs.Entry.MemSize, as
// assemble.Packages counts).
func (set *runtimeLayerSet) size() int64 {
	var n int64
	for _, t := range set.trees {
		t.Walk(func(e *rootfs.Entry) error {
			n += e.MemSize()
			return nil
		})
	}
	return n
}
