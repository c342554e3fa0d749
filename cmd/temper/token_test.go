package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/store"
)

// runCLI runs temper with args and returns stdout, stderr and the error.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	g := &globalFlags{aptRoot: t.TempDir(), now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }}
	root := newRootCommand(g)
	usageArgs(root)
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// temper token create|list|revoke through the command line: the secret is
// printed once and only its hash is stored; list shows role, name and
// revocation; a revoked token no longer authenticates; bad input is a
// usage error.
func TestTokenCLI(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.db")
	out, stderr, err := runCLI(t, "token", "create", "--role", "admin", "--name", "ci", "--state", state)
	if err != nil {
		t.Fatal(err, stderr)
	}
	admin := strings.TrimSpace(out)
	if !regexp.MustCompile(`^\S{32,}$`).MatchString(admin) || !strings.Contains(stderr, "token 1 (admin) created") {
		t.Fatalf("create: %q %q", out, stderr)
	}
	out, _, err = runCLI(t, "token", "create", "--role", "read", "--state", state)
	read := strings.TrimSpace(out)
	if err != nil || read == admin {
		t.Fatalf("second create: %v %q", err, out)
	}

	s, err := store.Open(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	tk, _ := store.AsTokens(s)
	check := func(secret, role string, revoked bool) {
		t.Helper()
		tok, err := tk.TokenBySecret(context.Background(), secret)
		if err != nil || tok.Role != role || tok.RevokedAt.IsZero() == revoked {
			t.Errorf("token %s…: %+v %v, want role %s revoked %v", secret[:8], tok, err, role, revoked)
		}
	}
	check(admin, store.RoleAdmin, false)
	check(read, store.RoleRead, false)
	s.Close()

	out, _, err = runCLI(t, "token", "list", "--state", state)
	if err != nil || !regexp.MustCompile(`(?m)^1\s+admin\s+ci\s+2026-03-01T12:00:00Z\s+-$`).MatchString(out) || !regexp.MustCompile(`(?m)^2\s+read\s+-\s+`).MatchString(out) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if strings.Contains(out, admin) || strings.Contains(out, read) {
		t.Fatal("list shows a secret")
	}

	if out, _, err = runCLI(t, "token", "revoke", "2", "--state", state); err != nil || out != "token 2 revoked\n" {
		t.Fatalf("revoke: %v %q", err, out)
	}
	out, _, _ = runCLI(t, "token", "list", "--state", state)
	if !regexp.MustCompile(`(?m)^2\s+read\s+-\s+\S+\s+2026-03-01T12:00:00Z$`).MatchString(out) {
		t.Fatalf("list after revoke:\n%s", out)
	}
	s, _ = store.Open(context.Background(), state)
	tk, _ = store.AsTokens(s)
	check(read, store.RoleRead, true)
	s.Close()

	for _, args := range [][]string{
		{"token", "create", "--role", "owner", "--state", state},
		{"token", "create", "--state", state},
		{"token", "revoke", "two", "--state", state},
		{"token", "revoke", "--state", state},
		{"token", "list", "extra", "--state", state},
	} {
		_, _, err := runCLI(t, args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error (exit 2)", args, err)
		}
	}
	if _, _, err := runCLI(t, "token", "revoke", "99", "--state", state); err == nil {
		t.Error("revoking an unknown token succeeded")
	}
}

// temper serve's flag checks: TLS needs both files; the log format is
// text or json; a missing catalog directory is named.
func TestServeFlagErrors(t *testing.T) {
	cat := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", cat, "--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together"},
		{[]string{"serve", cat, "--log-format", "xml"}, `--log-format "xml"`},
		{[]string{"serve", filepath.Join(cat, "missing")}, "not a catalog directory"},
	} {
		_, _, err := runCLI(t, c.args...)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want a usage error with %q", c.args, err, c.want)
		}
	}
}
