package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/store/storetest"
)

func TestTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		tk, err := store.AsTokens(b.Store)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := tk.CreateToken(ctx, "root", "", t0); err == nil {
			t.Fatal("role root accepted")
		}
		secret, tok, err := tk.CreateToken(ctx, store.RoleRead, "ci", t0)
		if err != nil || !strings.HasPrefix(secret, store.TokenPrefix) || len(secret) != len(store.TokenPrefix)+64 {
			t.Fatalf("create: %q %+v %v", secret, tok, err)
		}
		got, err := tk.TokenBySecret(ctx, secret)
		if err != nil || got.ID != tok.ID || got.Role != store.RoleRead || !got.RevokedAt.IsZero() {
			t.Fatalf("by secret: %+v %v", got, err)
		}
		if _, err := tk.TokenBySecret(ctx, secret+"x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("wrong secret: %v", err)
		}
		if err := tk.RevokeToken(ctx, tok.ID, t0); err != nil {
			t.Fatal(err)
		}
		if err := tk.RevokeToken(ctx, 999, t0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoke unknown: %v", err)
		}
		got, _ = tk.TokenBySecret(ctx, secret)
		if !got.RevokedAt.Equal(t0) {
			t.Fatalf("revoked token: %+v", got)
		}
		list, err := tk.ListTokens(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %+v %v", list, err)
		}
		// No table keeps the secret itself.
		db, _, _ := store.DB(b.Store)
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE hash = '`+secret+`'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("secret stored in clear: %d %v", n, err)
		}
	})
}
