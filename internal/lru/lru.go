// Package lru is a map bounded by the total size of its values, dropping
// the least recently used entries past the bound: the one eviction policy
// behind this process's memos (deb's control files, assemble's unpacked
// packages, build's runtime layers), which keep their own waits, use
// counts and statistics around it.
package lru

import "sync"

// Cache keeps values by key, each with the size its caller gives, within a
// bound on the total size. Getting an entry makes it the most recently
// used; adding one drops the least recently used entries until it fits.
// An entry larger than the bound is not kept.
//
// A segmented cache (NewSegmented) keeps entries added and not yet read
// again apart (probation) from entries read again (protected), and drops
// from probation first: what is used once passes through without pushing
// out what is used again and again.
//
// A memo that keeps its own slots (waits, use counts) can key the cache by
// the slot's pointer with struct{} values: a Get of a slot no longer kept
// is then a miss, never another slot's hit.
//
// It is safe for concurrent use. The function called for dropped entries
// runs with the cache's lock held: it must not call the cache.
type Cache[K comparable, V any] struct {
	max       int64
	segmented bool
	onEvict   func(K, V)

	mu        sync.Mutex
	size      int64
	m         map[K]*entry[K, V]
	probation ring[K, V] // added, not read again; all entries when not segmented
	protected ring[K, V] // read again (segmented only)
}

// New returns an empty cache keeping at most max bytes. onEvict, when not
// nil, is called for each entry dropped to make room (not for entries
// removed with Remove, nor for entries never kept).
func New[K comparable, V any](max int64, onEvict func(K, V)) *Cache[K, V] {
	c := &Cache[K, V]{max: max, onEvict: onEvict, m: map[K]*entry[K, V]{}}
	c.probation.init()
	c.protected.init()
	return c
}

// NewSegmented is New with the probation and protected segments.
func NewSegmented[K comparable, V any](max int64, onEvict func(K, V)) *Cache[K, V] {
	c := New(max, onEvict)
	c.segmented = true
	return c
}

// Get returns the value kept under k and makes it the most recently used
// (in a segmented cache, moves it to the front of the protected segment).
func (c *Cache[K, V]) Get(k K) (v V, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[k]
	if e == nil {
		return v, false
	}
	e.unlink()
	if c.segmented {
		c.protected.pushFront(e)
	} else {
		c.probation.pushFront(e)
	}
	return e.val, true
}

// Add keeps v of the given size under k as the most recently used entry
// (in a segmented cache, at the front of probation), first dropping the
// least recently used entries past the bound. It keeps nothing and drops
// nothing, and returns false, when size is over the bound or k is kept
// already (the kept value stays, where it was).
func (c *Cache[K, V]) Add(k K, v V, size int64) bool {
	if size > c.max {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return false
	}
	for c.size+size > c.max {
		old := c.probation.back()
		if old == nil {
			old = c.protected.back()
		}
		c.drop(old)
		if c.onEvict != nil {
			c.onEvict(old.key, old.val)
		}
	}
	e := &entry[K, V]{key: k, val: v, size: size}
	c.m[k] = e
	c.probation.pushFront(e)
	c.size += size
	return true
}

// Remove forgets k's entry and returns its value, or false when k is not
// kept.
func (c *Cache[K, V]) Remove(k K) (v V, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.m[k]; e != nil {
		c.drop(e)
		return e.val, true
	}
	return v, false
}

// drop forgets a kept entry. c.mu is held.
func (c *Cache[K, V]) drop(e *entry[K, V]) {
	e.unlink()
	delete(c.m, e.key)
	c.size -= e.size
}

// Len is the number of entries kept.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Size is the total size of the entries kept.
func (c *Cache[K, V]) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

// Max is the bound.
func (c *Cache[K, V]) Max() int64 { return c.max }

// Keys lists the keys kept in the reverse of the order they would be
// dropped (the last one goes first): most recently used first, and in a
// segmented cache the protected segment before probation.
func (c *Cache[K, V]) Keys() []K {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]K, 0, len(c.m))
	for _, r := range []*ring[K, V]{&c.protected, &c.probation} {
		for e := r.root.next; e != &r.root; e = e.next {
			keys = append(keys, e.key)
		}
	}
	return keys
}

type entry[K comparable, V any] struct {
	key        K
	val        V
	size       int64
	prev, next *entry[K, V]
}

// ring is a doubly linked list through its root: root.next is the front
// (most recent), root.prev the back.
type ring[K comparable, V any] struct{ root entry[K, V] }

func (r *ring[K, V]) init() { r.root.next, r.root.prev = &r.root, &r.root }

func (r *ring[K, V]) pushFront(e *entry[K, V]) {
	e.prev, e.next = &r.root, r.root.next
	r.root.next.prev = e
	r.root.next = e
}

func (r *ring[K, V]) back() *entry[K, V] {
	if r.root.prev == &r.root {
		return nil
	}
	return r.root.prev
}

func (e *entry[K, V]) unlink() {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}
