package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/dashboard"
	"github.com/temper-dev/temper/internal/dashboard/dashtest"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
)

// bench is the 300 × 50 seed on SQLite, a release service over it and a
// read token.
type bench struct {
	svc    *release.Service
	secret string
}

func newBench(b *testing.B) *bench {
	b.Helper()
	state, _ := seededState(b)
	ctx := context.Background()
	st, err := store.Open(ctx, state)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	tk, _ := store.AsTokens(st)
	secret, _, err := tk.CreateToken(ctx, store.RoleRead, "bench", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return &bench{svc: &release.Service{Store: st}, secret: secret}
}

// dashboard mounts a fresh dashboard (an empty history cache) and logs
// in; it returns the mux and the session cookie.
func (bb *bench) dashboard(b *testing.B) (http.Handler, *http.Cookie) {
	b.Helper()
	mux := http.NewServeMux()
	if err := dashboard.Mount(func(p string, h http.Handler) { mux.Handle(p, h) }, dashboard.Config{Service: bb.svc}); err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	login := rec.Result().Cookies()[0]
	body := rec.Body.String()
	_, rest, _ := strings.Cut(body, `name="csrf" value="`)
	csrf, _, _ := strings.Cut(rest, `"`)
	req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"token": {bb.secret}, "csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(login)
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.Name == dashboard.SessionCookie {
			return mux, c
		}
	}
	b.Fatalf("login: %d", rec.Code)
	return nil, nil
}

func get(b *testing.B, h http.Handler, c *http.Cookie, path string) int {
	req := httptest.NewRequest("GET", path, nil)
	req.AddCookie(c)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("GET %s: %d", path, rec.Code)
	}
	return rec.Body.Len()
}

// BenchmarkPages renders each page of the 300 streams × 50 releases
// seed (server time: handler to the last byte, no network), against the
// baseline of the same run: the store read behind `temper status`
// (release.Service.Status). Target: every page ≤ 50 ms.
func BenchmarkPages(b *testing.B) {
	bb := newBench(b)
	ctx := context.Background()
	b.Run("baseline-status", func(b *testing.B) {
		for b.Loop() {
			if rows, err := bb.svc.Status(ctx); err != nil || len(rows) != 300 {
				b.Fatal(len(rows), err)
			}
		}
	})
	h, c := bb.dashboard(b)
	for _, p := range []struct{ name, path string }{
		{"overview", "/"},
		{"overview-filtered", "/?release=trixie&state=pending&group=state"},
		{"stream", "/streams/" + strings.Replace(dashtest.StreamName(0), ":", "/", 1)},
		{"vulnerabilities", "/vulnerabilities"},
		{"vulnerabilities-fixable", "/vulnerabilities?view=fixable"},
		{"latency", "/latency"},
	} {
		b.Run(p.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				n = get(b, h, c, p.path)
			}
			b.ReportMetric(float64(n), "bytes/page")
		})
	}
	// The latency page with its history cache empty: every stream's
	// releases and moves read from the store (the first view after a
	// release or a channel move).
	b.Run("latency-cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			h, c := bb.dashboard(b)
			b.StartTimer()
			get(b, h, c, "/latency")
		}
	})
}
