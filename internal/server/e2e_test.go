package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/server"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/store/storetest"
	"github.com/temper-dev/temper/internal/update"
)

// env is a running server over a fixture archive, a catalog in a git
// work tree and an in-memory registry.
type env struct {
	t       *testing.T
	f       *buildtest.Fixture
	dir     string
	srv     *server.Server
	st      store.Store
	regHost string
	logs    *bytes.Buffer
	cancel  context.CancelFunc
	done    chan error
	admin   string
	read    string
	// cacheDir is the fixture client's cache (for locks the test writes).
	cacheDir string
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func gz(t *testing.T, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	io.WriteString(w, s)
	w.Close()
	return b.Bytes()
}

func start(t *testing.T, interval string) *env { return startWith(t, interval, nil) }

// startWith is start with the server's configuration adjusted by with.
func startWith(t *testing.T, interval string, with func(*server.Config)) *env {
	return startDef(t, interval, toolYAML, with)
}

// toolYAML is the fixture catalog's one definition.
const toolYAML = "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool]\nimage:\n  entrypoint: [/usr/bin/tool]\n"

// startDef is startWith over a catalog whose tool.yaml is def.
func startDef(t *testing.T, interval, def string, with func(*server.Config)) *env {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	e := &env{t: t, f: buildtest.NewFixture(t), dir: t.TempDir(), done: make(chan error, 1)}
	buildtest.WriteDef(t, e.dir, "tool.yaml", def)
	cacheDir := t.TempDir()
	e.cacheDir = cacheDir
	if outs, err := lock.Run(context.Background(), []string{e.dir}, lock.Options{Client: e.f.Client(cacheDir)}); err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	git(t, e.dir, "init", "-q")
	git(t, e.dir, "add", ".")
	git(t, e.dir, "commit", "-q", "-m", "catalog")
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	e.regHost = strings.TrimPrefix(reg.URL, "http://")
	e.st = storetest.SQLite(t).Store
	c, _ := cache.Open(cacheDir)
	svc := &release.Service{Store: e.st, Tags: release.RemoteTags{Prefix: e.regHost + "/temper"}}
	e.logs = &bytes.Buffer{}
	lw := &lockedWriter{w: e.logs}
	cfg := server.Config{
		Catalog: e.dir, Listen: "127.0.0.1:0", Git: true, RescueAfter: time.Minute,
		Schedule: server.Schedule{Check: interval, VulnUpdate: "1000h", Snapshot: "1000h", Promote: "1000h"},
		Logger:   slog.New(slog.NewJSONHandler(lw, nil)), Store: e.st, Service: svc,
		Update: func() (update.Options, error) {
			return update.Options{Client: e.f.Client(cacheDir), Debs: e.f.Fetcher(cacheDir), Cache: c}, nil
		},
		Build: build.Options{Fetcher: e.f.Fetcher(cacheDir), Output: filepath.Join(t.TempDir(), "store")},
		Cache: c, SkipGate: "hermetic test: no vulnerability data",
	}
	if with != nil {
		with(&cfg)
	}
	var err error
	e.srv, err = server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	tk, _ := store.AsTokens(e.st)
	e.admin, _, _ = tk.CreateToken(context.Background(), store.RoleAdmin, "", time.Now())
	e.read, _, _ = tk.CreateToken(context.Background(), store.RoleRead, "", time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() { e.done <- e.srv.Run(ctx) }()
	t.Cleanup(e.stop)
	<-e.srv.Listening()
	return e
}

func (e *env) stop() {
	if e.cancel != nil {
		e.cancel()
		<-e.done
		e.cancel = nil
	}
}

type lockedWriter struct {
	mu syncMutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *env) releases() []store.Release { return e.releasesOf("tool:1") }

func (e *env) releasesOf(stream string) []store.Release {
	rels, _ := e.st.Releases(context.Background(), stream)
	return rels
}

func (e *env) waitReleases(n int, within time.Duration) []store.Release {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if rels := e.releases(); len(rels) >= n && rels[0].State == store.Published {
			return rels
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("no release %d within %v; logs:\n%s", n, within, e.logs.String())
	return nil
}

func (e *env) get(path, token string) (int, []byte) {
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The proof of the service: a stream's first build is published on the
// first check; an unchanged archive makes no build over several checks;
// a new version in -security is rebuilt within one interval, published to
// the registry's testing tag, and its lock is committed by the bot with
// the CVE in the message.
func TestServeRebuildsWhatChanged(t *testing.T) {
	e := start(t, "1s")
	first := e.waitReleases(1, 30*time.Second)[0]
	repo, _ := name.NewRepository(e.regHost + "/temper/tool")
	d, err := remote.Head(repo.Tag("1-testing"))
	if err != nil || d.Digest.String() != first.Digest {
		t.Fatalf("testing tag: %v %v, want %s", d, err, first.Digest)
	}

	// Unchanged archive: three more intervals, no build.
	time.Sleep(3500 * time.Millisecond)
	if n := len(e.releases()); n != 1 {
		t.Fatalf("unchanged archive made %d releases", n)
	}
	if strings.Count(e.logs.String(), `"kind":"stream"`) != 2 { // started + done of the one job
		t.Fatalf("stream jobs ran without a change:\n%s", e.logs.String())
	}

	// tool 1.0+deb12u1 arrives in -security, its changelog naming a CVE.
	e.f.Extra = []testarchive.Package{buildtest.DebPkg(t, "tool", "1.0+deb12u1", "libc6",
		debtest.File{Path: "./usr/bin/tool", Mode: 0o755, Data: []byte("tool v1, fixed")},
		debtest.File{Path: "./usr/share/doc/tool/changelog.Debian.gz", Data: gz(t, "tool (1.0+deb12u1) bookworm-security; urgency=high\n\n  * Fix CVE-2026-4242: overflow.\n\n -- T <t@example.org>  Thu, 01 Jan 2026 00:00:00 +0000\n\ntool (1.0) unstable; urgency=medium\n\n  * Initial.\n\n -- T <t@example.org>  Mon, 01 Dec 2025 00:00:00 +0000\n")})}
	changed := time.Now()
	for p, data := range e.f.Archive().Files(t) {
		e.f.Server.SetFile(p, data)
	}
	rels := e.waitReleases(2, 20*time.Second)
	took := time.Since(changed)
	if rels[0].BuildKey == first.BuildKey || rels[0].Digest == first.Digest {
		t.Fatalf("second release is the first build: %+v", rels[0])
	}
	d, err = remote.Head(repo.Tag("1-testing"))
	if err != nil || d.Digest.String() != rels[0].Digest {
		t.Fatalf("testing tag after the update: %v %v, want %s", d, err, rels[0].Digest)
	}
	if _, err := remote.Head(repo.Tag(rels[0].Tag)); err != nil {
		t.Fatalf("immutable tag %s: %v", rels[0].Tag, err)
	}
	msg := git(t, e.dir, "log", "-1", "--format=%an <%ae>%n%B")
	for _, want := range []string{server.BotName, "CVE-2026-4242", "tool 1.0 → 1.0+deb12u1", "urgency high", "(security)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("lock commit lacks %q:\n%s", want, msg)
		}
	}
	if st := git(t, e.dir, "status", "--porcelain"); st != "" {
		t.Errorf("work tree not clean after the commit:\n%s", st)
	}
	t.Logf("archive change → published to testing in %v", took.Round(time.Millisecond))

	// The API and metrics see it.
	code, body := e.get("/api/v1/streams/tool/1", e.read)
	var det struct {
		Releases []struct{ Tag string } `json:"releases"`
	}
	if code != 200 || json.Unmarshal(body, &det) != nil || len(det.Releases) != 2 {
		t.Fatalf("stream detail %d: %s", code, body)
	}
	code, body = e.get("/metrics", e.read)
	for _, want := range []string{"temper_checks_total{result=\"ok\"}", "temper_publishes_total 2", "temper_inrelease_fetches_total", "temper_patch_latency_seconds_bucket"} {
		if code != 200 || !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s (%d)", want, code)
		}
	}
}
