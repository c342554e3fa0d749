package cache

import (
	"io/fs"
	"sync/atomic"

	"github.com/temper-dev/temper/internal/fileid"
)

// verified remembers the content entries this process has read and found
// to match their SHA-256, by file identity (internal/fileid): reading the
// same file again in this process (a catalog build reads each shared .deb
// once per image) skips the hash. Any write to the file, or a file renamed
// over it, changes its identity, and then it is hashed again; a new
// process hashes every entry on its first read.
type verifiedFiles struct {
	memo   *fileid.Memo[struct{}]
	hashed atomic.Int64 // reads that hashed (tests)
}

// maxVerified bounds the files remembered; past it the memory starts
// over (a catalog reads a few thousand entries).
const maxVerified = 1 << 16

var verified = newVerified(maxVerified)

func newVerified(max int) *verifiedFiles {
	return &verifiedFiles{memo: fileid.NewMemo[struct{}](max)}
}

// has reports whether path was verified with identity fi, and before is
// the same identity (the file did not change while it was read).
func (v *verifiedFiles) has(path string, before, fi fs.FileInfo) bool {
	return fileid.Same(before, fi) && v.memo.Has(path, fi, struct{}{})
}

// add remembers path as verified, if it did not change while it was read
// (before and after have one identity).
func (v *verifiedFiles) add(path string, before, after fs.FileInfo) {
	if fileid.Same(before, after) {
		v.memo.Add(path, after, struct{}{})
	}
}

func (v *verifiedFiles) forget(path string) { v.memo.Forget(path) }
