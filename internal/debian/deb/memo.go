package deb

import (
	"crypto/sha256"

	"github.com/temper-dev/temper/internal/limits"
	"github.com/temper-dev/temper/internal/lru"
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
	max  int64
	kept *lru.Cache[controlKey, map[string][]byte]
}

type controlKey struct {
	sum    [sha256.Size]byte
	comp   string
	xzDict int64
}

// controlMemoMax bounds the control files kept: Debian's largest
// control.tar files are a few MiB (md5sums, symbols); a catalog's are a
// few hundred KiB each at most.
const controlMemoMax = 64 << 20

var controls = newControlMemo(controlMemoMax)

func newControlMemo(max int64) *controlMemo {
	return &controlMemo{max: max, kept: lru.New[controlKey, map[string][]byte](max, nil)}
}

func keyOf(m member) controlKey {
	return controlKey{sum: sha256.Sum256(m.body), comp: m.comp, xzDict: limits.Get().XZDict}
}

// get returns a copy of the kept files for k (a new map; the contents are
// shared and capped, so that an append copies them).
func (c *controlMemo) get(k controlKey) (map[string][]byte, bool) {
	files, ok := c.kept.Get(k)
	if !ok {
		return nil, false
	}
	return copyFiles(files), true
}

// put keeps a copy of files under k (the kept map is never changed),
// dropping the least recently used entries past the bound. A set of files
// larger than the bound is not kept; files kept under k already stay.
func (c *controlMemo) put(k controlKey, files map[string][]byte) {
	var size int64
	for name, b := range files {
		size += int64(len(name) + len(b))
	}
	if size > c.max {
		return
	}
	c.kept.Add(k, copyFiles(files), size)
}

func (c *controlMemo) stats() (n int, used int64) {
	return c.kept.Len(), c.kept.Size()
}

func copyFiles(files map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(files))
	for name, b := range files {
		out[name] = b[:len(b):len(b)]
	}
	return out
}
