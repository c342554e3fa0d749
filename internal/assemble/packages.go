package assemble

import (
	"context"
	"sync"

	"github.com/temper-dev/temper/internal/limits"
	"github.com/temper-dev/temper/internal/lru"
)

// Packages keeps .debs read into memory (control files and every data.tar
// entry) for the builds of one catalog, so that a package several images
// hold (libc6, libssl, perl, tzdata, ...) is decompressed and unpacked
// once instead of once per image. What it keeps is the package as shipped:
// hardening, pruning and every other step of Assemble work on the image's
// own tree, which shares the entries' contents but never changes them.
//
// Entries are keyed by the .deb's SHA-256 as the lock pins it (Deb.Package.SHA256,
// whose bytes the caller verified: Deb.Data), its name, version,
// architecture and size, and the unpacking limits in force; a Deb without a
// SHA-256 is read and not kept. The total size kept (unpacked contents and
// a small cost per entry) is bounded: packages read once are dropped first,
// least recently used first, then packages read again (a segmented LRU:
// a catalog's shared packages stay while the packages of one image pass
// through). Concurrent reads of one package wait for the first. It is safe
// for concurrent use.
type Packages struct {
	max int64

	mu        sync.Mutex
	m         map[pkgKey]*pkgSlot            // being read, or kept
	kept      *lru.Cache[*pkgSlot, struct{}] // segmented: read once, read again
	hits      int64
	reads     int64
	hitBytes  int64
	readBytes int64
}

type pkgKey struct {
	sha256, name, version, arch string
	size                        int
	limits                      limits.Limits
}

type pkgSlot struct {
	key  pkgKey
	done chan struct{} // closed once p or err is set
	p    *pkg
	err  error
}

// NewPackages returns an empty memo that keeps at most max bytes.
func NewPackages(max int64) *Packages {
	c := &Packages{max: max, m: map[pkgKey]*pkgSlot{}}
	// A package dropped to make room is read again by its next reader.
	// Called with c.mu held (keep).
	c.kept = lru.NewSegmented(max, func(s *pkgSlot, _ struct{}) { delete(c.m, s.key) })
	return c
}

// PackageStats counts what a Packages memo did.
type PackageStats struct {
	Hits, Reads         int64 // packages served from memory, read from their .deb
	HitBytes, ReadBytes int64 // their unpacked sizes
	Kept                int   // packages kept now
	Bytes               int64 // their size
}

// Stats says how many packages were served and read, and what is kept.
func (c *Packages) Stats() PackageStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return PackageStats{Hits: c.hits, Reads: c.reads, HitBytes: c.hitBytes, ReadBytes: c.readBytes,
		Kept: c.kept.Len(), Bytes: c.kept.Size()}
}

func keyOf(d Deb) (pkgKey, bool) {
	lp := d.Package
	if lp.SHA256 == "" {
		return pkgKey{}, false
	}
	return pkgKey{sha256: lp.SHA256, name: lp.Name, version: lp.Version, arch: lp.Architecture, size: len(d.Data), limits: limits.Get()}, true
}

// read returns the package d unpacked: from memory, or read by readDeb
// (with the caller's image budget charged per entry) and kept. A package
// served from memory charges its unpacked size to budget at once.
func (c *Packages) read(ctx context.Context, d Deb, budget *imageBudget) (*pkg, error) {
	k, ok := keyOf(d)
	if c == nil || !ok {
		return readDeb(ctx, d, budget)
	}
	c.mu.Lock()
	if s, ok := c.m[k]; ok {
		c.mu.Unlock()
		select {
		case <-s.done:
		case <-ctx.Done():
			return nil, canceled(ctx)
		}
		if s.err != nil {
			// The first reader failed (its image's budget, a canceled
			// build): this one reads for itself.
			return readDeb(ctx, d, budget)
		}
		c.mu.Lock()
		c.kept.Get(s) // read again: protected, if still kept
		c.hits++
		c.hitBytes += s.p.unpacked
		c.mu.Unlock()
		if err := budget.take(s.p.unpacked, s.p.id, s.p.member, "its files"); err != nil {
			return nil, err
		}
		return s.p, nil
	}
	s := &pkgSlot{key: k, done: make(chan struct{})}
	c.m[k] = s
	c.reads++
	c.mu.Unlock()

	s.p, s.err = readDeb(ctx, d, budget)
	c.mu.Lock()
	if s.err != nil {
		delete(c.m, k)
	} else {
		c.readBytes += s.p.unpacked
		c.keep(s)
	}
	c.mu.Unlock()
	close(s.done)
	return s.p, s.err
}

// keep adds a read package, dropping others past the bound; a package
// larger than the bound is not kept. c.mu is held.
func (c *Packages) keep(s *pkgSlot) {
	if !c.kept.Add(s, struct{}{}, s.p.memSize()) {
		delete(c.m, s.key)
	}
}

// memSize is what a package read into memory holds: its files' contents,
// its control files and each entry (rootfs.Entry.MemSize).
func (p *pkg) memSize() int64 {
	n := int64(256)
	for _, e := range p.entries {
		n += e.MemSize()
	}
	for name, b := range p.control {
		n += int64(len(name)+len(b)) + 64
	}
	return n
}
