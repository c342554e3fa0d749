package store_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

func tagFor(day string) func(int) string {
	return func(n int) string { return fmt.Sprintf("3.11-bookworm-%s.%d", day, n) }
}

func publish(t *testing.T, s store.Store, stream, key, day string) store.Release {
	t.Helper()
	ctx := context.Background()
	r, _, err := s.ReserveRelease(ctx, store.Release{Stream: stream, Day: day, Digest: "sha256:" + key, BuildKey: key,
		CVEsFixed: []store.CVE{{ID: "CVE-2026-0001", Source: "openssl"}}, Built: t0}, tagFor(day))
	if err != nil {
		t.Fatal(err)
	}
	r, err = s.ConfirmRelease(ctx, r.ID, t0, store.Move{Stream: stream, Channel: "testing", Kind: store.KindPublish, At: t0})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReleaseLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s := b.Store
		if err := s.PutStream(ctx, store.Stream{Name: "python:3.11-bookworm", Definition: "python/3.11.yaml", EOL: "2028-06-30"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stream(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown stream: %v", err)
		}
		r1 := publish(t, s, "python:3.11-bookworm", "k1", "20261129")
		if r1.Tag != "3.11-bookworm-20261129.1" || r1.State != store.Published || !r1.Published.Equal(t0) || !r1.Built.Equal(t0) {
			t.Fatalf("r1 = %+v", r1)
		}
		if len(r1.CVEsFixed) != 1 || r1.CVEsFixed[0].Source != "openssl" {
			t.Fatalf("CVEs = %+v", r1.CVEsFixed)
		}
		r2 := publish(t, s, "python:3.11-bookworm", "k2", "20261129")
		if r2.Tag != "3.11-bookworm-20261129.2" {
			t.Fatalf("second release of the day: %s", r2.Tag)
		}
		if err := s.Move(ctx, store.Move{Stream: "python:3.11-bookworm", Channel: "staging", ReleaseID: r2.ID, From: "testing", Kind: store.KindPromote, At: t0.Add(time.Hour)}, 0); err != nil {
			t.Fatal(err)
		}
		if err := s.Move(ctx, store.Move{Stream: "python:3.11-bookworm", Channel: "staging", ReleaseID: r1.ID, Kind: store.KindRollback, Reason: "broke", At: t0.Add(2 * time.Hour)}, r2.ID); err != nil {
			t.Fatal(err)
		}
		heads, err := s.Heads(ctx, "python:3.11-bookworm")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, h := range heads {
			got[h.Channel] = h.Release.Tag
		}
		if got["testing"] != r2.Tag || got["staging"] != r1.Tag {
			t.Fatalf("heads = %v", got)
		}
		r2, _ = s.ReleaseByID(ctx, r2.ID)
		if r2.RolledBack.IsZero() || r2.RollbackReason != "broke" {
			t.Fatalf("r2 not marked rolled back: %+v", r2)
		}
		moves, err := s.Moves(ctx, "python:3.11-bookworm")
		if err != nil || len(moves) != 4 || moves[3].Kind != store.KindRollback || moves[3].Tag != r1.Tag {
			t.Fatalf("moves = %+v, %v", moves, err)
		}
		snap, err := s.RecordSnapshot(ctx, store.Snapshot{At: t0, Results: []store.SnapshotResult{{Stream: "python:3.11-bookworm", ReleaseID: r1.ID, Passed: true, Summary: "12 tests"}}})
		if err != nil {
			t.Fatal(err)
		}
		r1, _ = s.ReleaseByID(ctx, r1.ID)
		if !r1.Tests.Passed || r1.Tests.Suite != "full" {
			t.Fatalf("snapshot did not record full tests: %+v", r1.Tests)
		}
		snaps, err := s.Snapshots(ctx, 5)
		if err != nil || len(snaps) != 1 || snaps[0].ID != snap.ID || len(snaps[0].Results) != 1 || snaps[0].Results[0].Tag != r1.Tag {
			t.Fatalf("snapshots = %+v, %v", snaps, err)
		}
		if err := s.Freeze(ctx, "python:3.11-bookworm", t0); err != nil {
			t.Fatal(err)
		}
		ov, err := s.Overview(ctx)
		if err != nil || len(ov) != 1 || ov[0].Newest.ID != r2.ID || len(ov[0].Heads) != 2 || !ov[0].Stream.FrozenAt.Equal(t0) {
			t.Fatalf("overview = %+v, %v", ov, err)
		}
	})
}

// Publishing the same build key twice makes one release.
func TestReserveIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s := b.Store
		must(t, s.PutStream(ctx, store.Stream{Name: "a:1"}))
		r := store.Release{Stream: "a:1", Day: "20261129", Digest: "sha256:x", BuildKey: "key"}
		first, created, err := s.ReserveRelease(ctx, r, tagFor("20261129"))
		if err != nil || !created {
			t.Fatalf("first: %v %v", created, err)
		}
		again, created, err := s.ReserveRelease(ctx, r, tagFor("20261129"))
		if err != nil || created || again.ID != first.ID || again.Tag != first.Tag {
			t.Fatalf("again: %+v %v %v", again, created, err)
		}
	})
}

// N counts each day's releases from 1, also when writers race.
func TestNPerDayConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s := b.Store
		must(t, s.PutStream(ctx, store.Stream{Name: "a:1"}))
		var mu sync.Mutex
		var tags []string
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				// Two writers per build key: one release each.
				r, _, err := s.ReserveRelease(ctx, store.Release{Stream: "a:1", Day: "20261129", Digest: "d", BuildKey: fmt.Sprint(i / 2)}, tagFor("20261129"))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				tags = append(tags, r.Tag)
				mu.Unlock()
			})
		}
		wg.Wait()
		rels, err := s.Releases(ctx, "a:1")
		must(t, err)
		var got []string
		for _, r := range rels {
			got = append(got, r.Tag)
		}
		sort.Strings(got)
		want := []string{"3.11-bookworm-20261129.1", "3.11-bookworm-20261129.2", "3.11-bookworm-20261129.3", "3.11-bookworm-20261129.4"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("releases %v, want %v", got, want)
		}
		next, _, err := s.ReserveRelease(ctx, store.Release{Stream: "a:1", Day: "20261130", Digest: "d", BuildKey: "next day"}, tagFor("20261130"))
		if err != nil || next.N != 1 {
			t.Fatalf("next day: %+v %v", next, err)
		}
	})
}

// Reopening applies no migration twice.
func TestMigrationsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		must(t, b.Store.PutStream(ctx, store.Stream{Name: "a:1"}))
		s2, err := store.Open(ctx, b.State)
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		if _, err := s2.Stream(ctx, "a:1"); err != nil {
			t.Fatal(err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
