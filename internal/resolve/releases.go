package resolve

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/temper-dev/temper/internal/debian/archive"
)

// Releases hands out resolvable releases: the Universe of one Debian
// release (its suites, for the given archive components; the client's
// components when none) and one architecture. temper lock and temper check
// resolve definitions against it; LoadOnce is the implementation both use,
// and ReleasesFunc lets a test hand out fixed universes.
type Releases interface {
	Universe(ctx context.Context, release string, components []string, arch string) (*Universe, error)
}

// Loader loads a release's indices; *archive.Client is one.
type Loader interface {
	LoadReleaseComponents(ctx context.Context, name, arch string, components []string) (*archive.Release, error)
}

var (
	_ Releases = (*Loaded)(nil)
	_ Releases = ReleasesFunc(nil)
	_ Loader   = (*archive.Client)(nil)
)

// Loaded is a Releases that loads and indexes each release, components
// and architecture at most once, however many definitions ask for it and
// however many ask at the same time: a catalog of eighty images over two
// releases and two architectures reads four sets of indices. Concurrent
// callers of one key wait for the same load and all get its result, an
// error included (a failed load is not retried: the same run would fail
// the same way). The load runs with the context of the caller that
// started it. It holds every universe it loaded until it is dropped, so
// make one per run, not one per process.
type Loaded struct {
	load  Loader
	mu    sync.Mutex
	calls map[releaseKey]*loadCall
	repos map[repoKey]*repoCall
}

type releaseKey struct{ release, components, arch string }

type loadCall struct {
	once sync.Once
	u    *Universe
	err  error
}

// LoadOnce returns a Releases that loads through l, once per release,
// components and architecture.
func LoadOnce(l Loader) *Loaded {
	return &Loaded{load: l, calls: map[releaseKey]*loadCall{}}
}

// Universe returns the release's universe for arch, loading it on first use.
func (r *Loaded) Universe(ctx context.Context, release string, components []string, arch string) (*Universe, error) {
	k := releaseKey{release, strings.Join(components, ","), arch}
	r.mu.Lock()
	c, ok := r.calls[k]
	if !ok {
		c = &loadCall{}
		r.calls[k] = c
	}
	r.mu.Unlock()
	c.once.Do(func() {
		rel, err := r.load.LoadReleaseComponents(ctx, release, arch, components)
		if err != nil {
			c.err = err
			return
		}
		c.u = NewUniverse(rel)
	})
	return c.u, c.err
}

// ReleasesFunc adapts a function to Releases, for tests that serve
// universes they built themselves.
type ReleasesFunc func(ctx context.Context, release string, components []string, arch string) (*Universe, error)

// Universe calls f.
func (f ReleasesFunc) Universe(ctx context.Context, release string, components []string, arch string) (*Universe, error) {
	return f(ctx, release, components, arch)
}

// RepositoryLoader loads a designated repository's packages for one
// architecture; *archive.Client is one.
type RepositoryLoader interface {
	LoadRepository(ctx context.Context, r archive.Repository, arch string) (*archive.RepoIndex, error)
}

// Repositories hands out designated repositories, as Releases hands out
// Debian's releases. Loaded implements it when its loader does.
type Repositories interface {
	Repository(ctx context.Context, r archive.Repository, arch string) (*archive.RepoIndex, error)
}

var (
	_ Repositories     = (*Loaded)(nil)
	_ RepositoryLoader = (*archive.Client)(nil)
)

type repoKey struct{ url, suite, components, arch, name, keys string }

// Repository loads a repository suite once per run (per URL, suite,
// components, architecture and key), like Universe.
func (r *Loaded) Repository(ctx context.Context, repo archive.Repository, arch string) (*archive.RepoIndex, error) {
	rl, ok := r.load.(RepositoryLoader)
	if !ok {
		return nil, fmt.Errorf("repository %s: this run cannot load designated repositories", repo)
	}
	var keys []string
	if repo.Keyring != nil {
		for _, e := range repo.Keyring.Entities() {
			keys = append(keys, archive.Fingerprint(e.PrimaryKey.Fingerprint))
		}
	}
	k := repoKey{repo.URL, repo.Suite, strings.Join(repo.Components, ","), arch, repo.Name, strings.Join(keys, ",")}
	r.mu.Lock()
	if r.repos == nil {
		r.repos = map[repoKey]*repoCall{}
	}
	c, ok := r.repos[k]
	if !ok {
		c = &repoCall{}
		r.repos[k] = c
	}
	r.mu.Unlock()
	c.once.Do(func() { c.x, c.err = rl.LoadRepository(ctx, repo, arch) })
	return c.x, c.err
}

type repoCall struct {
	once sync.Once
	x    *archive.RepoIndex
	err  error
}
