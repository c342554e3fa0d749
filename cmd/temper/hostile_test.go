package main

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/hostile"
)

// The hostile-archive suite (issue 17's proof, docs/security.md): every
// attack of the catalog, end to end through the CLI. Each case serves a
// signed fixture archive on loopback (httptest, a key the test makes)
// holding the crafted .debs and metadata, or hand-edits a lock or a
// definition, and runs `temper` (this test binary as temper's main) in a
// child process under an address-space cap (RLIMIT_AS) and a wall
// clock. Every run must end by itself with exit 0, 1 or 2 (never a
// signal, a panic or the wall clock), stay under a peak RSS bound, and
// leave no temporary file behind; refusals must name what they refuse;
// and after the attack is removed, the same catalog, cache and layout
// lock and build again.
const (
	hostileVMem = 2 << 20          // KiB of address space (RLIMIT_AS): 2 GiB
	hostileRSS  = 160 << 10        // KiB of peak RSS every run must stay under
	hostileWall = 60 * time.Second // a run still going after this hangs
)

// hostileLimits are the small limits every run gets, so that bombs stay
// small and fast; the claims of the table's rows (1 TB, 10 GB,
// 100000000000) exceed the defaults as well.
var hostileLimits = []string{"TEMPER_LIMIT_RATIO_FLOOR=1MiB"}

// hostileMax is the largest peak RSS (KiB) any run of the suite had.
var hostileMax struct {
	sync.Mutex
	rss  int64
	name string
}

// hostileEnv is one case's archive, keyring, catalog, cache and layout.
type hostileEnv struct {
	t       *testing.T
	f       *buildtest.Fixture
	keyring string
	w       workspace
	// suites edits the archive's suites before they are rendered;
	// tamper edits the rendered files. Both are cleared by benign.
	suites func(a *testarchive.Archive)
	tamper func(files map[string][]byte)
	mu     sync.Mutex
	hook   func(w http.ResponseWriter, r *http.Request) bool
	// killing accepts runs ended by SIGKILL.
	killing bool
}

var evilControl = hostile.Control("evil", "1.0", "amd64")

// evilPkg is package evil 1.0 (amd64) in bookworm-security with the
// given .deb.
func evilPkg(deb []byte) testarchive.Package {
	return testarchive.Package{Name: "evil", Version: "1.0", Arch: "amd64", Deb: deb}
}

// benignEvil is what evil is once the attack is removed: a plain .deb.
func benignEvil() []byte { return evilDeb(nil, benignEntries...) }

func newHostileEnv(t *testing.T, evil []byte) *hostileEnv {
	f := buildtest.NewFixture(t)
	h := &hostileEnv{t: t, f: f}
	f.Extra = []testarchive.Package{evilPkg(evil)}
	f.Server.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		h.mu.Lock()
		hook := h.hook
		h.mu.Unlock()
		return hook != nil && hook(w, r)
	})
	h.publish()
	h.keyring = filepath.Join(t.TempDir(), "keyring.gpg")
	if err := os.WriteFile(h.keyring, releasetest.PublicKeyring(t, f.Key), 0o644); err != nil {
		t.Fatal(err)
	}
	h.w = workspace{cat: t.TempDir(), cache: t.TempDir(), layout: filepath.Join(t.TempDir(), "layout")}
	buildtest.WriteDef(t, h.w.cat, "app.yaml", "name: app\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool, other]\n")
	buildtest.WriteDef(t, h.w.cat, "evil.yaml", "name: evil\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [evil]\n")
	return h
}

// publish renders the archive (suites and tamper applied) onto the server.
func (h *hostileEnv) publish() {
	a := h.f.Archive()
	if h.suites != nil {
		h.suites(a)
	}
	files := a.Files(h.t)
	if h.tamper != nil {
		h.tamper(files)
	}
	for p, data := range files {
		h.f.Server.SetFile(p, data)
	}
}

// setHook answers requests before the archive's files (nil: none).
func (h *hostileEnv) setHook(hook func(w http.ResponseWriter, r *http.Request) bool) {
	h.mu.Lock()
	h.hook = hook
	h.mu.Unlock()
}

// benign removes the attack: evil becomes a plain package, the archive
// is rendered untouched and served without hooks.
func (h *hostileEnv) benign() {
	h.suites, h.tamper = nil, nil
	h.setHook(nil)
	h.f.Extra = []testarchive.Package{evilPkg(benignEvil())}
	h.publish()
}

// def is the path of a definition in the catalog.
func (h *hostileEnv) def(name string) string { return filepath.Join(h.w.cat, name+".yaml") }

// lockPath is the path of a definition's lock.
func (h *hostileEnv) lockPath(name string) string { return filepath.Join(h.w.cat, name+".lock.yaml") }

// hostileRun is one finished temper process.
type hostileRun struct {
	args           []string
	code           int
	stdout, stderr string
	rss            int64 // KiB
	took           time.Duration
}

// hostileReapEnv makes the test binary a reaper: it caps its address
// space (inherited by its child), runs temper (this binary as temper's
// main) as its child, forwards SIGTERM and SIGINT to it (and SIGUSR1 as
// SIGKILL, which it cannot catch itself), and writes the
// child's peak RSS, exit status and signal to the file the variable
// names. The child's peak RSS is measured through the reaper because a
// process started by the (large) test process inherits its peak: Go
// starts children with vfork, and exec carries the parent's high-water
// mark into the child's.
const hostileReapEnv = "TEMPER_TEST_HOSTILE_REAP"

func init() {
	if out := os.Getenv(hostileReapEnv); out != "" {
		os.Unsetenv(hostileReapEnv)
		hostileReap(out)
	}
}

func hostileReap(out string) {
	lim := syscall.Rlimit{Cur: hostileVMem << 10, Max: hostileVMem << 10}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
		fmt.Fprintln(os.Stderr, "reaper: setrlimit:", err)
		os.Exit(3)
	}
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "reaper:", err)
		os.Exit(3)
	}
	os.WriteFile(out+".started", nil, 0o644)
	go func() {
		for s := range sigs {
			if s == syscall.SIGUSR1 {
				s = syscall.SIGKILL
			}
			cmd.Process.Signal(s)
		}
	}()
	cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	sig, code := 0, ws.ExitStatus()
	if ws.Signaled() {
		sig, code = int(ws.Signal()), 128+int(ws.Signal())
	}
	os.WriteFile(out, fmt.Appendf(nil, "%d %d %d", cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss, code, sig), 0o644)
	os.Exit(code)
}

// start starts temper through the reaper (under the address-space cap).
func (h *hostileEnv) start(env []string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer, string) {
	h.t.Helper()
	full := append([]string{"--cache", h.w.cache, "--keyring", h.keyring, "--archive", h.f.Server.ArchiveURL(), "--security-archive", h.f.Server.SecurityURL()}, args...)
	cmd := exec.Command(os.Args[0], full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	home := h.t.TempDir()
	report := filepath.Join(home, "reaper")
	cmd.Env = append(append(append(os.Environ(), hostileReapEnv+"="+report, execMainEnv+"=1", "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache"), "XDG_DATA_HOME="+filepath.Join(home, "data")), hostileLimits...), env...)
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	return cmd, &stdout, &stderr, report
}

// started waits until the reaper has started temper (and forwards
// signals).
func (h *hostileEnv) started(report string) {
	h.t.Helper()
	for i := 0; i < 10000; i++ {
		if _, err := os.Stat(report + ".started"); err == nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
	h.t.Fatal("the reaper did not start temper within 10 s")
}

// wait waits for a started temper (at most hostileWall) and checks that
// it ended by itself: an exit status of 0, 1 or 2, no panic, peak RSS
// under the bound.
func (h *hostileEnv) wait(cmd *exec.Cmd, stdout, stderr *bytes.Buffer, report string, args []string) hostileRun {
	h.t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(hostileWall):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		h.t.Fatalf("temper %s still running after %v (a hang):\n%s", strings.Join(args, " "), hostileWall, stderr)
	}
	r := hostileRun{args: args, stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	var sig int
	if b, err := os.ReadFile(report); err != nil {
		h.t.Fatalf("temper %s: the reaper wrote no report (%v, exit %d):\n%s", strings.Join(args, " "), err, cmd.ProcessState.ExitCode(), r.stderr)
	} else if _, err := fmt.Sscan(string(b), &r.rss, &r.code, &sig); err != nil {
		h.t.Fatalf("reaper report %q: %v", b, err)
	}
	hostileMax.Lock()
	if r.rss > hostileMax.rss {
		hostileMax.rss, hostileMax.name = r.rss, h.t.Name()+": temper "+args[0]
	}
	hostileMax.Unlock()
	h.t.Logf("temper %s: exit %d, peak RSS %d MiB, %v", strings.Join(args, " "), r.code, r.rss>>10, r.took.Round(time.Millisecond))
	if sig == int(syscall.SIGKILL) && h.killing {
		// SIGKILLed on purpose (SIGUSR1 to the reaper).
	} else if sig != 0 {
		h.t.Errorf("temper %s: killed by %v:\n%s", strings.Join(args, " "), syscall.Signal(sig), r.stderr)
	} else if r.code > 2 {
		h.t.Errorf("temper %s: exit %d, want 0, 1 or 2:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	for _, crash := range []string{"panic:", "fatal error:", "goroutine ", "out of memory"} {
		if strings.Contains(r.stderr, crash) {
			h.t.Errorf("temper %s crashed (%q):\n%s", strings.Join(args, " "), crash, r.stderr)
			break
		}
	}
	if r.rss > hostileRSS {
		h.t.Errorf("temper %s: peak RSS %d MiB, bound %d MiB", strings.Join(args, " "), r.rss>>10, hostileRSS>>10)
	}
	return r
}

// runEnv runs temper to its end with extra environment; run without.
func (h *hostileEnv) runEnv(env []string, args ...string) hostileRun {
	h.t.Helper()
	cmd, stdout, stderr, report := h.start(env, args...)
	return h.wait(cmd, stdout, stderr, report, args)
}

func (h *hostileEnv) run(args ...string) hostileRun {
	h.t.Helper()
	return h.runEnv(nil, args...)
}

// ok asserts exit 0.
func (r hostileRun) ok(t *testing.T) hostileRun {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("temper %s: exit %d, want 0:\n%s", strings.Join(r.args, " "), r.code, r.stderr)
	}
	return r
}

// refused asserts the exit status and that stderr names each of want.
func (r hostileRun) refused(t *testing.T, code int, want ...string) hostileRun {
	t.Helper()
	if r.code != code {
		t.Errorf("temper %s: exit %d, want %d:\n%s", strings.Join(r.args, " "), r.code, code, r.stderr)
	}
	r.names(t, want...)
	t.Logf("stderr: %s", firstLines(r.stderr, 4))
	return r
}

// names asserts that stderr names each of want.
func (r hostileRun) names(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("temper %s: stderr does not name %q:\n%s", strings.Join(r.args, " "), w, r.stderr)
		}
	}
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n        ")
}

// lock and build run `temper lock` and `temper build -o layout` on
// definitions by name.
func (h *hostileEnv) lock(names ...string) hostileRun {
	h.t.Helper()
	args := []string{"lock"}
	for _, n := range names {
		args = append(args, h.def(n))
	}
	return h.run(args...)
}

func (h *hostileEnv) build(name string, env ...string) hostileRun {
	h.t.Helper()
	return h.runEnv(env, "build", h.def(name), "-o", h.w.layout)
}

// state is what a failed run must leave as it was: the catalog's locks
// and the layout's index.
type hostileState map[string]string

func (h *hostileEnv) state() hostileState {
	s := hostileState{}
	for _, p := range []string{h.lockPath("app"), h.lockPath("evil"), filepath.Join(h.w.layout, "index.json")} {
		if b, err := os.ReadFile(p); err == nil {
			s[p] = string(b)
		} else {
			s[p] = "(absent)"
		}
	}
	return s
}

// unchanged asserts that the locks and the layout's index are as before
// and that no temporary file is left in the catalog, cache or layout.
func (h *hostileEnv) unchanged(before hostileState) {
	h.t.Helper()
	for p, b := range h.state() {
		if b != before[p] {
			h.t.Errorf("%s changed by a refused run", filepath.Base(p))
		}
	}
	h.noTemporaries()
	h.cacheSound()
}

func (h *hostileEnv) noTemporaries() {
	h.t.Helper()
	if left := temporaries(h.w.cat, h.w.cache, h.w.layout); len(left) > 0 {
		h.t.Errorf("temporary files left: %v", left)
	}
}

// cacheSound asserts that every cache entry holds the bytes its name
// (their SHA-256) says: nothing unverified was cached.
func (h *hostileEnv) cacheSound() {
	h.t.Helper()
	filepath.Walk(filepath.Join(h.w.cache, "sha256"), func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || strings.HasPrefix(fi.Name(), ".") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			h.t.Error(err)
			return nil
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != fi.Name() {
			h.t.Errorf("cache entry %s holds other bytes (a poisoned entry)", p)
		}
		return nil
	})
}

// recovers removes the attack and asserts that the same catalog, cache
// and layout then lock and build both definitions: nothing the attack
// left (a poisoned cache entry, a partial lock or layout) is read.
func (h *hostileEnv) recovers() {
	h.t.Helper()
	h.benign()
	h.lock("app", "evil").ok(h.t)
	h.build("app").ok(h.t)
	h.build("evil").ok(h.t)
	h.noTemporaries()
}

// editLock rewrites a lock with a regexp replacement, failing when it
// does not match.
func (h *hostileEnv) editLock(name, re, repl string) {
	h.t.Helper()
	b, err := os.ReadFile(h.lockPath(name))
	if err != nil {
		h.t.Fatal(err)
	}
	rx := regexp.MustCompile(re)
	if !rx.Match(b) {
		h.t.Fatalf("%s: no match for %s:\n%s", name, re, b)
	}
	if err := os.WriteFile(h.lockPath(name), rx.ReplaceAll(b, []byte(repl)), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// evilDeb is a .deb for package evil with data (a tar, member
// data.tar) and maintainer scripts.
func evilDeb(scripts map[string]string, entries ...*tar.Header) []byte {
	return hostile.Deb(evilControl, scripts, "data.tar", hostile.Tar(entries...))
}

// buildsWarning asserts a contained result: `temper build evil` ends with exit
// 0 and warns naming each of want.
func (h *hostileEnv) buildsWarning(want ...string) hostileRun {
	h.t.Helper()
	h.lock("evil").ok(h.t)
	r := h.build("evil").ok(h.t)
	r.names(h.t, want...)
	h.t.Logf("warning: %s", firstLines(grepLines(r.stderr, "evil"), 3))
	return r
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// refusedBuild locks evil, then asserts `temper build evil` is refused
// naming want, leaving the locks and layout as they were.
func (h *hostileEnv) refusedBuild(want ...string) hostileRun {
	h.t.Helper()
	h.lock("evil").ok(h.t)
	before := h.state()
	r := h.build("evil").refused(h.t, 1, want...)
	h.unchanged(before)
	return r
}

// refusedLock asserts `temper lock app` is refused naming want, writing
// no lock.
func (h *hostileEnv) refusedLock(want ...string) hostileRun {
	h.t.Helper()
	before := h.state()
	r := h.lock("app").refused(h.t, 1, want...)
	h.unchanged(before)
	return r
}

// waitHits waits until the server has answered a request whose path
// contains substr.
func (h *hostileEnv) waitHits(substr string) {
	h.t.Helper()
	for i := 0; i < 3000 && h.f.Server.TotalHits(substr) == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if h.f.Server.TotalHits(substr) == 0 {
		h.t.Fatalf("no request for %s within 30 s", substr)
	}
}

// interrupt sends SIGTERM after a started run reached its CPU-bound
// phase, and asserts a failed exit within 2 s leaving no partial state.
func (h *hostileEnv) interrupt(cmd *exec.Cmd, stdout, stderr *bytes.Buffer, report string, args []string) hostileRun {
	h.t.Helper()
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	r := h.wait(cmd, stdout, stderr, report, args)
	took := time.Since(sent)
	if took > 2*time.Second {
		h.t.Errorf("exited %v after SIGTERM, want ≤ 2 s", took)
	}
	if r.code == 0 {
		h.t.Errorf("exit 0 after SIGTERM in mid-run:\n%s", r.stderr)
	}
	h.t.Logf("exited %v after SIGTERM: exit %d: %s", took.Round(time.Millisecond), r.code, firstLines(r.stderr, 2))
	return r
}

// trickle serves .debs at rate bytes per second, announcing their full
// length.
func trickle(srv *testarchive.Server, rate int) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, ".deb") {
			return false
		}
		data := srv.File(r.URL.Path)
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		step := max(rate/10, 1)
		for len(data) > 0 {
			n := min(step, len(data))
			if _, err := w.Write(data[:n]); err != nil {
				return true
			}
			w.(http.Flusher).Flush()
			data = data[n:]
			select {
			case <-r.Context().Done():
				return true
			case <-time.After(100 * time.Millisecond):
			}
		}
		return true
	}
}

// randomBytes is n bytes that do not compress.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// dataTarWith is a data.tar holding one regular file of data.
func dataTarWith(name string, data []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))})
	tw.Write(data)
	tw.Close()
	return buf.Bytes()
}

// hostileCase is one attack of the catalog.
type hostileCase struct {
	name string
	run  func(t *testing.T)
}

func TestHostileArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts temper processes")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
	t.Cleanup(func() {
		t.Logf("largest peak RSS of the suite: %d MiB (%s); bound %d MiB", hostileMax.rss>>10, hostileMax.name, hostileRSS>>10)
	})
}

func hostileCases() []hostileCase {
	return []hostileCase{
		// Rows of issue 17's table.
		{"tar_member_claims_1TB", func(t *testing.T) {
			h := newHostileEnv(t, hostile.Deb(evilControl, nil, "data.tar", hostile.ClaimingTar("./usr/bin/big", 1<<40, []byte("x"))))
			h.refusedBuild("evil 1.0", "./usr/bin/big", "TEMPER_LIMIT_MEMBER")
			h.recovers()
		}},
		{"sparse_member_claims_10GB", func(t *testing.T) {
			h := newHostileEnv(t, hostile.Deb(evilControl, nil, "data.tar", hostile.SparseTar("./usr/share/sparse", 10<<30)))
			h.refusedBuild("evil 1.0", "./usr/share/sparse", "TEMPER_LIMIT_MEMBER")
			h.recovers()
		}},
		{"xz_bomb_transcode", func(t *testing.T) {
			bomb := hostile.Deb(evilControl, nil, "data.tar.xz", hostile.ZerosTarXZ(16<<20))
			h := newHostileEnv(t, bomb)
			h.refusedBuild("evil", "data.tar.xz", "TEMPER_LIMIT_RATIO")
			h.recovers()
		}},
		{"Packages_Size_100000000000", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			h.f.Extra[0].Size = 100000000000
			h.publish()
			h.f.Server.ResetHits()
			// Refused at lock time: a lock pinning it could never be
			// built (a hand-edited lock is refused by the build, next
			// case).
			before := h.state()
			h.lock("evil").refused(t, 1, "evil.yaml", "package evil 1.0 (amd64) in bookworm-security", "per-.deb limit of 2 GiB (TEMPER_LIMIT_DEB): the index says 100000000000 bytes")
			h.unchanged(before)
			if n := h.f.Server.TotalHits(".deb"); n > 0 {
				t.Errorf("%d .deb requests for a size over the limit", n)
			}
			h.recovers()
		}},
		{"lock_Size_100000000000", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			h.lock("evil").ok(t)
			h.editLock("evil", `size: \d+`, "size: 100000000000")
			before := h.state()
			h.f.Server.ResetHits()
			h.build("evil").refused(t, 1, "evil", "100000000000", "TEMPER_LIMIT_DEB")
			h.unchanged(before)
			if n := h.f.Server.TotalHits(".deb"); n > 0 {
				t.Errorf("%d .deb requests for a size over the limit", n)
			}
			h.recovers()
		}},
		{"postinst_nesting", func(t *testing.T) {
			h := newHostileEnv(t, evilDeb(map[string]string{"postinst": hostile.Scripts["nested-if"]}, benignEntries...))
			h.buildsWarning("package evil", "postinst", "nesting")
		}},
		{"postinst_doubling", func(t *testing.T) {
			h := newHostileEnv(t, evilDeb(map[string]string{"postinst": hostile.Scripts["doubling"]}, benignEntries...))
			h.buildsWarning("package evil", "postinst", "longer than")
		}},
		{"postinst_endless_loop", func(t *testing.T) {
			// The comment names the commands the evaluator looks for,
			// so that the script is evaluated at all.
			h := newHostileEnv(t, evilDeb(map[string]string{"postinst": "#!/bin/sh\n# update-alternatives ucf\n" + endlessLoops}, benignEntries...))
			h.buildsWarning("package evil", "postinst", "TEMPER_LIMIT_SCRIPT_STEPS")
		}},
		{"postinst_endless_calls", func(t *testing.T) {
			h := newHostileEnv(t, evilDeb(map[string]string{"postinst": hostile.Scripts["endless"]}, benignEntries...))
			h.buildsWarning("package evil", "postinst", "more than 4096")
		}},
		{"postinst_endless_loop_SIGTERM", func(t *testing.T) {
			h := newHostileEnv(t, evilDeb(map[string]string{"postinst": "#!/bin/sh\n# update-alternatives ucf\n" + endlessLoops}, benignEntries...))
			h.lock("evil").ok(t)
			before := h.state()
			// Budgets lifted: only SIGTERM ends this evaluation.
			args := []string{"build", h.def("evil"), "-o", h.w.layout}
			cmd, stdout, stderr, report := h.start([]string{"TEMPER_LIMIT_SCRIPT_STEPS=1000000000000", "TEMPER_LIMIT_SCRIPT_TIME=1h"}, args...)
			h.waitHits(".deb")
			time.Sleep(1500 * time.Millisecond)
			h.interrupt(cmd, stdout, stderr, report, args).names(t, "assembly stopped", "terminated")
			h.unchanged(before)
			h.recovers()
		}},
		{"trickling_server_min_rate", func(t *testing.T) {
			h := newHostileEnv(t, hostile.Deb(evilControl, nil, "data.tar", dataTarWith("./usr/share/evil", randomBytes(16<<10))))
			h.lock("evil").ok(t)
			before := h.state()
			h.setHook(trickle(h.f.Server, 20))
			r := h.build("evil", "TEMPER_LIMIT_MIN_RATE=1KiB", "TEMPER_LIMIT_RATE_WINDOW=1s").refused(t, 1, "evil_1.0_amd64.deb", "TEMPER_LIMIT_MIN_RATE")
			if r.took > 10*time.Second {
				t.Errorf("the trickle was refused after %v", r.took)
			}
			h.unchanged(before)
			h.recovers()
		}},
		{"slow_server_request_deadline", func(t *testing.T) {
			h := newHostileEnv(t, hostile.Deb(evilControl, nil, "data.tar", dataTarWith("./usr/share/evil", randomBytes(64<<10))))
			h.lock("evil").ok(t)
			before := h.state()
			h.setHook(trickle(h.f.Server, 8<<10)) // above the minimum rate
			r := h.build("evil", "TEMPER_LIMIT_REQUEST_TIME=2s").refused(t, 1, "evil_1.0_amd64.deb", "TEMPER_LIMIT_REQUEST_TIME")
			if r.took > 10*time.Second {
				t.Errorf("the slow download was refused after %v", r.took)
			}
			h.unchanged(before)
			h.recovers()
		}},
		{"lock_dependency_removed", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			h.lock("app").ok(t)
			// Remove libc6, which tool and other depend on.
			h.editLock("app", `(?s)\n      - name: libc6\n.*?\n(      - name: )`, "\n$1")
			before := h.state()
			h.build("app").refused(t, 1, "not a closed set", "depends on libc6")
			h.unchanged(before)
			h.recovers()
		}},
		{"lock_wrong_size_deb_cached", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			h.lock("app").ok(t)
			h.build("app").ok(t)
			h.editLock("app", `(name: tool\n(?:.*\n)*?\s+size: )(\d+)`, "${1}999")
			before := h.state()
			h.runEnv(nil, "build", "--force", h.def("app"), "-o", h.w.layout).refused(t, 1, "tool", "999")
			h.unchanged(before)
			h.recovers()
		}},
		{"SIGKILL_while_a_lock_is_written", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			h.lock("app", "evil").ok(t)
			whole := h.state()
			os.Remove(h.lockPath("evil"))
			// What a writer SIGKILLed between creating its temporary
			// file and renaming it leaves: temporary files beside the
			// definitions, in the cache and in the layout. Real kills
			// at random points follow.
			h.build("app").ok(t)
			planted := []string{
				filepath.Join(h.w.cat, ".evil.lock.yaml.tmp-1234"),
				filepath.Join(h.w.layout, ".tmp-index.json-1234"),
				filepath.Join(h.w.layout, "blobs", "sha256", ".tmp-1234"),
			}
			subs, _ := filepath.Glob(filepath.Join(h.w.cache, "sha256", "*"))
			if len(subs) == 0 {
				t.Fatal("empty cache")
			}
			planted = append(planted, filepath.Join(subs[0], ".tmp-1234"))
			for _, p := range planted {
				if err := os.WriteFile(p, []byte("# partial: never read\npackages: ["), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			h.killing = true
			for i, delay := range []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond, 45 * time.Millisecond} {
				args := []string{"lock", h.def("app"), h.def("evil")}
				cmd, stdout, stderr, report := h.start(nil, args...)
				h.started(report)
				time.Sleep(delay)
				cmd.Process.Signal(syscall.SIGUSR1) // the reaper SIGKILLs temper
				if r := h.wait(cmd, stdout, stderr, report, args); r.code != 0 && r.code != 128+int(syscall.SIGKILL) {
					t.Errorf("kill %d after %v: exit %d", i, delay, r.code)
				}
				for _, n := range []string{"app", "evil"} {
					if b, err := os.ReadFile(h.lockPath(n)); err == nil && string(b) != whole[h.lockPath(n)] {
						t.Errorf("kill %d after %v: %s.lock.yaml is partial or different", i, delay, n)
					}
				}
			}
			h.killing = false
			// A kill between creating a temporary file and locking it
			// leaves an empty file that Clean keeps for a second (it
			// could be a live writer's, internal/leftover).
			time.Sleep(1100 * time.Millisecond)
			// The next lock removes the leftovers beside the
			// definitions, the next build that writes to the layout
			// and the cache removes theirs; none is read.
			h.lock("app", "evil").ok(t)
			h.build("app").ok(t)
			h.build("evil").ok(t)
			for p, b := range whole {
				if strings.HasSuffix(p, ".lock.yaml") {
					if got, _ := os.ReadFile(p); string(got) != b {
						t.Errorf("%s after the rerun differs from the uninterrupted lock", filepath.Base(p))
					}
				}
			}
			h.noTemporaries()
			h.cacheSound()
		}},
		{"SIGTERM_during_transcode", func(t *testing.T) {
			// 16 GiB of zeros in 16 MiB of gzip: seconds of CPU to
			// transcode once the ratio limit is lifted.
			h := newHostileEnv(t, hostile.Deb(evilControl, nil, "data.tar.gz", hostile.ZerosTarGz(16<<30)))
			h.lock("evil").ok(t)
			before := h.state()
			args := []string{"build", h.def("evil"), "-o", h.w.layout}
			cmd, stdout, stderr, report := h.start([]string{"TEMPER_LIMIT_RATIO=100000", "TEMPER_LIMIT_MEMBER=1MiB"}, args...)
			h.waitHits(".deb")
			time.Sleep(500 * time.Millisecond)
			// Interrupted while transcoding (data.tar.gz), not while
			// downloading.
			h.interrupt(cmd, stdout, stderr, report, args).names(t, "evil 1.0", "data.tar.gz", "terminated")
			h.unchanged(before)
			h.recovers()
		}},
		{"usage_errors_exit_2", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			for _, c := range []struct {
				args []string
				want string
			}{
				{[]string{"frobnicate"}, "unknown command"},
				{[]string{"lock"}, "temper lock --help"},
				{[]string{"build"}, "temper build --help"},
				{[]string{"build", "--no-such-flag", h.def("app")}, "--no-such-flag"},
				{[]string{"archive", "show", "python3"}, "release"},
			} {
				h.run(c.args...).refused(t, 2, c.want)
			}
		}},
		{"YAML_error_line", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			buildtest.WriteDef(t, h.w.cat, "app.yaml", "name: app\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64\npackages: [tool]\n")
			h.refusedLock("app.yaml:5")
		}},
		{"unknown_packages_named_with_lines", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			buildtest.WriteDef(t, h.w.cat, "app.yaml", "name: app\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages:\n  - tool\n  - nosuchpkg\n  - other\n  - alsomissing\n")
			h.refusedLock("app.yaml:8", "nosuchpkg", "app.yaml:10", "alsomissing")
		}},
		{"release_archived_or_typo", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			buildtest.WriteDef(t, h.w.cat, "app.yaml", "name: app\nversion: \"1\"\ndebian:\n  release: buster\narchitectures: [amd64]\npackages: [tool]\n")
			h.refusedLock("app.yaml:4", "buster", "archived")
			buildtest.WriteDef(t, h.w.cat, "app.yaml", "name: app\nversion: \"1\"\ndebian:\n  release: bookwrom\narchitectures: [amd64]\npackages: [tool]\n")
			h.refusedLock("app.yaml:4", "did you mean bookworm")
		}},
		{"device_nodes_and_fifos_warned", func(t *testing.T) {
			h := newHostileEnv(t, evilDeb(nil, append(benignEntries,
				&tar.Header{Name: "./dev/", Typeflag: tar.TypeDir, Mode: 0o755},
				&tar.Header{Name: "./dev/evilchar", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3},
				&tar.Header{Name: "./dev/evilblock", Typeflag: tar.TypeBlock, Mode: 0o660, Devmajor: 8},
				&tar.Header{Name: "./dev/evilfifo", Typeflag: tar.TypeFifo, Mode: 0o644},
			)...))
			h.buildsWarning("/dev/evilchar", "/dev/evilblock", "/dev/evilfifo")
		}},

		// Attacks temper refused before issue 17.
		{"tampered_InRelease", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			h.tamper = func(files map[string][]byte) {
				p := "/debian/dists/bookworm/InRelease"
				files[p] = bytes.Replace(files[p], []byte("Label: Debian"), []byte("Label: Evil!!"), 1)
			}
			h.publish()
			h.refusedLock("InRelease", "signature")
			h.recovers()
		}},
		{"unsigned_InRelease", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			h.tamper = func(files map[string][]byte) {
				files["/debian/dists/bookworm/InRelease"] = files["/debian/dists/bookworm/Release"]
			}
			h.publish()
			h.refusedLock("InRelease", "sign")
			h.recovers()
		}},
		{"expired_InRelease", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			h.suites = func(a *testarchive.Archive) {
				a.Suites[0].Date = time.Now().Add(-48 * time.Hour)
				a.Suites[0].ValidUntil = time.Now().Add(-24 * time.Hour)
			}
			h.publish()
			h.refusedLock("InRelease", "Valid-Until")
			h.recovers()
		}},
		{"InRelease_wrong_key", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			other := releasetest.NewKeyAt(t, "not the archive", "ed25519", testarchive.KeyCreation, 0)
			h.suites = func(a *testarchive.Archive) { a.Signers = []*openpgp.Entity{other} }
			h.publish()
			h.refusedLock("InRelease", "key")
			h.recovers()
		}},
		{"InRelease_wrong_suite", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			// A replay: bookworm-updates' InRelease served as bookworm's.
			h.tamper = func(files map[string][]byte) {
				files["/debian/dists/bookworm/InRelease"] = files["/debian/dists/bookworm-updates/InRelease"]
			}
			h.publish()
			h.refusedLock("InRelease", "bookworm-updates")
			h.recovers()
		}},
		{"Packages_hash_mismatch", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			h.tamper = func(files map[string][]byte) {
				for p, b := range files {
					if strings.HasPrefix(p, "/debian/dists/bookworm/main/binary-amd64/") {
						files[p] = append(append([]byte(nil), b...), 0)
					}
				}
			}
			h.publish()
			h.refusedLock("Packages", "SHA256")
			h.recovers()
		}},
		{"deb_hash_mismatch", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			h.lock("evil").ok(t)
			before := h.state()
			p := "/debian-security/pool/main/e/evil/evil_1.0_amd64.deb"
			good := h.f.Server.File(p)
			bad := append([]byte(nil), good...)
			bad[len(bad)-1] ^= 1
			h.f.Server.SetFile(p, bad)
			h.build("evil").refused(t, 1, "evil_1.0_amd64.deb", "sha256 mismatch")
			h.unchanged(before)
			h.f.Server.SetFile(p, good)
			h.build("evil").ok(t)
			h.recovers()
		}},
		{"dotdot_path_in_data_tar", func(t *testing.T) {
			h := newHostileEnv(t, evilDeb(nil, append(benignEntries,
				&tar.Header{Name: "./../../../../etc/evil", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4})...))
			h.refusedBuild("evil 1.0", "../etc/evil")
			h.recovers()
		}},
		{"hard_link_out_of_the_image", func(t *testing.T) {
			h := newHostileEnv(t, evilDeb(nil, append(benignEntries,
				&tar.Header{Name: "./usr/bin/passwd", Typeflag: tar.TypeLink, Linkname: "../../../../etc/shadow"})...))
			h.refusedBuild("evil 1.0", "../etc/shadow")
			h.recovers()
		}},
		{"lock_filename_climbs_out_of_the_archive", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			h.lock("evil").ok(t)
			h.editLock("evil", `filename: \S+`, "filename: ../../../etc/passwd")
			before := h.state()
			h.f.Server.ResetHits()
			h.build("evil").refused(t, 1, "evil.lock.yaml", "../../../etc/passwd")
			h.unchanged(before)
			if n := h.f.Server.TotalHits("passwd"); n > 0 {
				t.Errorf("%d requests for the climbing filename", n)
			}
			h.recovers()
		}},
		{"malformed_definition", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			buildtest.WriteDef(t, h.w.cat, "app.yaml", "name: app\nversion: \"1\"\ndebian:\n  release: bookworm\n  flavour: evil\narchitectures: [amd64]\npackages: [tool]\n")
			h.refusedLock("app.yaml:5", "flavour")
		}},
		{"malformed_lock", func(t *testing.T) {
			h := newHostileEnv(t, benignEvil())
			h.lock("app").ok(t)
			h.editLock("app", `(?m)^        sha256: [0-9a-f]+\n`, "        sha256: [not, a, hash\n")
			before := h.state()
			h.build("app").refused(t, 1, "app.lock.yaml:")
			h.unchanged(before)
		}},
	}
}

// benignEntries are evil's files when it attacks through something else.
var benignEntries = []*tar.Header{
	{Name: "./usr/", Typeflag: tar.TypeDir, Mode: 0o755},
	{Name: "./usr/bin/", Typeflag: tar.TypeDir, Mode: 0o755},
	{Name: "./usr/bin/evil", Typeflag: tar.TypeReg, Mode: 0o755, Size: 100},
}
