package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// temper verify --channel reads the channels from --config (it used to
// read ./temper.yaml only), and a channel the configuration does not name
// is refused by name before the registry is asked.
func TestVerifyChannelConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TEMPER_PASSWORD", "pw")
	prefix := filepath.Join(dir, "cosign")
	if _, stderr, err := runCLI(t, "keygen", "--output-key-prefix", prefix); err != nil {
		t.Fatal(err, stderr)
	}
	conf := filepath.Join(dir, "catalog.yaml")
	os.WriteFile(conf, []byte("channels:\n  - {name: alpha}\n  - {name: beta}\n"), 0o644)
	ref := "127.0.0.1:1/python:3.11" // nothing listens: the registry is never reached
	_, _, err := runCLI(t, "verify", ref, "--key", prefix+".pub", "--channel", "beta")
	if err == nil || !strings.Contains(err.Error(), "--channel beta: not a channel of the default channels (testing, staging, production)") {
		t.Errorf("default channels: %v", err)
	}
	_, _, err = runCLI(t, "--config", conf, "verify", ref, "--key", prefix+".pub", "--channel", "production")
	if err == nil || !strings.Contains(err.Error(), "--channel production: not a channel of "+conf+" (alpha, beta)") {
		t.Errorf("--config channels: %v", err)
	}
	_, _, err = runCLI(t, "--config", conf, "verify", ref, "--key", prefix+".pub", "--channel", "beta")
	if err == nil || strings.Contains(err.Error(), "not a channel") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("a channel of --config: %v", err)
	}
}
