package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/store"
)

// Every API route: no token, a wrong token and a revoked token get 401;
// a read token gets 403 on POST; an oversized body gets 413; the open
// routes need nothing.
func TestAuthEveryEndpoint(t *testing.T) {
	e := start(t, "1000h")
	tk, _ := store.AsTokens(e.st)
	revoked, tok, _ := tk.CreateToken(context.Background(), store.RoleAdmin, "", time.Now())
	if err := tk.RevokeToken(context.Background(), tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	gets := []string{"/api/v1/streams", "/api/v1/streams/tool/1", "/api/v1/releases/tool:1-20260101.1", "/api/v1/jobs", "/api/v1/findings?kev=true", "/metrics"}
	posts := []string{"/api/v1/check", "/api/v1/promote", "/api/v1/rollback", "/api/v1/fast-track"}
	do := func(method, path, token, body string) int {
		req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode >= 400 && ct != "application/json" {
			t.Errorf("%s %s: error with Content-Type %q", method, path, ct)
		}
		return resp.StatusCode
	}
	for _, p := range append(gets, posts...) {
		m := "GET"
		if !strings.HasPrefix(p, "/metrics") && !strings.Contains(strings.Join(gets, " "), p) {
			m = "POST"
		}
		for name, tok := range map[string]string{"none": "", "wrong": "tmp_nope", "revoked": revoked} {
			if code := do(m, p, tok, "{}"); code != 401 {
				t.Errorf("%s %s with %s token: %d, want 401", m, p, name, code)
			}
		}
		if m == "GET" {
			if code := do(m, p, e.read, ""); code == 401 || code == 403 {
				t.Errorf("GET %s with a read token: %d", p, code)
			}
			continue
		}
		if code := do(m, p, e.read, "{}"); code != 403 {
			t.Errorf("POST %s with a read token: %d, want 403", p, code)
		}
		if code := do(m, p, e.admin, `{"stream":"`+strings.Repeat("x", 70<<10)+`"}`); code != 413 {
			t.Errorf("POST %s with a 70 KiB body: %d, want 413", p, code)
		}
		if code := do(m, p, e.admin, `{"nope": 1}`); code != 400 {
			t.Errorf("POST %s with an unknown field: %d, want 400", p, code)
		}
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code := do("GET", p, "", ""); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
	if code := do("POST", "/api/v1/check", e.admin, ""); code != 202 {
		t.Errorf("POST /api/v1/check with admin: %d, want 202", code)
	}
	if code := do("POST", "/api/v1/promote", e.admin, `{"stream":"tool:1","to":"production"}`); code != 409 && code != 404 {
		t.Errorf("promote without a release: %d, want a refusal", code)
	}
}
