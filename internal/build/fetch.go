package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/temper-dev/temper/internal/closure"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/spec"
)

// fetchDebs fetches every .deb the lock pins for the definition's
// architectures, each once, and returns their (fast) contents by SHA-256
// (fetchFast).
func fetchDebs(ctx context.Context, def *spec.Definition, l *spec.Lock, f *pool.Fetcher) (map[string][]byte, pool.Stats, error) {
	var items, local []pool.Item
	seen := map[string]bool{}
	for _, arch := range def.Architectures {
		for _, p := range l.Architectures[arch].Packages {
			if seen[p.SHA256] {
				continue
			}
			seen[p.SHA256] = true
			it := pool.Item{Name: p.Name, Version: p.Version, Suite: p.Suite, Filename: p.Filename, SHA256: p.SHA256, Size: p.Size}
			if p.Repository == spec.LocalRepository {
				// One of the definition's local_debs: read from the
				// catalog directory, refused if it is not the .deb the
				// lock pins.
				local = append(local, it)
				continue
			}
			if p.Repository != "" {
				// A designated repository's .deb: below the repository's
				// URL, as the lock recorded it (spec.Lock.Validate checks
				// the name is one of the lock's repositories).
				it.Base = l.RepositoryURL(p.Repository)
			}
			items = append(items, it)
		}
	}
	debs, st, err := fetchFast(ctx, f, items, local, def.ReadLocalDeb)
	if err != nil {
		return nil, st, err
	}
	// The lock is checked before it is trusted (internal/closure).
	for _, arch := range def.Architectures {
		if err := closure.Check(l, arch, debs, def.NoDependencies); err != nil {
			return nil, st, err
		}
	}
	return debs, st, nil
}

// fetchFast returns the fast contents (see fastCopies) of items and local
// by SHA-256. An item whose copy the cache holds is served from the copy
// alone: its .deb is neither read nor downloaded (a warm build read both,
// and used only the copy). The others are fetched (f.Fetch) and
// transcoded as before, and so is an item whose copy is missing or fails
// its verification, which also makes the copy again. local (local_debs)
// are always read, by readLocal, which refuses bytes that are not the
// lock's. Copies served count as cache hits in the stats.
func fetchFast(ctx context.Context, f *pool.Fetcher, items, local []pool.Item, readLocal func(src, sha string) ([]byte, error)) (map[string][]byte, pool.Stats, error) {
	start := time.Now()
	copies, err := cachedCopies(ctx, f.Cache, items)
	if err != nil {
		return nil, pool.Stats{Elapsed: time.Since(start)}, err
	}
	var rest []pool.Item
	for i, it := range items {
		if copies[i] == nil {
			rest = append(rest, it)
		}
	}
	data, st, err := f.Fetch(ctx, rest)
	st.Cached += len(items) - len(rest)
	st.Elapsed = time.Since(start)
	if err != nil {
		return nil, st, err
	}
	for _, it := range local {
		b, err := readLocal(it.Filename, it.SHA256)
		if err != nil {
			return nil, st, err
		}
		rest, data = append(rest, it), append(data, b)
	}
	if data, err = fastCopies(ctx, f.Cache, rest, data); err != nil {
		return nil, st, err
	}
	debs := make(map[string][]byte, len(items)+len(local))
	for i, it := range items {
		if copies[i] != nil {
			debs[it.SHA256] = copies[i]
		}
	}
	for i, it := range rest {
		debs[it.SHA256] = data[i]
	}
	return debs, st, nil
}

// copyRef names the ref from a .deb's SHA-256 to its fast copy's, and
// sizeRef the ref holding the .deb's size (decimal), written once its
// verified bytes were seen: a copy served without the .deb still has the
// lock's size checked against the .deb's.
func copyRef(sha string) string { return "deb-zst " + sha }
func sizeRef(sha string) string { return "deb-size " + sha }

// cachedCopies returns, in item order, the fast copy of each item that the
// cache holds with the .deb's size (nil for the others, which are to be
// fetched). An item whose size the per-.deb limit refuses is left to the
// fetch, which reports it; one whose lock size differs from its .deb's is
// an error (all such are reported).
func cachedCopies(ctx context.Context, c *cache.Cache, items []pool.Item) ([][]byte, error) {
	out := make([][]byte, len(items))
	errs := make([]error, len(items))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, it := range items {
		g.Go(func() error {
			if ctx.Err() == nil {
				out[i], errs[i] = cachedCopy(c, it)
			}
			return nil
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, errors.Join(errs...)
}

// cachedCopy returns the item's fast copy from the cache, verified, or nil when
// there is none to use: no copy, a copy that fails verification (the cache
// removes it), or no record of the .deb's size.
func cachedCopy(c *cache.Cache, it pool.Item) ([]byte, error) {
	if pool.CheckSize(it) != nil {
		return nil, nil
	}
	raw, err := c.GetRef(sizeRef(it.SHA256))
	if err != nil {
		return nil, nil
	}
	size, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return nil, nil
	}
	if size != it.Size {
		// The size was the .deb's with the lock's SHA-256 (as in pool's
		// fetch), so the lock's size is what is wrong.
		return nil, fmt.Errorf("%s %s: the lock says size %d, but the .deb with its sha256 %s is %d bytes: the lock was edited by hand; run `temper lock` to rewrite it", it.Name, it.Version, it.Size, it.SHA256, size)
	}
	sum, err := c.GetRef(copyRef(it.SHA256))
	if err != nil {
		return nil, nil
	}
	fast, err := c.Read(string(sum))
	if err != nil {
		return nil, nil
	}
	return fast, nil
}

// fastCopies swaps each verified .deb for its zstd-transcoded copy
// (deb.Transcode), from the cache when an earlier build made it. The copy
// unpacks to exactly the same files; it only spares warm builds the xz
// decoding that dominates them. A ref maps the .deb's digest to the copy's,
// and the copy itself is content-addressed and verified on read like
// everything in the cache. Every failure is reported, not just the first.
func fastCopies(ctx context.Context, c *cache.Cache, items []pool.Item, data [][]byte) ([][]byte, error) {
	out := make([][]byte, len(data))
	errs := make([]error, len(data))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range data {
		g.Go(func() error {
			out[i], errs[i] = fastCopy(ctx, c, items[i], data[i])
			return nil
		})
	}
	g.Wait()
	return out, errors.Join(errs...)
}

func fastCopy(ctx context.Context, c *cache.Cache, it pool.Item, data []byte) ([]byte, error) {
	// data is the verified .deb: its size is recorded for cachedCopy.
	// (A failure to record it only costs the next build time.)
	size := []byte(strconv.Itoa(len(data)))
	if old, err := c.GetRef(sizeRef(it.SHA256)); err != nil || !bytes.Equal(old, size) {
		c.PutRef(sizeRef(it.SHA256), size)
	}
	ref := copyRef(it.SHA256)
	if sum, err := c.GetRef(ref); err == nil {
		if fast, err := c.Read(string(sum)); err == nil {
			return fast, nil
		}
	}
	fast, err := deb.Transcode(ctx, path.Base(it.Filename), data)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", it.Name, it.Version, err)
	}
	h := sha256.Sum256(fast)
	sum := hex.EncodeToString(h[:])
	// A failure to cache the copy only costs the next build time.
	if c.WriteBytes(sum, fast) == nil {
		c.PutRef(ref, []byte(sum))
	}
	return fast, nil
}
