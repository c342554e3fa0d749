// Package pool downloads the .deb files a lock names from the archive's
// pool into the content-addressed cache, in parallel and bounded, each
// verified against the lock's SHA-256 before anything uses it. A file
// whose digest does not match is never cached and fails the fetch with the
// package and its URL.
package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/limits"
)

// Item is one .deb to fetch.
type Item struct {
	Name, Version, Suite string
	Filename             string // pool path below the archive root
	SHA256               string
	Size                 int64
	// Base is the base URL of the designated repository the .deb comes
	// from (the lock's repository URL), Filename being below it; "" for
	// Debian's archive, whose base the Fetcher's Mirrors give by suite.
	Base string
}

// Fetcher fetches .debs.
type Fetcher struct {
	Mirrors archive.Mirrors
	Cache   *cache.Cache
	HTTP    *fetch.Client
	// Parallel bounds concurrent downloads (default 4).
	Parallel int
	// Progress receives progress output; nil for none.
	Progress io.Writer
	// Terminal draws a single updating progress line instead of one line
	// per download.
	Terminal bool
	// Offline serves only what the cache holds: a .deb that is not cached
	// is an error, and nothing is downloaded.
	Offline bool
}

// Stats says what a fetch did.
type Stats struct {
	Downloaded, Cached int
	Bytes              int64 // downloaded bytes
	Elapsed            time.Duration
}

// URL is where an item is downloaded from: a designated repository's .deb
// below the repository's base URL; of Debian's, -security suites live in
// the security archive, every other suite in the main archive.
func (f *Fetcher) URL(it Item) string {
	base := f.Mirrors.Archive
	switch {
	case it.Base != "":
		base = it.Base
	case strings.HasSuffix(it.Suite, "-security"):
		base = f.Mirrors.Security
	}
	return strings.TrimRight(base, "/") + "/" + it.Filename
}

// Fetch returns the verified bytes of every item, in order, from the cache
// or the archive. The first failure stops the fetches not yet started and
// is the error returned (the first in item order when several fail), not
// the cancellations it caused.
func (f *Fetcher) Fetch(ctx context.Context, items []Item) ([][]byte, Stats, error) {
	start := time.Now()
	par := f.Parallel
	if par <= 0 {
		par = 4
	}
	out := make([][]byte, len(items))
	errs := make([]error, len(items))
	var downloaded, cached, bytes atomic.Int64
	var total int64
	for _, it := range items {
		total += it.Size
	}
	prog := &progress{w: f.Progress, terminal: f.Terminal, total: len(items), totalBytes: total}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(par)
	for i, it := range items {
		g.Go(func() error {
			data, fromCache, err := f.fetchOne(ctx, it)
			if err != nil {
				errs[i] = err
				return err // cancels the others
			}
			out[i] = data
			if fromCache {
				cached.Add(1)
			} else {
				downloaded.Add(1)
				bytes.Add(int64(len(data)))
			}
			prog.done(it, !fromCache)
			return nil
		})
	}
	_ = g.Wait() // errs says which failed, in item order
	prog.finish()
	st := Stats{Downloaded: int(downloaded.Load()), Cached: int(cached.Load()), Bytes: bytes.Load(), Elapsed: time.Since(start)}
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, st, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, st, err
		}
	}
	return out, st, nil
}

// fetchOne reads one item from the cache, or downloads it unless offline.
func (f *Fetcher) fetchOne(ctx context.Context, it Item) (data []byte, fromCache bool, err error) {
	if ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	if err := CheckSize(it); err != nil {
		return nil, false, err
	}
	data, err = f.Cache.Read(it.SHA256)
	if err == nil {
		if int64(len(data)) != it.Size {
			// The bytes are the lock's (their SHA-256 matched), so the
			// lock's size is what is wrong: a hand edit.
			return nil, true, fmt.Errorf("%s %s: the lock says size %d, but the .deb with its sha256 %s is %d bytes: the lock was edited by hand; run `temper lock` to rewrite it", it.Name, it.Version, it.Size, it.SHA256, len(data))
		}
		return data, true, nil
	}
	if !errors.Is(err, cache.ErrNotFound) {
		return nil, false, err
	}
	if f.Offline {
		return nil, false, fmt.Errorf("%s %s (sha256 %s): not in the cache for offline use; run once with network access", it.Name, it.Version, it.SHA256)
	}
	data, err = f.download(ctx, it)
	return data, false, err
}

func (f *Fetcher) download(ctx context.Context, it Item) ([]byte, error) {
	url := f.URL(it)
	var buf writerBuf
	err := f.HTTP.Get(ctx, url, func() (io.Writer, error) {
		buf.b = buf.b[:0]
		// The lock's size is only a hint for the first allocation: the
		// buffer grows with the bytes that arrive.
		if first := min(it.Size, 16<<20); cap(buf.b) < int(first) {
			buf.b = make([]byte, 0, first)
		}
		buf.max = it.Size
		return &buf, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", it.Name, it.Version, err)
	}
	// The cache refuses bytes whose SHA-256 differs from the lock's; nothing
	// is left behind.
	if int64(len(buf.b)) != it.Size {
		return nil, fmt.Errorf("%s %s from %s: %d bytes, but the lock says size %d (the lock was edited by hand, or the mirror serves something else)", it.Name, it.Version, url, len(buf.b), it.Size)
	}
	if err := f.Cache.WriteBytes(it.SHA256, buf.b); err != nil {
		return nil, fmt.Errorf("%s %s from %s: %w (the lock pins sha256 %s; the mirror serves something else: refresh the lock with `temper lock` if the archive changed, or use another mirror)", it.Name, it.Version, url, err, it.SHA256)
	}
	return buf.b, nil
}

// CheckSize refuses an item whose size the per-.deb limit does not allow,
// before anything is read or allocated. Fetch checks every item; a caller
// that serves an item some other way (internal/build's fast copies) checks
// it too.
func CheckSize(it Item) error {
	l := limits.Get()
	if it.Size <= 0 {
		return fmt.Errorf("%s %s: the lock's size %d is not a size: the lock was edited by hand; run `temper lock` to rewrite it", it.Name, it.Version, it.Size)
	}
	if it.Size > l.Deb {
		return &limits.Error{What: it.Name + " " + it.Version, Where: it.Filename,
			Limit: fmt.Sprintf("the per-.deb limit of %s (TEMPER_LIMIT_DEB): the lock says %d bytes", limits.Human(l.Deb), it.Size)}
	}
	return nil
}

// writerBuf collects a download, refusing more than the lock's size.
type writerBuf struct {
	b   []byte
	max int64
}

func (w *writerBuf) Write(p []byte) (int, error) {
	if w.max > 0 && int64(len(w.b)+len(p)) > w.max {
		return 0, fmt.Errorf("more bytes than the lock's size %d (the lock was edited by hand, or the mirror serves something else)", w.max)
	}
	w.b = append(w.b, p...)
	return len(p), nil
}

// progress reports fetches: one updating line on a terminal, plain lines
// otherwise (only for downloads: cache hits are silent there).
type progress struct {
	w                 io.Writer
	terminal          bool
	mu                sync.Mutex
	total, n          int
	totalBytes, bytes int64
	drew              bool
}

func (p *progress) done(it Item, downloaded bool) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.bytes += it.Size
	if !p.terminal {
		if downloaded {
			fmt.Fprintf(p.w, "fetched %s %s (%s)\n", it.Name, it.Version, human(it.Size))
		}
		return
	}
	width := 30
	filled := 0
	if p.totalBytes > 0 {
		filled = int(int64(width) * p.bytes / p.totalBytes)
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d .debs %s/%s", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.n, p.total, human(p.bytes), human(p.totalBytes))
	p.drew = true
}

func (p *progress) finish() {
	if p.w != nil && p.terminal && p.drew {
		fmt.Fprintln(p.w)
	}
}

func human(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
