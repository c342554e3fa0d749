package release

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/temper-dev/temper/internal/store"
)

// BenchmarkStatus is `temper status` over 300 streams with 50 releases
// each on SQLite (open the state file, read, build the rows; printing is
// left out). Target: ≤ 0.2 s per run.
func BenchmarkStatus(b *testing.B) {
	ctx := context.Background()
	state := filepath.Join(b.TempDir(), "state.db")
	seed(b, state, 300, 50)
	b.ResetTimer()
	for b.Loop() {
		st, err := store.Open(ctx, state)
		if err != nil {
			b.Fatal(err)
		}
		svc := &Service{Store: st, Tags: newMemTags()}
		rows, err := svc.Status(ctx)
		if err != nil || len(rows) != 300 {
			b.Fatalf("%d rows, %v", len(rows), err)
		}
		st.Close()
	}
}

// seed publishes releases releases for each of streams streams, every
// 12 hours, and moves each stream's older ones through staging and
// production.
func seed(b *testing.B, state string, streams, releases int) {
	ctx := context.Background()
	st, err := store.Open(ctx, state)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c := newClock()
	svc := &Service{Store: st, Tags: newMemTags(), Now: c.now}
	start := time.Now()
	for r := range releases {
		for s := range streams {
			name := fmt.Sprintf("image%03d:1.%d-bookworm", s, s)
			key := fmt.Sprintf("%d/%d", s, r)
			p, err := svc.Publish(ctx, Candidate{Stream: store.Stream{Name: name, EOL: "2028-06-30"}, Digest: digestOf(key), BuildKey: key,
				Tests: passed("full"), Gate: store.Result{Passed: true}, Scan: store.Result{Passed: true, Counts: map[string]int{"low": r % 3}}})
			if err != nil {
				b.Fatal(err)
			}
			if r%7 == 6 {
				if _, err := svc.Promote(ctx, name, "staging", PromoteOptions{}); err != nil {
					b.Fatal(err)
				}
				if err := st.Move(ctx, store.Move{Stream: name, Channel: "production", ReleaseID: p.Release.ID, Kind: store.KindPromote, At: c.now()}, 0); err != nil {
					b.Fatal(err)
				}
			}
		}
		c.add(12 * time.Hour)
	}
	b.Logf("seeded %d streams × %d releases in %s", streams, releases, time.Since(start).Round(time.Millisecond))
}

// BenchmarkPromote300 promotes 300 streams to production on a loopback
// registry (go-containerregistry's in-memory registry over HTTP): each
// promotion reads the rules from SQLite, retags a digest and records the
// move. Target: ≤ 10 s for the 300.
func BenchmarkPromote300(b *testing.B) {
	ctx := context.Background()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	tags := RemoteTags{Prefix: strings.TrimPrefix(srv.URL, "http://") + "/temper"}
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		st, err := store.Open(ctx, filepath.Join(b.TempDir(), "state.db"))
		if err != nil {
			b.Fatal(err)
		}
		c := newClock()
		svc := &Service{Store: st, Tags: tags, Now: c.now}
		var names []string
		for s := range 300 {
			idx, err := random.Index(16, 1, 1)
			if err != nil {
				b.Fatal(err)
			}
			d, _ := idx.Digest()
			name := fmt.Sprintf("image%03d:%d", s, i)
			names = append(names, name)
			if _, err := svc.Publish(ctx, Candidate{Stream: store.Stream{Name: name}, Index: idx, Digest: d.String(), BuildKey: d.String(),
				Tests: passed("essential"), Gate: store.Result{Passed: true}}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := svc.Snapshot(ctx, nil, passAll("full")); err != nil {
			b.Fatal(err)
		}
		c.add(8 * 24 * time.Hour)
		b.StartTimer()
		for _, n := range names {
			if _, err := svc.Promote(ctx, n, "production", PromoteOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
}
