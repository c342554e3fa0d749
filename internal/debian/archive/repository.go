package archive

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/temper-dev/temper/internal/debian/index"
	"github.com/temper-dev/temper/internal/debian/release"
	"github.com/temper-dev/temper/internal/debian/version"
)

// Repository is one suite of a designated repository beside Debian's: a
// third-party or in-house apt repository with its own signing key. A
// repository with several suites is several Repository values.
type Repository struct {
	// Name is the repository's name in the definition (php, pgdg, ...).
	Name string
	// URL is the repository's base URL (apt's URI), without trailing slash.
	URL string
	// Suite is the suite (dists/<Suite>), or for a flat repository the
	// directory below URL ending in "/" ("./", "bookworm/").
	Suite string
	// Components to read; ignored for a flat repository, [main] when empty.
	Components []string
	// Keyring holds the repository's one pinned key (LoadPinnedKey): its
	// InRelease must verify with it and with nothing else.
	Keyring *release.Keyring
}

// Flat reports whether the suite names a flat repository's directory.
func (r Repository) Flat() bool { return strings.HasSuffix(r.Suite, "/") }

// Ref is the suite reference of the repository.
func (r Repository) Ref() SuiteRef {
	return SuiteRef{Name: r.Suite, Base: trimSlash(r.URL), Flat: r.Flat(), Keyring: r.Keyring, Repository: r.Name}
}

// String names the repository for messages: "php (http://host/php bookworm main)".
func (r Repository) String() string {
	if r.Flat() {
		return fmt.Sprintf("%s (%s %s)", r.Name, trimSlash(r.URL), r.Suite)
	}
	return fmt.Sprintf("%s (%s %s %s)", r.Name, trimSlash(r.URL), r.Suite, strings.Join(r.components(), " "))
}

func (r Repository) components() []string {
	if r.Flat() {
		return []string{""}
	}
	if len(r.Components) == 0 {
		return []string{"main"}
	}
	return r.Components
}

// RepoIndex is one repository suite's packages for one architecture.
type RepoIndex struct {
	Repository Repository
	Suite      *Suite
	Arch       string
	Packages   []Package
	Sources    []IndexSource
}

// Has reports whether the repository offers a package of that name.
func (x *RepoIndex) Has(name string) bool {
	for i := range x.Packages {
		if x.Packages[i].Name == name {
			return true
		}
	}
	return false
}

// Names returns the sorted, distinct package names the repository offers.
func (x *RepoIndex) Names() []string {
	var out []string
	for i := range x.Packages {
		out = append(out, x.Packages[i].Name)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// LoadRepository fetches the repository's InRelease, verifies it with the
// repository's own keyring only, and loads its Packages indices for arch
// (for a flat repository, its one Packages index, filtered to arch and
// "all"). Indices are verified against the signed Release like Debian's;
// by-hash URLs are used only when the Release says Acquire-By-Hash: yes.
func (c *Client) LoadRepository(ctx context.Context, r Repository, arch string) (*RepoIndex, error) {
	if r.Name == "" || r.URL == "" || r.Suite == "" {
		return nil, fmt.Errorf("repository %q: name, URL and suite are required", r.Name)
	}
	if r.Keyring == nil || len(r.Keyring.Entities()) == 0 {
		return nil, fmt.Errorf("repository %s: no signing key: a designated repository is verified with its own pinned key, never with Debian's", r)
	}
	s, err := c.Suite(ctx, r.Ref())
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", r, err)
	}
	if !r.Flat() && len(s.Release.Architectures) > 0 && !slices.Contains(s.Release.Architectures, arch) && !slices.Contains(s.Release.Architectures, "all") {
		return nil, fmt.Errorf("repository %s: suite %s does not publish architecture %q (it has: %s)", r, r.Suite, arch, strings.Join(s.Release.Architectures, " "))
	}
	comps := r.components()
	results := make([][]index.Package, len(comps))
	srcs := make([]IndexSource, len(comps))
	errs := make([]error, len(comps))
	var wg sync.WaitGroup
	for i, comp := range comps {
		wg.Go(func() { results[i], srcs[i], errs[i] = c.Index(ctx, s, comp, arch) })
	}
	wg.Wait()
	x := &RepoIndex{Repository: r, Suite: s, Arch: arch, Sources: srcs}
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("repository %s: %w", r, err)
		}
		for j := range results[i] {
			p := &results[i][j]
			if r.Flat() && p.Architecture != arch && p.Architecture != "all" {
				continue // a flat index lists every architecture
			}
			x.Packages = append(x.Packages, Package{Package: p, Suite: r.Suite, Base: trimSlash(r.URL), Component: comps[i], Repository: r.Name, From: s})
		}
	}
	return x, nil
}

// WithRepositories returns a new release whose packages are r's and the
// repositories', as apt sees them with these sources configured: every
// version of a name, highest first, Debian's suites before the
// repositories (in the order given) for equal versions. r is not changed.
// Which version is the candidate is then a matter of pins
// (resolve.Policy); Candidate here is still the highest version.
func (r *Release) WithRepositories(repos ...*RepoIndex) *Release {
	out := &Release{Name: r.Name, Arch: r.Arch, Suites: r.Suites, Sources: r.Sources, byName: make(map[string][]*Package, len(r.byName)+64)}
	for n, vs := range r.byName {
		out.byName[n] = vs
	}
	touched := map[string]bool{}
	for _, x := range repos {
		out.Repositories = append(out.Repositories, x)
		out.Sources = append(out.Sources, x.Sources...)
		for i := range x.Packages {
			p := &x.Packages[i]
			if !touched[p.Name] {
				out.byName[p.Name] = slices.Clone(out.byName[p.Name])
				touched[p.Name] = true
			}
			out.byName[p.Name] = append(out.byName[p.Name], p)
		}
	}
	for n := range touched {
		vs := out.byName[n]
		sort.SliceStable(vs, func(i, j int) bool {
			return version.CompareStrings(vs[i].Version, vs[j].Version) > 0
		})
	}
	return out
}

// LoadPinnedKey reads a repository's signing key (an ASCII-armored or binary
// OpenPGP public key file) and checks it against the fingerprint the
// definition pins: the file must hold exactly one primary key and its
// fingerprint must be the pinned one. A key that does not match is
// refused, whatever it is.
func LoadPinnedKey(path, fingerprint string) (*release.Keyring, error) {
	want := NormalizeFingerprint(fingerprint)
	if len(want) != 40 {
		return nil, fmt.Errorf("key %s: the pinned fingerprint %q is not 40 hex digits; pin the full fingerprint of the key (gpg --show-keys --with-fingerprint %s)", path, fingerprint, path)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("key %s: %w; put the repository's public key there (relative to the definition)", path, err)
	}
	k, err := release.LoadKeyring(path)
	if err != nil {
		return nil, err
	}
	ents := k.Entities()
	if len(ents) != 1 {
		var fps []string
		for _, e := range ents {
			fps = append(fps, Fingerprint(e.PrimaryKey.Fingerprint))
		}
		return nil, fmt.Errorf("key %s: holds %d keys (%s); a repository's key file must hold exactly the one pinned key %s", path, len(ents), strings.Join(fps, ", "), want)
	}
	got := Fingerprint(ents[0].PrimaryKey.Fingerprint)
	if got != want {
		return nil, fmt.Errorf("key %s: fingerprint %s does not match the pinned fingerprint %s; refusing it (the key file was replaced, or the pin is wrong: verify the key with its publisher before changing either)", path, got, want)
	}
	return k, nil
}

// Fingerprint is a key fingerprint as upper-case hex.
func Fingerprint(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// NormalizeFingerprint removes spaces and upper-cases a written fingerprint.
func NormalizeFingerprint(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

// keyringID identifies a keyring by its keys' fingerprints ("" for none,
// meaning the client's own keyring).
func keyringID(k *release.Keyring) string {
	if k == nil {
		return ""
	}
	var fps []string
	for _, e := range k.Entities() {
		fps = append(fps, Fingerprint(e.PrimaryKey.Fingerprint))
	}
	sort.Strings(fps)
	return strings.Join(fps, ",")
}

// RepositoryStatus fetches and verifies a repository suite's InRelease
// (one request) without loading its indices: the cheap path of a periodic
// check, as Status is for Debian's suites.
func (c *Client) RepositoryStatus(ctx context.Context, r Repository) (*Suite, error) {
	s, err := c.Suite(ctx, r.Ref())
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", r, err)
	}
	return s, nil
}
