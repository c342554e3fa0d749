package cache

import (
	"io/fs"
	"sync"
	"sync/atomic"
)

// verified remembers the content entries this process has read and found
// to match their SHA-256, by file identity (device, inode, size,
// modification and change times): reading the same file again in this
// process (a catalog build reads each shared .deb once per image) skips
// the hash. Any write to the file, or a file renamed over it, changes its
// identity, and then it is hashed again; a new process hashes every entry
// on its first read.
type verifiedFiles struct {
	mu     sync.Mutex
	m      map[string]fileID
	max    int
	hashed atomic.Int64 // reads that hashed (tests)
}

// maxVerified bounds the files remembered; past it the memory starts
// over (a catalog reads a few thousand entries).
const maxVerified = 1 << 16

var verified = newVerified(maxVerified)

func newVerified(max int) *verifiedFiles {
	return &verifiedFiles{m: map[string]fileID{}, max: max}
}

// fileID is a file's identity; ok is false where the system does not say.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // ns
}

// has reports whether path was verified with identity fi, and before is
// the same identity (the file did not change while it was read).
func (v *verifiedFiles) has(path string, before, fi fs.FileInfo) bool {
	id, ok := identity(fi)
	if !ok {
		return false
	}
	if id0, ok := identity(before); !ok || id0 != id {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	got, ok := v.m[path]
	return ok && got == id
}

func (v *verifiedFiles) add(path string, fi fs.FileInfo) {
	id, ok := identity(fi)
	if !ok {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= v.max {
		clear(v.m)
	}
	v.m[path] = id
}

func (v *verifiedFiles) forget(path string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, path)
}
