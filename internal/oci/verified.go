package oci

import (
	"io/fs"
	"os"
	"sync"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// verifiedBlobs remembers the layer-cache files this process wrote (from
// the bytes their digest was computed from) or hashed, with their identity
// then (device, inode, size, modification and change times): WriteLayout
// links such a file without hashing it again while its identity is
// unchanged. Any write to the file, or another file renamed over it,
// changes its identity, and it is hashed again; a new process hashes every
// cached layer it links once. Bounded: past maxVerifiedBlobs files the
// memory starts over.
var verifiedBlobs = &blobMemo{m: map[string]blobCheck{}, max: maxVerifiedBlobs}

const maxVerifiedBlobs = 1 << 16

// linkHashes counts the cached layers link hashed (tests).
var linkHashes atomic.Int64

type blobMemo struct {
	mu  sync.Mutex
	m   map[string]blobCheck
	max int
}

type blobCheck struct {
	id     fileID
	digest v1.Hash
}

// fileID is a file's identity, where the system says it.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // ns
}

func (b *blobMemo) has(path string, fi fs.FileInfo, h v1.Hash) bool {
	id, ok := identity(fi)
	if !ok {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.m[path]
	return ok && c.id == id && c.digest == h
}

func (b *blobMemo) add(path string, fi fs.FileInfo, h v1.Hash) {
	id, ok := identity(fi)
	if !ok {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.m) >= b.max {
		clear(b.m)
	}
	b.m[path] = blobCheck{id: id, digest: h}
}

// sameFile reports whether a and b are one inode (a hard link of it).
func sameFile(a, b fs.FileInfo) bool { return os.SameFile(a, b) }

// sameContent reports whether a and b are the same file with the same
// size and modification time (its change time may differ: a link or a
// rename of it).
func sameContent(a, b fs.FileInfo) bool {
	ia, ok := identity(a)
	if !ok {
		return false
	}
	ib, ok := identity(b)
	ia.ctime, ib.ctime = 0, 0
	return ok && ia == ib
}
