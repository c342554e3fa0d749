package resolve_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/resolve"
)

// countingLoader counts loads per key and holds each load until release
// is closed, so that every caller is waiting while the first one loads.
type countingLoader struct {
	release chan struct{}
	err     error
	mu      sync.Mutex
	loads   map[string]int
}

func (l *countingLoader) LoadReleaseComponents(ctx context.Context, name, arch string, components []string) (*archive.Release, error) {
	l.mu.Lock()
	l.loads[name+"/"+arch+"/"+strings.Join(components, ",")]++
	l.mu.Unlock()
	<-l.release
	if l.err != nil {
		return nil, l.err
	}
	return &archive.Release{Name: name, Arch: arch}, nil
}

func TestLoadOnceLoadsEachReleaseOnce(t *testing.T) {
	l := &countingLoader{release: make(chan struct{}), loads: map[string]int{}}
	rels := resolve.LoadOnce(l)
	archs := []string{"amd64", "arm64"}
	const n = 32
	us := make([]*resolve.Universe, n)
	errs := make([]error, n)
	var started, wg sync.WaitGroup
	for i := range n {
		started.Add(1)
		wg.Go(func() {
			started.Done()
			us[i], errs[i] = rels.Universe(context.Background(), "bookworm", []string{"main"}, archs[i%2])
		})
	}
	// Every caller is on its way before the first load may finish.
	started.Wait()
	close(l.release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	for i, u := range us {
		if u != us[i%2] {
			t.Errorf("caller %d got another universe than caller %d: each key must be loaded once and shared", i, i%2)
		}
	}
	if us[0] == us[1] || us[0].Arch() != "amd64" || us[1].Arch() != "arm64" {
		t.Errorf("architectures mixed up: %s, %s", us[0].Arch(), us[1].Arch())
	}
	// Other components are another release to load.
	if _, err := rels.Universe(context.Background(), "bookworm", []string{"main", "contrib"}, "amd64"); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"bookworm/amd64/main": 1, "bookworm/arm64/main": 1, "bookworm/amd64/main,contrib": 1}
	if len(l.loads) != len(want) {
		t.Errorf("loads = %v, want %v", l.loads, want)
	}
	for k, n := range want {
		if l.loads[k] != n {
			t.Errorf("loads[%s] = %d, want %d (all: %v)", k, l.loads[k], n, l.loads)
		}
	}
}

func TestLoadOnceGivesTheErrorToEveryCaller(t *testing.T) {
	boom := errors.New("InRelease: bad signature")
	l := &countingLoader{release: make(chan struct{}), err: boom, loads: map[string]int{}}
	rels := resolve.LoadOnce(l)
	var wg sync.WaitGroup
	var failed atomic.Int32
	const n = 16
	for range n {
		wg.Go(func() {
			u, err := rels.Universe(context.Background(), "bookworm", nil, "amd64")
			if u == nil && errors.Is(err, boom) {
				failed.Add(1)
			}
		})
	}
	close(l.release)
	wg.Wait()
	if got := failed.Load(); got != n {
		t.Errorf("%d of %d callers got the load's error", got, n)
	}
	// A failed load is remembered, not retried.
	if _, err := rels.Universe(context.Background(), "bookworm", nil, "amd64"); !errors.Is(err, boom) {
		t.Errorf("later caller: err = %v, want %v", err, boom)
	}
	if l.loads["bookworm/amd64/"] != 1 {
		t.Errorf("loads = %v, want one", l.loads)
	}
}

func TestReleasesFunc(t *testing.T) {
	want := resolve.NewUniverse(&archive.Release{Name: "bookworm", Arch: "amd64"})
	var rels resolve.Releases = resolve.ReleasesFunc(func(_ context.Context, release string, _ []string, arch string) (*resolve.Universe, error) {
		if release != "bookworm" || arch != "amd64" {
			return nil, errors.New("no such release")
		}
		return want, nil
	})
	if u, err := rels.Universe(context.Background(), "bookworm", nil, "amd64"); u != want || err != nil {
		t.Errorf("Universe = %v, %v", u, err)
	}
}
