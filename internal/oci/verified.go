package oci

import (
	"io/fs"
	"os"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/fileid"
)

// verifiedBlobs remembers the layer-cache files this process wrote (from
// the bytes their digest was computed from) or hashed, with their digest
// and their identity then (internal/fileid): WriteLayout links such a file
// without hashing it again while its identity is unchanged. Any write to
// the file, or another file renamed over it, changes its identity, and it
// is hashed again; a new process hashes every cached layer it links once.
// Bounded: past maxVerifiedBlobs files the memory starts over.
var verifiedBlobs = fileid.NewMemo[v1.Hash](maxVerifiedBlobs)

const maxVerifiedBlobs = 1 << 16

// linkHashes counts the cached layers link hashed (tests).
var linkHashes atomic.Int64

// sameFile reports whether a and b are one inode (a hard link of it).
func sameFile(a, b fs.FileInfo) bool { return os.SameFile(a, b) }

// sameContent reports whether a and b are the same file with the same
// size and modification time (its change time may differ: a link or a
// rename of it).
func sameContent(a, b fs.FileInfo) bool {
	ia, ok := fileid.Of(a)
	if !ok {
		return false
	}
	ib, ok := fileid.Of(b)
	ia.Ctime, ib.Ctime = 0, 0
	return ok && ia == ib
}
