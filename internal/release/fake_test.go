package release

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/store/storetest"
)

// memTags is a registry in memory that counts writes and can fail them.
type memTags struct {
	mu     sync.Mutex
	tags   map[string]string
	pushes int
	puts   int
	// failPut, when set, fails Put of tags it returns true for.
	failPut func(tag string) bool
}

func newMemTags() *memTags { return &memTags{tags: map[string]string{}} }

func (m *memTags) Get(_ context.Context, repo, tag string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.tags[repo+":"+tag]
	if !ok {
		return "", fmt.Errorf("%s:%s: %w", repo, tag, ErrNoTag)
	}
	return d, nil
}

func (m *memTags) Put(_ context.Context, repo, tag, digest string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPut != nil && m.failPut(tag) {
		return fmt.Errorf("registry went away")
	}
	m.puts++
	m.tags[repo+":"+tag] = digest
	return nil
}

func (m *memTags) Push(_ context.Context, repo, tag string, idx v1.ImageIndex) error {
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pushes++
	m.tags[repo+":"+tag] = d.String()
	return nil
}

func (m *memTags) tag(ref string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tags[ref]
}

// clock is a fake clock tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time        { return c.t }
func (c *clock) add(d time.Duration)   { c.t = c.t.Add(d) }
func (c *clock) set(y, mo, d, h int)   { c.t = time.Date(y, time.Month(mo), d, h, 0, 0, 0, time.UTC) }
func newClock() *clock                 { c := &clock{}; c.set(2026, 11, 29, 10); return c }
func passed(suite string) store.Result { return store.Result{Passed: true, Suite: suite} }
func digestOf(key string) string {
	return fmt.Sprintf("sha256:%064x", len(key)*7919+int(key[len(key)-1]))
}
func stream(name string) store.Stream {
	return store.Stream{Name: name, Definition: name + ".yaml", EOL: "2028-06-30"}
}

type fixture struct {
	svc   *Service
	tags  *memTags
	clock *clock
}

// each runs f against a fresh service on every store back end.
func each(t *testing.T, f func(t *testing.T, fx *fixture)) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		c := newClock()
		tags := newMemTags()
		f(t, &fixture{svc: &Service{Store: b.Store, Tags: tags, Now: c.now}, tags: tags, clock: c})
	})
}

func (fx *fixture) publish(t *testing.T, st store.Stream, key string, cves ...store.CVE) Published {
	t.Helper()
	p, err := fx.svc.Publish(context.Background(), Candidate{Stream: st, Digest: digestOf(key), BuildKey: key,
		Tests: passed("essential"), Gate: store.Result{Passed: true}, CVEsFixed: cves, Built: fx.clock.now()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// passAll is a test runner whose suite always passes.
func passAll(suite string) TestRunner {
	return func(context.Context, string, store.Release) (store.Result, error) { return passed(suite), nil }
}
