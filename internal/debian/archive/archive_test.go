package archive_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/release"
	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
)

var (
	keysOnce        sync.Once
	rsaKey, edKey   *openpgp.Entity
	strangerKey     *openpgp.Entity
	fixtureNow      = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	securityExpires = time.Date(2026, 1, 8, 0, 0, 0, 0, time.UTC)
)

func keys(t testing.TB) {
	keysOnce.Do(func() {
		rsaKey = releasetest.NewKeyAt(t, "Fixture Archive RSA", "rsa", testarchive.KeyCreation, 0)
		edKey = releasetest.NewKeyAt(t, "Fixture Archive Ed25519", "ed25519", testarchive.KeyCreation, 0)
		strangerKey = releasetest.NewKeyAt(t, "Somebody Else", "ed25519", testarchive.KeyCreation, 0)
	})
}

// fixtureArchive is a small bookworm: python3 in the release, a newer libc6
// in -updates, an even newer libc6 and a security fix of libssl3 in
// -security, and an "all" package that must appear for both architectures.
func fixtureArchive(t testing.TB) *testarchive.Archive {
	keys(t)
	return &testarchive.Archive{
		Signers: []*openpgp.Entity{rsaKey, edKey},
		Suites: []testarchive.Suite{
			{Name: "bookworm", Packages: []testarchive.Package{
				{Name: "python3", Version: "3.11.2-1+b1", Arch: "amd64", Fields: map[string]string{"Source": "python3-defaults (3.11.2-1)", "Depends": "python3.11 (>= 3.11.2-1~), libpython3-stdlib (= 3.11.2-1+b1)", "Multi-Arch": "allowed"}},
				{Name: "python3", Version: "3.11.2-1+b1", Arch: "arm64", Fields: map[string]string{"Source": "python3-defaults (3.11.2-1)"}},
				{Name: "exim4-daemon-light", Version: "4.96-15+deb12u7", Arch: "amd64", Fields: map[string]string{"Provides": "mail-transport-agent"}},
				{Name: "postfix", Version: "3.7.11-0+deb12u1", Arch: "amd64", Fields: map[string]string{"Provides": "default-mta, mail-transport-agent (= 1)"}},
				{Name: "libc6", Version: "2.36-9+deb12u1", Arch: "amd64"},
				{Name: "libc6", Version: "2.36-9+deb12u1", Arch: "arm64"},
				{Name: "libssl3", Version: "3.0.11-1~deb12u1", Arch: "amd64"},
				{Name: "tzdata", Version: "2024a-0+deb12u1", Arch: "all"},
			}},
			{Name: "bookworm-updates", Packages: []testarchive.Package{
				{Name: "libc6", Version: "2.36-9+deb12u4", Arch: "amd64"},
				{Name: "tzdata", Version: "2025b-0+deb12u1", Arch: "all"},
			}},
			{Name: "bookworm-security", Archive: "debian-security", ValidUntil: securityExpires, Packages: []testarchive.Package{
				{Name: "libc6", Version: "2.36-9+deb12u10", Arch: "amd64"},
				{Name: "libssl3", Version: "3.0.15-1~deb12u1", Arch: "amd64"},
			}},
		},
	}
}

type env struct {
	srv   *testarchive.Server
	cache *cache.Cache
	kr    *release.Keyring
	now   time.Time
}

func newEnv(t *testing.T, a *testarchive.Archive) *env {
	t.Helper()
	srv := testarchive.Serve(t, a.Files(t))
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keys(t)
	return &env{srv: srv, cache: c, kr: release.NewKeyring(openpgp.EntityList{rsaKey, edKey}), now: fixtureNow}
}

func (e *env) client(t *testing.T, mod ...func(*archive.Config)) *archive.Client {
	t.Helper()
	h := fetch.New("temper-test")
	h.Backoff = time.Millisecond
	h.ReadTimeout = 300 * time.Millisecond
	cfg := archive.Config{
		Mirrors: archive.Mirrors{Archive: e.srv.ArchiveURL(), Security: e.srv.SecurityURL()},
		Cache:   e.cache, HTTP: h, Keyring: e.kr, Now: func() time.Time { return e.now },
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := archive.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cacheFiles lists every file in the cache directory, relative to it.
func cacheFiles(t *testing.T, c *cache.Cache) []string {
	var out []string
	filepath.WalkDir(c.Dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(c.Dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func load(t *testing.T, c *archive.Client, arch string) (*archive.Release, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return c.LoadRelease(ctx, "bookworm", arch)
}

func TestCandidatesAcrossSuites(t *testing.T) {
	e := newEnv(t, fixtureArchive(t))
	rel, err := load(t, e.client(t), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ pkg, version, suite string }{
		{"python3", "3.11.2-1+b1", "bookworm"},
		{"libc6", "2.36-9+deb12u10", "bookworm-security"},
		{"libssl3", "3.0.15-1~deb12u1", "bookworm-security"},
		{"tzdata", "2025b-0+deb12u1", "bookworm-updates"},
	} {
		c := rel.Candidate(tc.pkg)
		if c == nil {
			t.Fatalf("%s: no candidate", tc.pkg)
		}
		if c.Version != tc.version || c.Suite != tc.suite {
			t.Errorf("%s: candidate %s from %s, want %s from %s", tc.pkg, c.Version, c.Suite, tc.version, tc.suite)
		}
	}
	if vs := rel.Versions("libc6"); len(vs) != 3 || vs[1].Suite != "bookworm-updates" || vs[2].Suite != "bookworm" {
		t.Errorf("libc6 versions = %v, want security, updates, release in that order", vs)
	}
	py := rel.Candidate("python3")
	if py.Source != "python3-defaults" || py.SourceVersion != "3.11.2-1" {
		t.Errorf("python3 source = %s %s", py.Source, py.SourceVersion)
	}
	if !strings.HasPrefix(py.URL(), e.srv.ArchiveURL()+"/pool/main/p/python3/") {
		t.Errorf("python3 URL = %s", py.URL())
	}
	if sec := rel.Candidate("libssl3"); !strings.HasPrefix(sec.URL(), e.srv.SecurityURL()+"/") {
		t.Errorf("security package URL = %s, want it under the security archive", sec.URL())
	}
	// Architecture: all packages are in every binary-<arch> index.
	arm, err := load(t, e.client(t), "arm64")
	if err != nil {
		t.Fatal(err)
	}
	if c := arm.Candidate("tzdata"); c == nil || c.Version != "2025b-0+deb12u1" {
		t.Errorf("arm64 tzdata = %v", c)
	}
	if c := arm.Candidate("libssl3"); c != nil {
		t.Errorf("arm64 has amd64-only libssl3: %v", c)
	}
	if len(rel.Suites) != 3 || rel.Suites[0].InReleaseSHA256 == "" || rel.Suites[2].Release.ValidUntil.IsZero() {
		t.Errorf("suite metadata incomplete: %+v", rel.Suites)
	}
	if len(rel.Suites[0].Signatures) != 2 {
		t.Errorf("want both signatures good, got %+v", rel.Suites[0].Signatures)
	}
}

func TestSecondRunReadsOnlyInRelease(t *testing.T) {
	e := newEnv(t, fixtureArchive(t))
	if _, err := load(t, e.client(t), "amd64"); err != nil {
		t.Fatal(err)
	}
	if e.srv.TotalHits("binary-amd64") == 0 {
		t.Fatal("first run downloaded no index")
	}
	e.srv.ResetHits()
	if _, err := load(t, e.client(t), "amd64"); err != nil {
		t.Fatal(err)
	}
	hits := e.srv.Hits()
	if len(hits) != 3 || e.srv.TotalHits("InRelease") != 3 {
		t.Errorf("second run made requests %v; want exactly the three InRelease files", hits)
	}
	// Offline: nothing at all.
	e.srv.ResetHits()
	if _, err := load(t, e.client(t, func(c *archive.Config) { c.Offline = true }), "amd64"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Hits()); n != 0 {
		t.Errorf("offline run made %d requests", n)
	}
}

func TestFallbacks(t *testing.T) {
	t.Run("gz when no xz", func(t *testing.T) {
		a := fixtureArchive(t)
		for i := range a.Suites {
			a.Suites[i].Compressions = []string{"gz"}
		}
		e := newEnv(t, a)
		rel, err := load(t, e.client(t), "amd64")
		if err != nil {
			t.Fatal(err)
		}
		if rel.Sources[0].Compression != "gz" {
			t.Errorf("compression = %q", rel.Sources[0].Compression)
		}
	})
	t.Run("xz preferred", func(t *testing.T) {
		e := newEnv(t, fixtureArchive(t))
		rel, err := load(t, e.client(t), "amd64")
		if err != nil {
			t.Fatal(err)
		}
		if rel.Sources[0].Compression != "xz" || !strings.Contains(rel.Sources[0].Downloaded, "/by-hash/SHA256/") {
			t.Errorf("source = %+v, want xz by hash", rel.Sources[0])
		}
	})
	t.Run("no by-hash", func(t *testing.T) {
		a := fixtureArchive(t)
		for i := range a.Suites {
			a.Suites[i].NoByHash = true
		}
		e := newEnv(t, a)
		if _, err := load(t, e.client(t), "amd64"); err != nil {
			t.Fatal(err)
		}
		if n := e.srv.TotalHits("by-hash"); n != 0 {
			t.Errorf("%d by-hash requests to an archive without Acquire-By-Hash", n)
		}
	})
	t.Run("by-hash missing on mirror", func(t *testing.T) {
		e := newEnv(t, fixtureArchive(t))
		e.srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			if strings.Contains(r.URL.Path, "/by-hash/") {
				http.NotFound(w, r)
				return true
			}
			return false
		})
		if _, err := load(t, e.client(t), "amd64"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("transient 500", func(t *testing.T) {
		e := newEnv(t, fixtureArchive(t))
		var mu sync.Mutex
		failed := map[string]bool{}
		e.srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			if !failed[r.URL.Path] {
				failed[r.URL.Path] = true
				http.Error(w, "try again", http.StatusServiceUnavailable)
				return true
			}
			return false
		})
		if _, err := load(t, e.client(t), "amd64"); err != nil {
			t.Fatalf("a transient 503 on every file should be retried: %v", err)
		}
	})
}

// TestRefusals checks that each kind of bad input gets its own clear error
// and leaves nothing in the cache.
func TestRefusals(t *testing.T) {
	securityIR := "/debian-security/dists/bookworm-security/InRelease"
	mainIR := "/debian/dists/bookworm/InRelease"
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, e *env)
		mod   func(*archive.Config)
		want  []string // substrings of the error
		// absent is content that must not be in the cache afterwards:
		// the refused file itself.
		absent string
		// refAbsent is an InRelease path whose "last verified" ref must not exist.
		refAbsent string
	}{
		{
			name: "tampered InRelease",
			setup: func(t *testing.T, e *env) {
				e.srv.SetFile(mainIR, bytes.Replace(e.srv.File(mainIR), []byte("Label: Debian"), []byte("Label: Debiam"), 1))
			},
			want:      []string{mainIR, "bad signature"},
			absent:    "Label: Debiam",
			refAbsent: mainIR,
		},
		{
			name: "wrong key",
			setup: func(t *testing.T, e *env) {
				e.kr = release.NewKeyring(openpgp.EntityList{strangerKey})
			},
			want:      []string{mainIR, "not in keyring"},
			absent:    "BEGIN PGP SIGNED MESSAGE",
			refAbsent: mainIR,
		},
		{
			name:      "expired Valid-Until",
			setup:     func(t *testing.T, e *env) { e.now = securityExpires.Add(time.Hour) },
			want:      []string{securityIR, "Valid-Until", "--allow-expired"},
			absent:    "Codename: bookworm-security",
			refAbsent: securityIR,
		},
		{
			name: "wrong suite served",
			setup: func(t *testing.T, e *env) {
				e.srv.SetFile(securityIR, e.srv.File(mainIR))
			},
			want:      []string{securityIR, `not "bookworm-security"`},
			refAbsent: securityIR,
		},
		{
			name: "wrong index hash",
			setup: func(t *testing.T, e *env) {
				e.srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
					if strings.Contains(r.URL.Path, "/debian/dists/bookworm/main/binary-amd64/") {
						data := e.srv.File("/debian/dists/bookworm/main/binary-amd64/Packages.xz")
						bad := append([]byte(nil), data...)
						bad[len(bad)/2] ^= 0xff
						w.Write(bad)
						return true
					}
					return false
				})
			},
			want:   []string{"binary-amd64", "does not match the signed Release"},
			absent: "Package: python3\n",
		},
		{
			name: "truncated download",
			setup: func(t *testing.T, e *env) {
				e.srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
					if strings.Contains(r.URL.Path, "/debian/dists/bookworm/main/binary-amd64/") {
						data := e.srv.File("/debian/dists/bookworm/main/binary-amd64/Packages.xz")
						w.Write(data[:len(data)/2])
						return true
					}
					return false
				})
			},
			want:   []string{"binary-amd64", "truncated"},
			absent: "Package: python3\n",
		},
		{
			name: "server errors",
			setup: func(t *testing.T, e *env) {
				e.srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
					http.Error(w, "broken", http.StatusInternalServerError)
					return true
				})
			},
			want:   []string{"500", "InRelease"},
			absent: "BEGIN PGP SIGNED MESSAGE",
		},
		{
			name: "timeout",
			setup: func(t *testing.T, e *env) {
				e.srv.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
					if strings.Contains(r.URL.Path, "binary-amd64") {
						w.Header().Set("Content-Length", "100000")
						w.Write([]byte("x"))
						w.(http.Flusher).Flush()
						select {
						case <-r.Context().Done():
						case <-time.After(5 * time.Second):
						}
						return true
					}
					return false
				})
			},
			want:   []string{"binary-amd64"},
			absent: "Package: python3\n",
		},
		{
			name:  "unknown architecture",
			setup: func(t *testing.T, e *env) {},
			want:  []string{"does not publish architecture \"s390x\""},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fixtureArchive(t))
			tc.setup(t, e)
			arch := "amd64"
			if tc.name == "unknown architecture" {
				arch = "s390x"
			}
			var mods []func(*archive.Config)
			if tc.mod != nil {
				mods = append(mods, tc.mod)
			}
			_, err := load(t, e.client(t, mods...), arch)
			if err == nil {
				t.Fatal("load succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			// Other suites may have loaded and been cached; what was
			// refused must not be, and everything cached must verify.
			for _, f := range cacheFiles(t, e.cache) {
				if strings.HasPrefix(f, "refs") {
					continue
				}
				data, err := e.cache.Read(filepath.Base(f))
				if err != nil {
					t.Errorf("cache entry %s: %v", f, err)
				}
				if tc.absent != "" && bytes.Contains(data, []byte(tc.absent)) {
					t.Errorf("cache entry %s holds refused content (%q)", f, tc.absent)
				}
			}
			if tc.refAbsent != "" {
				if _, err := e.cache.GetRef("inrelease " + e.srv.URL + tc.refAbsent); err == nil {
					t.Errorf("cache remembers %s as verified", tc.refAbsent)
				}
			}
		})
	}
}

func TestAllowExpired(t *testing.T) {
	e := newEnv(t, fixtureArchive(t))
	e.now = securityExpires.Add(time.Hour)
	if _, err := load(t, e.client(t, func(c *archive.Config) { c.AllowExpired = true }), "amd64"); err != nil {
		t.Fatal(err)
	}
}

func TestOneTrustedSignatureIsEnough(t *testing.T) {
	e := newEnv(t, fixtureArchive(t))
	e.kr = release.NewKeyring(openpgp.EntityList{edKey})
	rel, err := load(t, e.client(t), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if got := rel.Suites[0].Signatures; len(got) != 1 {
		t.Errorf("good signatures = %+v, want only the Ed25519 one", got)
	}
}

func TestUnknownPackageSuggests(t *testing.T) {
	e := newEnv(t, fixtureArchive(t))
	rel, err := load(t, e.client(t), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	_, err = rel.Lookup("pyton3")
	var nf *archive.NotFoundError
	if !errors.As(err, &nf) || len(nf.Suggestions) == 0 || nf.Suggestions[0] != "python3" {
		t.Fatalf("err = %v, want a suggestion of python3", err)
	}
	_, err = rel.Lookup("mail-transport-agent")
	if !errors.As(err, &nf) || strings.Join(nf.ProvidedBy, " ") != "exim4-daemon-light postfix" {
		t.Fatalf("err = %v, want the two providers of a virtual package", err)
	}
}

func TestConcurrentClientsShareCache(t *testing.T) {
	e := newEnv(t, fixtureArchive(t))
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			arch := []string{"amd64", "arm64"}[i%2]
			_, errs[i] = load(t, e.client(t), arch)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range cacheFiles(t, e.cache) {
		if strings.HasPrefix(f, "refs") {
			continue
		}
		if _, err := e.cache.Read(filepath.Base(f)); err != nil {
			t.Errorf("cache entry %s: %v", f, err)
		}
	}
}
