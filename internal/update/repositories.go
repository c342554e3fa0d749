package update

import (
	"context"
	"maps"
	"strings"

	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/spec"
)

// repoStateKey names a designated repository suite in an archiveState.
func repoStateKey(name, suite string) string { return "repository " + name + " " + suite }

// withRepositories adds the definition's designated repositories to the
// archive state: each repository suite's InRelease, fetched and verified
// with the repository's own pinned key (one request per suite, nothing
// else), so that the fast path sees a new version published there exactly
// as it sees one in Debian's suites.
func (c *checker) withRepositories(ctx context.Context, def *spec.Definition, st archiveState) (archiveState, error) {
	repos, err := lock.LoadRepositories(def)
	if err != nil || repos == nil {
		return st, err
	}
	out := archiveState{suites: st.suites, digest: maps.Clone(st.digest)}
	var key strings.Builder
	key.WriteString(st.key)
	for _, r := range repos.Suites {
		s, err := c.opt.Client.RepositoryStatus(ctx, r)
		if err != nil {
			return st, err
		}
		k := repoStateKey(r.Name, r.Suite)
		out.digest[k] = s.InReleaseSHA256
		out.repos++
		key.WriteString(" " + r.Name + "/" + r.Suite + "=" + s.InReleaseSHA256)
	}
	out.key = key.String()
	return out, nil
}

// sameRepositories reports whether every repository suite the lock
// recorded is unchanged (and no suite was added or removed).
func sameRepositories(old *spec.Lock, st archiveState) bool {
	if len(old.Repositories) != st.repos {
		return false
	}
	for _, r := range old.Repositories {
		if st.digest[repoStateKey(r.Name, r.Suite)] != r.InReleaseSHA256 {
			return false
		}
	}
	return true
}

// noteRepositoryDebs remembers where the .debs of a lock's repository
// packages are downloaded from (the repository's URL), by digest.
func (c *checker) noteRepositoryDebs(l *spec.Lock) {
	if l == nil || len(l.Repositories) == 0 {
		return
	}
	urls := map[string]string{}
	for _, r := range l.Repositories {
		urls[r.Name] = r.URL
	}
	for _, a := range l.Architectures {
		for _, p := range a.Packages {
			if p.Repository != "" {
				c.repoBases.Store(p.SHA256, urls[p.Repository])
			}
		}
	}
}
