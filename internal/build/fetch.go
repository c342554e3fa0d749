package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/temper-dev/temper/internal/closure"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/spec"
)

// fetchDebs fetches every .deb the lock pins for the definition's
// architectures, each once, and returns their (fast) contents by SHA-256.
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
	data, st, err := f.Fetch(ctx, items)
	if err != nil {
		return nil, st, err
	}
	for _, it := range local {
		b, err := def.ReadLocalDeb(it.Filename, it.SHA256)
		if err != nil {
			return nil, st, err
		}
		items, data = append(items, it), append(data, b)
	}
	if data, err = fastCopies(ctx, f.Cache, items, data); err != nil {
		return nil, st, err
	}
	debs := make(map[string][]byte, len(items))
	for i, it := range items {
		debs[it.SHA256] = data[i]
	}
	// The lock is checked before it is trusted (internal/closure).
	for _, arch := range def.Architectures {
		if err := closure.Check(l, arch, debs, def.NoDependencies); err != nil {
			return nil, st, err
		}
	}
	return debs, st, nil
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
	ref := "deb-zst " + it.SHA256
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
