package pipeline_test

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
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
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/pipeline"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/store/storetest"
	"github.com/temper-dev/temper/internal/testrun"
)

const toolDef = `name: %s
version: "1"
debian:
  release: bookworm
architectures: [amd64]
packages: [tool]
image:
  entrypoint: [/usr/bin/tool]
variants:
  dev:
    packages: [other]
    shell: true
`

// publishEnv: the build fixture archive, a catalog directory, an
// in-memory registry and a SQLite store.
type publishEnv struct {
	t    *testing.T
	dir  string
	host string
	st   store.Store
	p    *pipeline.Publisher
	now  time.Time
}

func newPublishEnv(t *testing.T, defs map[string]string) *publishEnv {
	f := buildtest.NewFixture(t)
	e := &publishEnv{t: t, dir: t.TempDir(), now: time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)}
	for file, body := range defs {
		buildtest.WriteDef(t, e.dir, file, body)
	}
	cacheDir := t.TempDir()
	outs, err := lock.Run(context.Background(), []string{e.dir}, lock.Options{Client: f.Client(cacheDir)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
	}
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	e.host = strings.TrimPrefix(reg.URL, "http://")
	e.st = storetest.SQLite(t).Store
	c, err := cache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return e.now }
	svc := &release.Service{Store: e.st, Tags: release.RemoteTags{Prefix: e.host + "/temper"}, Now: clock}
	e.p = &pipeline.Publisher{Svc: svc, Build: build.Options{Fetcher: f.Fetcher(cacheDir), Output: filepath.Join(t.TempDir(), "store")},
		Gate: pipeline.NewGate(c, nil, nil, "hermetic test: no vulnerability data", false, e.now), Now: clock, Warn: io.Discard}
	return e
}

// tag is the digest a registry tag names ("" when none).
func (e *publishEnv) tag(repo, tag string) string {
	r, err := name.NewRepository(e.host + "/temper/" + repo)
	if err != nil {
		e.t.Fatal(err)
	}
	d, err := remote.Head(r.Tag(tag))
	if err != nil {
		return ""
	}
	return d.Digest.String()
}

// A definition with a dev variant is published as two streams in one
// step: tool:1 (1-20260105.1, 1-testing) and tool:1-dev (1-dev-20260105.1,
// 1-dev-testing), each its own image; the weekly snapshot tests each
// against its own definition and promotes both.
func TestPublishVariantsWithTheStream(t *testing.T) {
	e := newPublishEnv(t, map[string]string{"tool.yaml": strings.ReplaceAll(toolDef, "%s", "tool")})
	ctx := context.Background()
	file := filepath.Join(e.dir, "tool.yaml")
	o, err := e.p.One(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	if o.Stream != "tool:1" || len(o.Variants) != 1 || o.Variants[0].Stream != "tool:1-dev" || o.Variants[0].Variant != "dev" {
		t.Fatalf("outcome %+v", o)
	}
	rt, dev := o.Published.Release, o.Variants[0].Published.Release
	if !o.Published.Created || !o.Variants[0].Published.Created || rt.Tag != "1-20260105.1" || dev.Tag != "1-dev-20260105.1" {
		t.Fatalf("releases %s %s", rt.Tag, dev.Tag)
	}
	if rt.Digest == dev.Digest {
		t.Fatal("the variant was published as the runtime's image")
	}
	for tag, want := range map[string]string{"1-20260105.1": rt.Digest, "1-testing": rt.Digest, "1-dev-20260105.1": dev.Digest, "1-dev-testing": dev.Digest} {
		if got := e.tag("tool", tag); got != want {
			t.Errorf("tool:%s = %q, want %s", tag, got, want)
		}
	}
	if !strings.Contains(dev.Lock, "name: other") || strings.Contains(rt.Lock, "name: other") {
		t.Error("the releases do not keep their own locks")
	}

	// Published again: both already released, nothing built.
	again, err := e.p.One(ctx, file)
	if err != nil || again.Already == nil || again.Variants[0].Already == nil || again.Variants[0].Already.Tag != dev.Tag {
		t.Fatalf("again: %+v %v", again, err)
	}

	// The snapshot runs each stream's own tests (the variant's definition
	// for the variant's stream) and promotes both into staging.
	e.now = e.now.Add(24 * time.Hour)
	run, err := e.p.Svc.Snapshot(ctx, nil, pipeline.ReleaseTests(e.p.Svc, testrun.Options{}, "full"))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Promoted) != 2 || len(run.Refused) != 0 {
		t.Fatalf("snapshot: %+v", run)
	}
	if e.tag("tool", "1-staging") != rt.Digest || e.tag("tool", "1-dev-staging") != dev.Digest {
		t.Error("staging tags")
	}
	// The runner the snapshot used, on the variant's release: its tests
	// are the variant's definition's.
	res, err := pipeline.ReleaseTests(e.p.Svc, testrun.Options{}, "full")(ctx, "tool:1-dev", dev)
	var rep struct{ Image string }
	if err != nil || !res.Passed || json.Unmarshal(res.Detail, &rep) != nil || rep.Image != "tool:1-dev" {
		t.Errorf("the variant's full tests: %+v %v, ran as %q, want its own definition", res, err, rep.Image)
	}
}

// A variant whose tests fail holds its runtime back: neither is pushed,
// both streams record why.
func TestPublishRefusedVariantHoldsTheStream(t *testing.T) {
	body := strings.ReplaceAll(toolDef, "%s", "held") + "    tests:\n      - name: headers\n        path: {path: /usr/include/nothing.h}\n"
	e := newPublishEnv(t, map[string]string{"held.yaml": body})
	ctx := context.Background()
	_, err := e.p.One(ctx, filepath.Join(e.dir, "held.yaml"))
	if err == nil || !strings.Contains(err.Error(), "held:1-dev") {
		t.Fatalf("error %v, want the variant's refusal", err)
	}
	for _, s := range []string{"held:1", "held:1-dev"} {
		if rels, _ := e.st.Releases(ctx, s); len(rels) != 0 {
			t.Errorf("%s: %d releases", s, len(rels))
		}
	}
	if e.tag("held", "1-testing") != "" || e.tag("held", "1-dev-testing") != "" {
		t.Error("a channel tag was pushed")
	}
	fs, _ := e.st.Failures(ctx, "held:1")
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "published only together with held:1-dev") {
		t.Errorf("runtime failures %+v", fs)
	}
	if fs, _ := e.st.Failures(ctx, "held:1-dev"); len(fs) != 1 || fs[0].Step != "tests" {
		t.Errorf("variant failures %+v", fs)
	}
}
