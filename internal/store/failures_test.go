package store_test

import (
	"context"
	"testing"

	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/store/storetest"
)

func TestLockTextAndFailures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		s := b.Store
		if err := s.PutStream(ctx, store.Stream{Name: "base:bookworm"}); err != nil {
			t.Fatal(err)
		}
		r, _, err := s.ReserveRelease(ctx, store.Release{Stream: "base:bookworm", Day: "20261129", Digest: "sha256:aa", BuildKey: "k", Lock: "release: bookworm\n"}, tagFor("20261129"))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ReleaseByID(ctx, r.ID); got.Lock != "release: bookworm\n" {
			t.Fatalf("lock text = %q", got.Lock)
		}
		for _, step := range []string{"tests", "gate"} {
			if err := s.RecordFailure(ctx, store.Failure{Stream: "base:bookworm", BuildKey: "k", Step: step, Message: step + " failed", At: t0}); err != nil {
				t.Fatal(err)
			}
		}
		fs, err := s.Failures(ctx, "base:bookworm")
		if err != nil || len(fs) != 2 || fs[0].Step != "tests" || fs[1].Message != "gate failed" || !fs[1].At.Equal(t0) {
			t.Fatalf("failures = %+v, %v", fs, err)
		}
	})
}
