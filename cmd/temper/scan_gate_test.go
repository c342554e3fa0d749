package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildGateFlags: --skip-gate and --reason go together and only with
// a publishing build; a signed build without any vulnerability data is
// refused before anything is built, saying what to do; skipped, it goes on.
func TestBuildGateFlags(t *testing.T) {
	e := newCLIEnv(t)
	prefix := filepath.Join(t.TempDir(), "cosign")
	t.Setenv("TEMPER_PASSWORD", "secret")
	if _, err := e.run(t, "keygen", "--output-key-prefix", prefix); err != nil {
		t.Fatal(err)
	}
	key := prefix + ".key"
	var usage usageError
	for _, args := range [][]string{
		{"--sign-key", key, "--skip-gate"},
		{"--sign-key", key, "--reason", "why"},
		{"--skip-gate", "--reason", "why"},
	} {
		if _, err := e.run(t, append([]string{"build", "nothing.yaml"}, args...)...); !errors.As(err, &usage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	_, err := e.run(t, "build", "nothing.yaml", "--sign-key", key)
	if err == nil || !strings.Contains(err.Error(), "no vulnerability data") || !strings.Contains(err.Error(), "run `temper vuln update`, or pass --skip-gate --reason TEXT") {
		t.Errorf("no data: %v", err)
	}
	// Skipped: past the gate, to the definition that does not exist.
	_, err = e.run(t, "build", "nothing.yaml", "--sign-key", key, "--skip-gate", "--reason", "air-gapped")
	if err == nil || strings.Contains(err.Error(), "vulnerability") {
		t.Errorf("skipped gate: %v", err)
	}
}
