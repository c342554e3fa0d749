package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/store/storetest"
)

// execMainEnv makes the test binary run temper's main instead of the
// tests: the several-nodes test starts real `temper serve` processes
// this way, without building a second binary.
const execMainEnv = "TEMPER_TEST_EXEC_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(execMainEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:])
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// node is one `temper serve` process.
type node struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	id     string // River's client ID: temper-HOST-PID
	stdout string
	stderr string
	exited chan struct{}
	err    error
}

// startNode runs `temper serve` with args; its HOME and XDG directories
// are home (a new temporary directory when "").
func startNode(t *testing.T, name, home string, args []string) *node {
	t.Helper()
	dir := t.TempDir()
	if home == "" {
		home = t.TempDir()
	}
	n := &node{t: t, name: name, stdout: filepath.Join(dir, "stdout"), stderr: filepath.Join(dir, "stderr"), exited: make(chan struct{})}
	out, _ := os.Create(n.stdout)
	errf, _ := os.Create(n.stderr)
	n.cmd = exec.Command(os.Args[0], args...)
	n.cmd.Stdout, n.cmd.Stderr = out, errf
	n.cmd.Env = append(os.Environ(), execMainEnv+"=1", "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"))
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	n.id = fmt.Sprintf("temper-%s-%d", host, n.cmd.Process.Pid)
	go func() {
		n.err = n.cmd.Wait()
		out.Close()
		errf.Close()
		close(n.exited)
	}()
	t.Cleanup(func() {
		n.cmd.Process.Kill()
		<-n.exited
		if t.Failed() {
			b, _ := os.ReadFile(n.stderr)
			if len(b) > 40000 {
				b = b[len(b)-40000:]
			}
			t.Logf("node %s (%s) log tail:\n%s", n.name, n.id, b)
		}
	})
	return n
}

var serveURL = regexp.MustCompile(`temper serve: (http://\S+)`)

// url waits for the API address the node prints.
func (n *node) url(within time.Duration) string {
	n.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(n.stdout)
		if m := serveURL.FindSubmatch(b); m != nil {
			return string(m[1])
		}
		select {
		case <-n.exited:
			n.t.Fatalf("node %s exited: %v", n.name, n.err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	n.t.Fatalf("node %s printed no URL within %v", n.name, within)
	return ""
}

// gate holds every registry write (a push) while closed: the test knows
// a stream job is mid-publish on the node it then kills.
type gate struct {
	h       http.Handler
	mu      sync.Mutex
	closed  chan struct{} // nil: open
	blocked chan struct{}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		g.mu.Lock()
		ch := g.closed
		g.mu.Unlock()
		if ch != nil {
			select {
			case g.blocked <- struct{}{}:
			default:
			}
			select {
			case <-ch:
			case <-r.Context().Done():
				return
			}
		}
	}
	g.h.ServeHTTP(w, r)
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = make(chan struct{})
	g.mu.Unlock()
}

func (g *gate) open() {
	g.mu.Lock()
	if g.closed != nil {
		close(g.closed)
		g.closed = nil
	}
	g.mu.Unlock()
}

// The proof for several nodes: two `temper serve` processes share
// one PostgreSQL; the first releases and a burst of changes across four
// streams are split between them; the node running a stream job is
// killed with SIGKILL while the job pushes; River rescues the job and the
// other node completes it; every build key has exactly one release; the
// periodic check runs once per interval, not once per node.
func TestServeNodesSharePostgres(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip(storetest.EnvPostgres + " is not set (.ci/run starts a PostgreSQL cluster and sets it)")
	}
	if testing.Short() {
		t.Skip("several nodes: about a minute")
	}
	pg := storetest.Postgres(t)
	db, err := sql.Open("pgx", pg.State)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	f := buildtest.NewFixture(t)
	var kr bytes.Buffer
	if err := f.Key.Serialize(&kr); err != nil {
		t.Fatal(err)
	}
	keyring := filepath.Join(t.TempDir(), "keyring.gpg")
	os.WriteFile(keyring, kr.Bytes(), 0o644)

	// Four streams; two locked here, two locked by the nodes' first check.
	cat := t.TempDir()
	const interval = 2 * time.Second
	os.WriteFile(filepath.Join(cat, "temper.yaml"), []byte("schedule:\n  check: 2s\n  vuln_update: 1000h\n  snapshot: 1000h\n  promote: 1000h\n"), 0o644)
	streams := map[string]string{"s1": "tool", "s2": "other", "s3": "tool", "s4": "other"}
	for s, pkg := range streams {
		buildtest.WriteDef(t, cat, s+".yaml", "name: "+s+"\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: ["+pkg+"]\n")
	}
	lockCache := t.TempDir()
	if outs, err := lock.Run(context.Background(), []string{filepath.Join(cat, "s1.yaml"), filepath.Join(cat, "s2.yaml")}, lock.Options{Client: f.Client(lockCache)}); err != nil || outs[0].Err != nil || outs[1].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}

	g := &gate{h: registry.New(registry.Logger(log.New(io.Discard, "", 0))), blocked: make(chan struct{}, 1)}
	reg := httptest.NewServer(g)
	defer reg.Close()
	defer g.open()
	regHost := strings.TrimPrefix(reg.URL, "http://")

	args := func(cache string) []string {
		return []string{"--cache", cache, "--keyring", keyring, "--archive", f.Server.ArchiveURL(), "--security-archive", f.Server.SecurityURL(),
			"serve", cat, "--state", pg.State, "--listen", "127.0.0.1:0", "--registry", regHost + "/temper",
			"--rescue-after", "10s", "--workers", "1", "--no-engine", "--skip-gate", "hermetic test: no vulnerability data", "--log-format", "json"}
	}
	a := startNode(t, "a", "", args(t.TempDir()))
	b := startNode(t, "b", "", args(t.TempDir()))
	urls := []string{a.url(60 * time.Second), b.url(60 * time.Second)}
	if urls[0] == urls[1] {
		t.Fatalf("both nodes on %s", urls[0])
	}
	started := time.Now()

	published := func(stream string) []store.Release {
		rels, _ := pg.Store.Releases(context.Background(), stream+":1")
		var out []store.Release
		for _, r := range rels {
			if r.State == store.Published {
				out = append(out, r)
			}
		}
		return out
	}
	waitAll := func(n int, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for time.Now().Before(deadline) {
			done := 0
			for s := range streams {
				if len(published(s)) >= n {
					done++
				}
			}
			if done == len(streams) {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		for s := range streams {
			t.Logf("%s: %d published", s, len(published(s)))
		}
		t.Fatalf("not every stream has %d releases within %v", n, within)
	}
	waitAll(1, 40*time.Second)

	// The burst: new tool and other in -security, for all four streams;
	// pushes are held until a node is killed.
	g.close()
	changelog := func(pkg, v string) []byte {
		return gz(t, pkg+" ("+v+") bookworm-security; urgency=high\n\n  * Fix CVE-2026-1111.\n\n -- T <t@example.org>  Thu, 01 Jan 2026 00:00:00 +0000\n")
	}
	f.Extra = []testarchive.Package{
		buildtest.DebPkg(t, "tool", "1.0+deb12u1", "libc6", debtest.File{Path: "./usr/bin/tool", Mode: 0o755, Data: []byte("tool v1, fixed")},
			debtest.File{Path: "./usr/share/doc/tool/changelog.Debian.gz", Data: changelog("tool", "1.0+deb12u1")}),
		buildtest.DebPkg(t, "other", "2.0+deb12u1", "libc6", debtest.File{Path: "./usr/bin/other", Mode: 0o755, Data: []byte("other, fixed")},
			debtest.File{Path: "./usr/share/doc/other/changelog.Debian.gz", Data: changelog("other", "2.0+deb12u1")}),
	}
	for p, data := range f.Archive().Files(t) {
		f.Server.SetFile(p, data)
	}
	select {
	case <-g.blocked:
	case <-time.After(90 * time.Second):
		t.Fatal("no stream job reached its push within 90s of the change")
	}
	// Each node runs one stream job at a time (--workers 1) and every
	// push waits: the burst is split when both hold one.
	type running struct {
		id int64
		by string
	}
	var held []running
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		held = nil
		rows, err := db.Query(`SELECT id, attempted_by[array_length(attempted_by, 1)] FROM river_job WHERE kind = 'stream' AND state = 'running' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var r running
			rows.Scan(&r.id, &r.by)
			held = append(held, r)
		}
		rows.Close()
		if len(held) == 2 && held[0].by != held[1].by {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(held) != 2 || held[0].by == held[1].by || (held[0].by != a.id && held[0].by != b.id) || (held[1].by != a.id && held[1].by != b.id) {
		t.Fatalf("the burst was not split between the nodes: running %+v (nodes %s, %s)", held, a.id, b.id)
	}
	victim, survivor := a, b
	if held[0].by == b.id {
		victim, survivor = b, a
	}
	victimJob := held[0].id
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.exited
	killed := time.Now()
	g.open()
	t.Logf("killed node %s during stream job %d", victim.id, victimJob)

	waitAll(2, 150*time.Second)
	var state string
	var by []string
	var errs []string
	deadline = time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		var byS, errS sql.NullString
		if err := db.QueryRow(`SELECT state, array_to_string(attempted_by, ','), array_to_string(errors, ',') FROM river_job WHERE id = $1`, victimJob).Scan(&state, &byS, &errS); err != nil {
			t.Fatal(err)
		}
		by, errs = strings.Split(byS.String, ","), []string{errS.String}
		if state == "completed" {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if state != "completed" || by[0] != victim.id || by[len(by)-1] != survivor.id || !strings.Contains(errs[0], "Stuck job rescued") {
		t.Fatalf("killed node's job %d: state %s, attempted by %v, errors %v", victimJob, state, by, errs)
	}
	t.Logf("job %d rescued and completed by %s %v after the kill", victimJob, survivor.id, time.Since(killed).Round(time.Second))

	// Exactly one release per build key, stream by stream.
	for s := range streams {
		rels, _ := pg.Store.Releases(context.Background(), s+":1")
		keys := map[string]int{}
		for _, r := range rels {
			keys[r.BuildKey]++
		}
		for k, n := range keys {
			if n != 1 {
				t.Errorf("%s: build key %s has %d releases", s, k[:12], n)
			}
		}
		if len(published(s)) != 2 {
			t.Errorf("%s: %d published releases, want 2", s, len(published(s)))
		}
	}

	// The periodic check: once per interval across both nodes.
	elapsed := time.Since(started)
	var checks int
	if err := db.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'check'`).Scan(&checks); err != nil {
		t.Fatal(err)
	}
	most := int(elapsed/interval) + 2
	if checks > most || checks < int(elapsed/interval)/3 {
		t.Fatalf("%d check jobs in %v at one per %v: want at most %d (one per interval, not one per node)", checks, elapsed.Round(time.Second), interval, most)
	}
	t.Logf("%d check jobs in %v (interval %v, 2 nodes)", checks, elapsed.Round(time.Second), interval)

	// The survivor stops gracefully on SIGTERM.
	survivor.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-survivor.exited:
		if survivor.err != nil {
			t.Errorf("survivor after SIGTERM: %v", survivor.err)
		}
	case <-time.After(90 * time.Second):
		t.Error("survivor did not stop within 90s of SIGTERM")
	}
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	io.WriteString(w, s)
	w.Close()
	return b.Bytes()
}
