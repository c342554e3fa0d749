package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/store/storetest"
)

func TestChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		ck, err := store.AsChecks(b.Store)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := ck.LastChecks(ctx); err != nil || len(m) != 0 {
			t.Fatalf("empty: %v %v", m, err)
		}
		t1 := t0.Add(time.Hour)
		if err := ck.RecordCheck(ctx, "a:1", "updates", "", t0); err != nil {
			t.Fatal(err)
		}
		if err := ck.RecordLockCommit(ctx, "a:1", "0123abcd", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		// A later check replaces the verdict and keeps the commit.
		if err := ck.RecordCheck(ctx, "a:1", "blocked", "abi-risk: libfoo", t1); err != nil {
			t.Fatal(err)
		}
		// A commit before any check.
		if err := ck.RecordLockCommit(ctx, "b:2", "feedbeef", t1); err != nil {
			t.Fatal(err)
		}
		m, err := ck.LastChecks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		a := m["a:1"]
		if a.Verdict != "blocked" || a.Detail != "abi-risk: libfoo" || !a.CheckedAt.Equal(t1) || a.LockCommit != "0123abcd" || !a.LockCommittedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("a:1 = %+v", a)
		}
		bb := m["b:2"]
		if bb.Verdict != "" || !bb.CheckedAt.IsZero() || bb.LockCommit != "feedbeef" || len(m) != 2 {
			t.Errorf("b:2 = %+v (%d rows)", bb, len(m))
		}
	})
}
