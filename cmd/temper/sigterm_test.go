package main

import (
	"bytes"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
)

// sigtermEnv is the fixture archive (with "evil", whose postinst never
// ends on lifted budgets) and what a temper process needs to read it.
type sigtermEnv struct {
	f       *buildtest.Fixture
	keyring string
	// held, when set, is a path substring whose requests wait until
	// release is closed; seen gets one value per held request.
	mu      sync.Mutex
	held    string
	release chan struct{}
	seen    chan string
}

// endlessLoops runs 10^12 cheap iterations at a depth of four: endless
// once the step and time budgets are lifted, and never cut short by the
// evaluator's recursion limit (a recursive function is: it stops at
// depth 64, so it cannot stand for "endless").
var endlessLoops = "l=\"" + strings.TrimSpace(strings.Repeat("1 ", 1000)) + "\"\n" +
	"for a in $l; do for b in $l; do for c in $l; do for d in $l; do :; done; done; done; done\n"

func newSigtermEnv(t *testing.T) *sigtermEnv {
	f := buildtest.NewFixture(t)
	evil := debtest.Build(t, debtest.Spec{
		Control:  "Package: evil\nVersion: 1.0\nArchitecture: amd64\nMaintainer: T <t@example.org>\nDescription: evil\nDepends: libc6\n",
		Files:    []debtest.File{{Path: "./usr/bin/evil", Mode: 0o755, Data: []byte("evil")}},
		AutoDirs: true,
		Scripts:  map[string]string{"postinst": "#!/bin/sh\n# update-alternatives ucf\n" + endlessLoops},
	})
	f.Extra = []testarchive.Package{{Name: "evil", Version: "1.0", Arch: "amd64", Fields: map[string]string{"Depends": "libc6"}, Deb: evil}}
	for p, data := range f.Archive().Files(t) {
		f.Server.SetFile(p, data)
	}
	var kr bytes.Buffer
	if err := f.Key.Serialize(&kr); err != nil {
		t.Fatal(err)
	}
	e := &sigtermEnv{f: f, keyring: filepath.Join(t.TempDir(), "keyring.gpg"), seen: make(chan string, 64)}
	os.WriteFile(e.keyring, kr.Bytes(), 0o644)
	f.Server.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
		e.mu.Lock()
		held, release := e.held, e.release
		e.mu.Unlock()
		if held != "" && strings.Contains(r.URL.Path, held) {
			e.seen <- r.URL.Path
			select {
			case <-release:
			case <-r.Context().Done():
				return true
			}
		}
		return false
	})
	return e
}

// hold makes requests for paths containing substr wait; the returned
// function lets them go.
func (e *sigtermEnv) hold(substr string) func() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for len(e.seen) > 0 {
		<-e.seen
	}
	e.held, e.release = substr, make(chan struct{})
	release := e.release
	var once sync.Once
	return func() {
		once.Do(func() {
			e.mu.Lock()
			e.held = ""
			e.mu.Unlock()
			close(release)
		})
	}
}

// waitSeen waits for a held request.
func (e *sigtermEnv) waitSeen(t *testing.T, out *bytes.Buffer) {
	t.Helper()
	select {
	case <-e.seen:
	case <-time.After(60 * time.Second):
		t.Fatalf("no held request within 60 s:\n%s", out)
	}
}

// workspace is one run's catalog, cache and layout directories, kept
// from the interrupted run to the next.
type workspace struct{ cat, cache, layout string }

func (e *sigtermEnv) workspace(t *testing.T) workspace {
	w := workspace{cat: t.TempDir(), cache: t.TempDir(), layout: filepath.Join(t.TempDir(), "layout")}
	buildtest.WriteDef(t, w.cat, "app.yaml", "name: app\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool, other]\n")
	buildtest.WriteDef(t, w.cat, "evil.yaml", "name: evil\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [evil]\n")
	return w
}

// start runs temper (this test binary as temper's main) in w.
func (e *sigtermEnv) start(t *testing.T, w workspace, env []string, args ...string) (*exec.Cmd, *bytes.Buffer, chan error) {
	full := append([]string{"--cache", w.cache, "--keyring", e.keyring, "--archive", e.f.Server.ArchiveURL(), "--security-archive", e.f.Server.SecurityURL()}, args...)
	cmd := exec.Command(os.Args[0], full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	home := t.TempDir()
	cmd.Env = append(append(os.Environ(), execMainEnv+"=1", "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache")), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return cmd, &out, done
}

// run runs temper to its end and fails the test when it fails.
func (e *sigtermEnv) run(t *testing.T, w workspace, args ...string) string {
	t.Helper()
	_, out, done := e.start(t, w, nil, args...)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("temper %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("temper %s did not end", strings.Join(args, " "))
	}
	return out.String()
}

// term sends SIGTERM and returns how long the process took to exit and
// whether it failed (an interrupted run must not exit 0 unless it had
// finished).
func sigterm(t *testing.T, cmd *exec.Cmd, out *bytes.Buffer, done chan error) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("still running 10 s after SIGTERM:\n%s", out)
	}
	return 0, nil
}

// temporaries lists the files under dirs whose names say they are
// temporary (".tmp-*", "*.tmp-*").
func temporaries(dirs ...string) []string {
	var out []string
	for _, d := range dirs {
		filepath.Walk(d, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && strings.Contains(fi.Name(), ".tmp-") {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// `temper lock` and `temper build` interrupted by SIGTERM (while an
// index or a .deb is downloading, inside an endless postinst, and at
// random points) exit within 2 s and leave nothing the next run must not
// see: the lock is absent or whole, and the next lock and build in the
// same catalog, cache and layout give the lock and the index of an
// uninterrupted run, with no temporary file left behind.
func TestSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts temper processes")
	}
	e := newSigtermEnv(t)

	// The uninterrupted runs every interrupted one is compared with.
	base := e.workspace(t)
	e.run(t, base, "lock", filepath.Join(base.cat, "app.yaml"), filepath.Join(base.cat, "evil.yaml"))
	e.run(t, base, "build", filepath.Join(base.cat, "app.yaml"), "-o", base.layout)
	e.run(t, base, "build", filepath.Join(base.cat, "evil.yaml"), "-o", base.layout)
	wantLock := map[string]string{}
	for _, n := range []string{"app", "evil"} {
		wantLock[n] = readFile(t, filepath.Join(base.cat, n+".lock.yaml"))
	}
	wantIndex := readFile(t, filepath.Join(base.layout, "index.json"))

	// check finishes an interrupted workspace: whatever the interrupted
	// run left, the next runs give the baseline's lock and index.
	check := func(t *testing.T, w workspace) {
		t.Helper()
		for _, n := range []string{"app", "evil"} {
			if b, err := os.ReadFile(filepath.Join(w.cat, n+".lock.yaml")); err == nil && string(b) != wantLock[n] {
				t.Errorf("the interrupted run left a partial or different %s.lock.yaml:\n%s", n, b)
			}
		}
		e.run(t, w, "lock", filepath.Join(w.cat, "app.yaml"), filepath.Join(w.cat, "evil.yaml"))
		e.run(t, w, "build", filepath.Join(w.cat, "app.yaml"), "-o", w.layout)
		e.run(t, w, "build", filepath.Join(w.cat, "evil.yaml"), "-o", w.layout)
		for _, n := range []string{"app", "evil"} {
			if got := readFile(t, filepath.Join(w.cat, n+".lock.yaml")); got != wantLock[n] {
				t.Errorf("%s.lock.yaml after the rerun differs from an uninterrupted run's", n)
			}
		}
		if got := readFile(t, filepath.Join(w.layout, "index.json")); got != wantIndex {
			t.Errorf("the layout's index.json after the rerun differs:\n%s\nwant\n%s", got, wantIndex)
		}
		if left := temporaries(w.cat, w.layout); len(left) > 0 {
			t.Errorf("temporary files left after the rerun: %v", left)
		}
	}
	// interrupted asserts a prompt, failed exit.
	interrupted := func(t *testing.T, took time.Duration, err error, out *bytes.Buffer) {
		t.Helper()
		if took > 2*time.Second {
			t.Errorf("exited %v after SIGTERM, want ≤ 2 s", took)
		}
		if err == nil {
			t.Errorf("exit 0 after SIGTERM in mid-run:\n%s", out)
		}
		t.Logf("exited %v after SIGTERM: %v", took, err)
	}

	t.Run("lock while an index downloads", func(t *testing.T) {
		w := e.workspace(t)
		release := e.hold("/binary-amd64/") // Packages, by hash or not
		defer release()
		cmd, out, done := e.start(t, w, nil, "lock", filepath.Join(w.cat, "app.yaml"), filepath.Join(w.cat, "evil.yaml"))
		e.waitSeen(t, out)
		took, err := sigterm(t, cmd, out, done)
		release()
		interrupted(t, took, err, out)
		check(t, w)
	})
	t.Run("build while a .deb downloads", func(t *testing.T) {
		w := e.workspace(t)
		for _, n := range []string{"app", "evil"} {
			os.WriteFile(filepath.Join(w.cat, n+".lock.yaml"), []byte(wantLock[n]), 0o644)
		}
		release := e.hold(".deb")
		defer release()
		cmd, out, done := e.start(t, w, nil, "build", filepath.Join(w.cat, "app.yaml"), "-o", w.layout)
		e.waitSeen(t, out)
		took, err := sigterm(t, cmd, out, done)
		release()
		interrupted(t, took, err, out)
		check(t, w)
	})
	t.Run("build inside an endless postinst", func(t *testing.T) {
		w := e.workspace(t)
		os.WriteFile(filepath.Join(w.cat, "evil.lock.yaml"), []byte(wantLock["evil"]), 0o644)
		// Budgets lifted: only SIGTERM ends this evaluation.
		cmd, out, done := e.start(t, w, []string{"TEMPER_LIMIT_SCRIPT_STEPS=1000000000000", "TEMPER_LIMIT_SCRIPT_TIME=1h"},
			"build", filepath.Join(w.cat, "evil.yaml"), "-o", w.layout)
		time.Sleep(3 * time.Second) // the fixture's .debs arrive in milliseconds
		select {
		case err := <-done:
			t.Fatalf("the endless postinst ended (%v):\n%s", err, out)
		default:
		}
		took, err := sigterm(t, cmd, out, done)
		interrupted(t, took, err, out)
		if _, err := os.Stat(filepath.Join(w.layout, "index.json")); err == nil {
			t.Error("the interrupted build wrote index.json")
		}
		check(t, w)
	})
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	t.Logf("random points from seed %d", seed)
	for i := 0; i < 4; i++ {
		delay := time.Duration(rng.Intn(400)) * time.Millisecond
		t.Run("lock and build at a random point", func(t *testing.T) {
			w := e.workspace(t)
			args := []string{"lock", filepath.Join(w.cat, "app.yaml"), filepath.Join(w.cat, "evil.yaml")}
			if i%2 == 1 {
				for _, n := range []string{"app", "evil"} {
					os.WriteFile(filepath.Join(w.cat, n+".lock.yaml"), []byte(wantLock[n]), 0o644)
				}
				args = []string{"build", filepath.Join(w.cat, "app.yaml"), "-o", w.layout}
			}
			cmd, out, done := e.start(t, w, nil, args...)
			time.Sleep(delay)
			took, err := sigterm(t, cmd, out, done)
			if took > 2*time.Second {
				t.Errorf("%s: exited %v after SIGTERM at %v, want ≤ 2 s", args[0], took, delay)
			}
			t.Logf("%s: SIGTERM at %v, exited %v later: %v", args[0], delay, took, err)
			check(t, w)
		})
	}
}
