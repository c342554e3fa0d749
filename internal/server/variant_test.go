package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/store"
)

// toolDevYAML is tool with a dev variant whose one extra package (other)
// the runtime does not have: an archive change to it moves the variant's
// lock alone.
const toolDevYAML = toolYAML + "variants:\n  dev:\n    packages: [other]\n    shell: true\n"

func (e *env) postCheck() {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/check", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+e.admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		e.t.Fatalf("POST /api/v1/check: %s", resp.Status)
	}
}

// waitStream waits for n published releases of stream.
func (e *env) waitStream(stream string, n int, within time.Duration) []store.Release {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if rels := e.releasesOf(stream); len(rels) >= n && rels[0].State == store.Published {
			return rels
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("%s: no release %d within %v; logs:\n%s", stream, n, within, e.logs.String())
	return nil
}

func (e *env) setExtra(pkgs ...testarchive.Package) {
	e.f.Extra = pkgs
	for p, data := range e.f.Archive().Files(e.t) {
		e.f.Server.SetFile(p, data)
	}
}

// A stream with a dev variant (docs/variants.md): an archive change that
// moves only the variant's lock is committed (the variant's lock, in one
// commit whose message lists its changes) and published as the variant's
// next release, the runtime's untouched; and a variant lock changed
// outside the service (the runtime's build key released, the variant's
// not) is published by the next check.
func TestServeVariantLocks(t *testing.T) {
	e := startDef(t, "1000h", toolDevYAML, nil) // checks: on start, then by the API
	e.waitStream("tool:1", 1, 30*time.Second)
	e.waitStream("tool:1-dev", 1, 30*time.Second)

	// other 2.1 in -security: only the variant has it.
	e.setExtra(buildtest.DebPkg(t, "other", "2.1", "libc6", debtest.File{Path: "./usr/bin/other", Mode: 0o755, Data: []byte("other 2.1")}))
	head := git(t, e.dir, "rev-parse", "HEAD")
	e.postCheck()
	dev := e.waitStream("tool:1-dev", 2, 30*time.Second)
	if n := len(e.releasesOf("tool:1")); n != 1 {
		t.Fatalf("the runtime's lock did not change, yet tool:1 has %d releases", n)
	}
	if git(t, e.dir, "rev-parse", "HEAD") == head {
		t.Fatalf("no lock commit; logs:\n%s", e.logs.String())
	}
	files := git(t, e.dir, "show", "--name-only", "--format=", "HEAD")
	if strings.TrimSpace(files) != "tool.dev.lock.yaml" {
		t.Errorf("lock commit holds %q, want the variant's lock", files)
	}
	msg := git(t, e.dir, "log", "-1", "--format=%an%n%B")
	for _, want := range []string{"temper-bot", "tool.dev.lock.yaml", "other 2.0 → 2.1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("lock commit lacks %q:\n%s", want, msg)
		}
	}
	if st := git(t, e.dir, "status", "--porcelain"); st != "" {
		t.Errorf("work tree not clean after the commit:\n%s", st)
	}

	// A person relocks with other 2.2 and commits: the check finds the
	// locks current and the runtime's build key released, but not the
	// variant's, and publishes it.
	e.setExtra(buildtest.DebPkg(t, "other", "2.2", "libc6", debtest.File{Path: "./usr/bin/other", Mode: 0o755, Data: []byte("other 2.2")}))
	outs, err := lock.Run(context.Background(), []string{e.dir}, lock.Options{Client: e.f.Client(e.cacheDir)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil || o.Changed != (o.Variant == "dev") {
			t.Fatalf("relock: %+v (want only the variant's lock changed)", o)
		}
	}
	git(t, e.dir, "commit", "-q", "-m", "other 2.2", "--", "tool.dev.lock.yaml")
	e.postCheck()
	dev2 := e.waitStream("tool:1-dev", 3, 30*time.Second)
	if dev2[0].BuildKey == dev[0].BuildKey {
		t.Fatalf("third dev release has the second's build key")
	}
	if n := len(e.releasesOf("tool:1")); n != 1 {
		t.Fatalf("tool:1 has %d releases, want 1", n)
	}
}
