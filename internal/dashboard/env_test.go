package dashboard_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/temper-dev/temper/internal/dashboard/dashtest"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/server"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/vuln"
)

// seedOnce seeds the 300-stream catalog once per test binary; each test
// works on a copy of the file.
var seedOnce struct {
	sync.Once
	dir    string
	seeded dashtest.Seeded
	err    error
}

func seededState(t testing.TB) (string, dashtest.Seeded) {
	seedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "temper-dashboard-seed-")
		if err != nil {
			seedOnce.err = err
			return
		}
		seedOnce.dir = dir
		ctx := context.Background()
		st, err := store.Open(ctx, filepath.Join(dir, "state.db"))
		if err != nil {
			seedOnce.err = err
			return
		}
		seedOnce.seeded, seedOnce.err = dashtest.Seed(ctx, st, dashtest.Options{})
		if err := st.Close(); err != nil && seedOnce.err == nil {
			seedOnce.err = err
		}
	})
	if seedOnce.err != nil {
		t.Fatal(seedOnce.err)
	}
	b, err := os.ReadFile(filepath.Join(seedOnce.dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, seedOnce.seeded
}

func TestMain(m *testing.M) {
	code := m.Run()
	if seedOnce.dir != "" {
		os.RemoveAll(seedOnce.dir)
	}
	os.Exit(code)
}

// Demo is the stream whose release is really stored (in a local OCI
// layout), so a promotion moves a real tag.
const Demo = "demo:1.0-bookworm"

// env is a temper serve on a seeded store.
type env struct {
	t      testing.TB
	URL    string
	st     store.Store
	svc    *release.Service
	tags   release.LayoutTags
	admin  string
	read   string
	seeded dashtest.Seeded
	// demoDigest is the digest in Demo's testing channel.
	demoDigest string
	cancel     func()
	done       chan error
}

func start(t testing.TB) *env {
	state, seeded := seededState(t)
	ctx := context.Background()
	st, err := store.Open(ctx, state)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, seeded: seeded, tags: release.LayoutTags{Dir: filepath.Join(t.TempDir(), "layout")}, done: make(chan error, 1)}
	e.svc = &release.Service{Store: st, Tags: e.tags}
	e.demo(ctx)
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// The vulnerability data comes from nowhere reachable: the
	// vuln-update job fails, and the Jobs page shows it with its log.
	dead := "http://127.0.0.1:1/unreachable"
	srv, err := server.New(ctx, server.Config{
		Catalog: t.TempDir(), State: state, Listen: "127.0.0.1:0", Store: st, Service: e.svc, Cache: c,
		Schedule:    server.Schedule{Check: "1000h", VulnUpdate: "1000h", Snapshot: "1000h", Promote: "1000h"},
		VulnSources: map[vuln.Kind]string{vuln.Tracker: dead, vuln.KEVFeed: dead},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)), SkipGate: "test: no vulnerability data",
	})
	if err != nil {
		t.Fatal(err)
	}
	tk, _ := store.AsTokens(st)
	e.admin, _, _ = tk.CreateToken(ctx, store.RoleAdmin, "ops", time.Now())
	e.read, _, _ = tk.CreateToken(ctx, store.RoleRead, "viewer", time.Now())
	rctx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	go func() { e.done <- srv.Run(rctx) }()
	<-srv.Listening()
	e.URL = srv.URL
	t.Cleanup(func() {
		cancel()
		<-e.done
		st.Close()
	})
	return e
}

// demo publishes Demo's release into a real layout: testing holds it,
// with its full tests passed and the gate passed, so it may be promoted
// to staging.
func (e *env) demo(ctx context.Context) {
	idx, err := random.Index(64, 1, 1)
	if err != nil {
		e.t.Fatal(err)
	}
	d, _ := idx.Digest()
	e.demoDigest = d.String()
	now := time.Now().UTC()
	if err := e.st.PutStream(ctx, store.Stream{Name: Demo, EOL: "2028-06-30"}); err != nil {
		e.t.Fatal(err)
	}
	_, err = e.svc.Publish(ctx, release.Candidate{Stream: store.Stream{Name: Demo, EOL: "2028-06-30"}, Index: idx, Digest: d.String(), BuildKey: "demo-1",
		Tests: store.Result{Passed: true, Suite: "full", Summary: "31 passed"}, Gate: store.Result{Passed: true, Summary: "gate passed"},
		Scan: store.Result{Passed: true, Summary: "0 findings"}, ArchivePublished: now.Add(-2 * time.Hour), Detected: now.Add(-time.Hour), Built: now.Add(-30 * time.Minute)})
	if err != nil {
		e.t.Fatal(err)
	}
}

// client is a browser-like HTTP client: cookies kept, redirects not
// followed.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login logs c in with token and returns the page's CSRF token.
func (e *env) login(c *http.Client, token string) {
	e.t.Helper()
	csrf := e.formCSRF(c, "/login")
	resp, err := c.PostForm(e.URL+"/login", url.Values{"token": {token}, "csrf": {csrf}, "next": {"/"}})
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login: %s", resp.Status)
	}
}

// formCSRF reads the csrf hidden field of a page.
func (e *env) formCSRF(c *http.Client, path string) string {
	e.t.Helper()
	body, code := e.get(c, path)
	if code != 200 {
		e.t.Fatalf("GET %s: %d", path, code)
	}
	_, rest, ok := strings.Cut(body, `name="csrf" value="`)
	if !ok {
		e.t.Fatalf("GET %s: no csrf field", path)
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

func (e *env) get(c *http.Client, path string) (string, int) {
	e.t.Helper()
	resp, err := c.Get(e.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}

func storeTokens(e *env) (store.Tokens, error) { return store.AsTokens(e.st) }
