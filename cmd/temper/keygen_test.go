package main

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/temper-dev/temper/internal/attest"
)

func TestKeygenSignKeyAndVerifyErrors(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	prefix := filepath.Join(dir, "keys", "cosign")
	t.Setenv("TEMPER_PASSWORD", "secret")
	out, err := e.run(t, "keygen", "--output-key-prefix", prefix)
	if err != nil || !strings.Contains(out, "Private key written to "+prefix+".key") {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	st, err := os.Stat(prefix + ".key")
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode: %v %v", st, err)
	}
	priv, _ := os.ReadFile(prefix + ".key")
	if _, err := attest.LoadPrivateKey(priv, []byte("secret")); err != nil {
		t.Errorf("the written key does not load: %v", err)
	}
	if _, err := e.run(t, "keygen", "--output-key-prefix", prefix); err == nil || !strings.Contains(err.Error(), "exists; pass --force") {
		t.Errorf("overwrite: %v", err)
	}
	if _, err := e.run(t, "keygen", "--output-key-prefix", prefix, "--force"); err != nil {
		t.Errorf("--force: %v", err)
	}

	// build --sign-key reads the key before anything else.
	t.Setenv("TEMPER_PASSWORD", "wrong")
	if _, err := e.run(t, "build", "nothing.yaml", "--sign-key", prefix+".key"); err == nil || !strings.Contains(err.Error(), "wrong password") || !strings.Contains(err.Error(), prefix+".key") {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := e.run(t, "build", "nothing.yaml", "--sign-key", filepath.Join(dir, "missing.key")); err == nil || !strings.Contains(err.Error(), "missing.key") {
		t.Errorf("missing key: %v", err)
	}
	if _, err := e.run(t, "build", "nothing.yaml", "--sign-key", prefix+".pub"); err == nil || !strings.Contains(err.Error(), "not an encrypted cosign private key") {
		t.Errorf("public key as signing key: %v", err)
	}

	// verify: usage, an unreadable key, an unsigned image.
	if _, err := e.run(t, "verify", "127.0.0.1:1/x:1"); err == nil || !strings.Contains(err.Error(), "--key is required") {
		t.Errorf("no --key: %v", err)
	}
	if _, err := e.run(t, "verify", "127.0.0.1:1/x:1", "--key", prefix+".key"); err == nil || !strings.Contains(err.Error(), "is not a \"PUBLIC KEY\"") {
		t.Errorf("private key as public: %v", err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/temper/x:1"
	repo, _ := attest.Repository(ref)
	img, _ := random.Image(100, 1)
	if err := remote.Write(repo.Tag("1"), img, attest.RemoteOptions(context.Background())...); err != nil {
		t.Fatal(err)
	}
	_, err = e.run(t, "verify", ref, "--key", prefix+".pub")
	if err == nil || !strings.Contains(err.Error(), "verification of "+ref+" failed") || !strings.Contains(err.Error(), "FAIL") || !strings.Contains(err.Error(), ".sig: not found") {
		t.Errorf("unsigned image: %v", err)
	}
}
