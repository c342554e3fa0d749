package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
)

// TestReleaseCommands drives promote, status, history and rollback
// against the default local image store and a SQLite state file, with
// releases published through internal/release (publish is not a command
// yet).
func TestReleaseCommands(t *testing.T) {
	e := releaseFixture(t)
	ctx, state, clock, svc, tags := e.ctx, e.state, e.clock, e.svc, e.tags
	py := store.Stream{Name: "python:3.11-bookworm", Definition: "catalog/python/3.11-bookworm.yaml", EOL: "2028-06-30"}
	publish := func() store.Release { return publishRandom(t, svc, py) }
	r1 := publish()
	full := func(context.Context, string, store.Release) (store.Result, error) {
		return store.Result{Passed: true, Suite: "full"}, nil
	}
	if _, err := svc.Snapshot(ctx, nil, full); err != nil {
		t.Fatal(err)
	}

	run := func(args ...string) (string, error) {
		g := defaultGlobals()
		g.now = clock
		root := newRootCommand(g)
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(append(args, "--state", state))
		err := root.ExecuteContext(ctx)
		return out.String(), err
	}
	out, err := run("promote", py.Name, "--to", "production")
	var es exitStatus
	if !errors.As(err, &es) || !strings.Contains(out, "rule soak") || !strings.Contains(out, "eligible 2026-12-06 10:00 UTC") {
		t.Fatalf("promote before the soak: %v\n%s", err, out)
	}
	e.now = e.now.Add(8 * 24 * time.Hour)
	if out, err = run("promote", "catalog", "--to", "production"); err != nil || !strings.Contains(out, r1.Tag+" → production") {
		t.Fatalf("promote: %v\n%s", err, out)
	}
	if got, _ := tags.Get(ctx, "python", "3.11-bookworm"); got != r1.Digest {
		t.Fatalf("production tag = %s, want %s", got, r1.Digest)
	}

	r2 := publish()
	if out, err = run("status"); err != nil || !strings.Contains(out, "PRODUCTION") || !strings.Contains(out, r2.Tag+" (0m)") {
		t.Fatalf("status: %v\n%s", err, out)
	}
	t.Log(out)
	if err := tags.Put(ctx, "python", "3.11-bookworm", r2.Digest); err != nil {
		t.Fatal(err)
	}
	if out, err = run("status", "--repair"); err != nil || !strings.Contains(out, "repaired python:3.11-bookworm:") {
		t.Fatalf("status --repair: %v\n%s", err, out)
	}
	if got, _ := tags.Get(ctx, "python", "3.11-bookworm"); got != r1.Digest {
		t.Fatalf("production tag not repaired: %s", got)
	}
	if out, err = run("rollback", py.Name, "--channel", "testing", "--reason", "crashes"); err != nil || !strings.Contains(out, r1.Tag+" → testing (rollback: crashes)") {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	out, err = run("status", "--json")
	var rows []release.StreamStatus
	if err != nil || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 || len(rows[0].Channels) != 3 {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if out, err = run("history", py.Name); err != nil || !strings.Contains(out, "rolled back: crashes") || !strings.Contains(out, "promote") {
		t.Fatalf("history: %v\n%s", err, out)
	}
	t.Log(out)
}

// temper rollback moves a runtime and its variant back together,
// printing one line per member (docs/variants.md).
func TestReleaseCommandsMoveVariantsTogether(t *testing.T) {
	e := releaseFixture(t)
	ctx, state, clock, svc, st, tags := e.ctx, e.state, e.clock, e.svc, e.st, e.tags
	rt := store.Stream{Name: "python:3.11-bookworm", Definition: "catalog/python/3.11-bookworm.yaml", EOL: "2028-06-30"}
	dev := store.Stream{Name: "python:3.11-bookworm-dev", Definition: rt.Definition, EOL: rt.EOL}
	publish := func(s store.Stream) store.Release { return publishRandom(t, svc, s) }
	r1, d1 := publish(rt), publish(dev)
	r2, d2 := publish(rt), publish(dev)
	runRollback := func(args ...string) (string, error) {
		g := defaultGlobals()
		g.now = clock
		root := newRootCommand(g)
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(append(args, "--state", state))
		err := root.ExecuteContext(ctx)
		return out.String(), err
	}
	// Named by the variant: the runtime goes back with it.
	out, err := runRollback("rollback", dev.Name, "--channel", "testing", "--reason", "headers broken")
	if err != nil || !strings.Contains(out, rt.Name+": "+r1.Tag+" → testing (rollback: headers broken (with "+dev.Name+"))") ||
		!strings.Contains(out, dev.Name+": "+d1.Tag+" → testing (rollback: headers broken)") {
		t.Fatalf("rollback: %v\n%s", err, out)
	}
	for _, r := range []store.Release{r2, d2} {
		got, _ := st.ReleaseByID(ctx, r.ID)
		if got.RolledBack.IsZero() {
			t.Fatalf("%s %s not marked rolled back", r.Stream, r.Tag)
		}
	}
	if got, _ := tags.Get(ctx, "python", "3.11-bookworm-dev-testing"); got != d1.Digest {
		t.Fatalf("dev testing tag = %s, want %s", got, d1.Digest)
	}
}

type kevOnly map[string]bool

func (k kevOnly) KEV(id string) bool             { return k[id] }
func (kevOnly) Urgency(id, source string) string { return "" }

// temper fast-track naming both members of a group moves the group once,
// printing each member's moves.
func TestFastTrackAllMovesGroupOnce(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tags := release.LayoutTags{Dir: t.TempDir()}
	svc := &release.Service{Store: st, Tags: tags, Now: func() time.Time { return now }, Vulns: kevOnly{"CVE-2026-0001": true}}
	rt := store.Stream{Name: "python:3.11-bookworm", Definition: "python.yaml", EOL: "2028-06-30"}
	dev := store.Stream{Name: "python:3.11-bookworm-dev", Definition: "python.yaml", EOL: "2028-06-30"}
	for _, s := range []store.Stream{rt, dev} {
		publishRandom(t, svc, s, store.CVE{ID: "CVE-2026-0001", Source: "openssl"})
	}
	var out bytes.Buffer
	if err := fastTrackAll(ctx, &out, svc, []string{dev.Name, rt.Name}, "", nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{rt.Name + ": 3.11-bookworm-20261129.1 → production", dev.Name + ": 3.11-bookworm-dev-20261129.1 → production"} {
		if strings.Count(out.String(), want) != 1 {
			t.Fatalf("want %q once:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "already in every channel") || strings.Count(out.String(), "\n") != 4 {
		t.Fatalf("the group was fast-tracked twice:\n%s", out.String())
	}
}

// releaseEnv is a release service over a SQLite state file (state, for
// the commands' --state) and the default local image store (tags, under
// a temporary XDG_DATA_HOME), at a clock the test moves (now).
type releaseEnv struct {
	ctx   context.Context
	state string
	now   time.Time
	st    store.Store
	tags  release.LayoutTags
	svc   *release.Service
}

func releaseFixture(t *testing.T) *releaseEnv {
	t.Helper()
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	e := &releaseEnv{ctx: context.Background(), state: filepath.Join(t.TempDir(), "state.db"), now: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
	var err error
	if e.st, err = store.Open(e.ctx, e.state); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	dir, _ := build.DefaultStore()
	e.tags = release.LayoutTags{Dir: dir}
	e.svc = &release.Service{Store: e.st, Tags: e.tags, Now: e.clock}
	return e
}

func (e *releaseEnv) clock() time.Time { return e.now }

// publishRandom publishes a random one-image index for s, its tests and
// gate passed, fixing the CVEs given.
func publishRandom(t *testing.T, svc *release.Service, s store.Stream, fixed ...store.CVE) store.Release {
	t.Helper()
	idx, err := random.Index(32, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	p, err := svc.Publish(context.Background(), release.Candidate{Stream: s, Index: idx, Digest: d.String(), BuildKey: d.String(),
		Tests: store.Result{Passed: true}, Gate: store.Result{Passed: true}, CVEsFixed: fixed})
	if err != nil {
		t.Fatal(err)
	}
	return p.Release
}
