package deb

import (
	"container/list"
	"crypto/sha256"
	"sync"

	"github.com/temper-dev/temper/internal/limits"
)

// controlMemo keeps the files of the control members this process read,
// so that a .deb whose control.tar is read again (the lock's closure check
// and the assembly of every image that holds the package, in one catalog
// build) is decompressed once: an xz control member costs a dictionary
// allocation and clear on every read. Entries are keyed by the SHA-256 of
// the compressed member and its compression (and the xz dictionary limit
// in force), so a different member is never served another's files; only
// successful reads are kept; the total size of the kept files is bounded
// (least recently used first out).
type controlMemo struct {
	mu    sync.Mutex
	max   int64
	used  int64
	m     map[controlKey]*list.Element
	order *list.List // front: most recently used; values *controlEntry
}

type controlKey struct {
	sum    [sha256.Size]byte
	comp   string
	xzDict int64
}

type controlEntry struct {
	key   controlKey
	files map[string][]byte
	size  int64
}

// controlMemoMax bounds the control files kept: Debian's largest
// control.tar files are a few MiB (md5sums, symbols); a catalog's are a
// few hundred KiB each at most.
const controlMemoMax = 64 << 20

var controls = newControlMemo(controlMemoMax)

func newControlMemo(max int64) *controlMemo {
	return &controlMemo{max: max, m: map[controlKey]*list.Element{}, order: list.New()}
}

func keyOf(m member) controlKey {
	return controlKey{sum: sha256.Sum256(m.body), comp: m.comp, xzDict: limits.Get().XZDict}
}

// get returns a copy of the kept files for k (a new map; the contents are
// shared and capped, so that an append copies them).
func (c *controlMemo) get(k controlKey) (map[string][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return copyFiles(el.Value.(*controlEntry).files), true
}

// put keeps files under k, dropping the least recently used entries past
// the bound. A set of files larger than the bound is not kept.
func (c *controlMemo) put(k controlKey, files map[string][]byte) {
	var size int64
	for name, b := range files {
		size += int64(len(name) + len(b))
	}
	if size > c.max {
		return
	}
	kept := copyFiles(files)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return
	}
	for c.used+size > c.max {
		last := c.order.Back()
		e := last.Value.(*controlEntry)
		c.order.Remove(last)
		delete(c.m, e.key)
		c.used -= e.size
	}
	c.m[k] = c.order.PushFront(&controlEntry{key: k, files: kept, size: size})
	c.used += size
}

func (c *controlMemo) stats() (n int, used int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m), c.used
}

func copyFiles(files map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(files))
	for name, b := range files {
		out[name] = b[:len(b):len(b)]
	}
	return out
}
