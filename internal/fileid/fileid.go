// Package fileid is a file's identity (device, inode, size, modification
// and change times) and a bounded memo keyed by it: what a process has
// already checked about a file (its SHA-256 matched, a blob's digest) and
// need not check again while the file is unchanged. Any write to the file,
// or another file renamed over it, changes its identity; a new process
// starts with an empty memo, so tampering between runs is always caught.
package fileid

import (
	"io/fs"
	"sync"
)

// ID is a file's identity, where the system says it (Of).
type ID struct {
	Dev, Ino     uint64
	Size         int64
	Mtime, Ctime int64 // ns
}

// Same reports whether a and b have one identity (and the system says it).
func Same(a, b fs.FileInfo) bool {
	ia, ok := Of(a)
	if !ok {
		return false
	}
	ib, ok := Of(b)
	return ok && ia == ib
}

// Memo remembers, per path, a value checked against the file with a
// given identity. Bounded: past max paths it starts over.
type Memo[V comparable] struct {
	mu  sync.Mutex
	m   map[string]entry[V]
	max int
}

type entry[V comparable] struct {
	id ID
	v  V
}

// NewMemo is a memo of at most max paths.
func NewMemo[V comparable](max int) *Memo[V] {
	return &Memo[V]{m: map[string]entry[V]{}, max: max}
}

// Has reports whether path, with identity fi, was added with value v.
func (m *Memo[V]) Has(path string, fi fs.FileInfo, v V) bool {
	id, ok := Of(fi)
	if !ok {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[path]
	return ok && e.id == id && e.v == v
}

// Add remembers v for path with identity fi (nothing where the system
// does not say the identity).
func (m *Memo[V]) Add(path string, fi fs.FileInfo, v V) {
	id, ok := Of(fi)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.m) >= m.max {
		clear(m.m)
	}
	m.m[path] = entry[V]{id: id, v: v}
}

// Forget drops path.
func (m *Memo[V]) Forget(path string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, path)
}

// Len is the number of paths remembered.
func (m *Memo[V]) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

// Clear forgets every path, as a new process starts.
func (m *Memo[V]) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.m)
}
