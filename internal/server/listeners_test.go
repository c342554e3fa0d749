package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/server"
)

// --metrics-listen: /metrics answers there without a token; on the API
// address it still needs one (401 without, 200 with a read token), and
// the metrics listener serves nothing else.
func TestMetricsListen(t *testing.T) {
	e := startWith(t, "1000h", func(c *server.Config) { c.MetricsListen = "127.0.0.1:0" })
	if e.srv.MetricsURL == "" || e.srv.MetricsURL == e.srv.URL {
		t.Fatalf("metrics URL %q, API %q", e.srv.MetricsURL, e.srv.URL)
	}
	resp, err := http.Get(e.srv.MetricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "temper_checks_total") {
		t.Fatalf("metrics listener without a token: %d\n%.300s", resp.StatusCode, body)
	}
	if code, _ := e.get("/metrics", ""); code != 401 {
		t.Errorf("/metrics on the API address without a token: %d, want 401", code)
	}
	if code, _ := e.get("/metrics", e.read); code != 200 {
		t.Errorf("/metrics on the API address with a read token: %d, want 200", code)
	}
	for _, p := range []string{"/api/v1/streams", "/healthz"} {
		resp, err := http.Get(e.srv.MetricsURL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("metrics listener serves %s: %d, want 404", p, resp.StatusCode)
		}
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "temper test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// --tls-cert/--tls-key: the API is served over TLS (1.2 or later) with
// the certificate; a plain HTTP request is refused; tokens work as over
// HTTP.
func TestTLS(t *testing.T) {
	cert, key, pool := selfSigned(t)
	e := startWith(t, "1000h", func(c *server.Config) { c.TLSCert, c.TLSKey = cert, key })
	if !strings.HasPrefix(e.srv.URL, "https://") {
		t.Fatalf("URL %s, want https", e.srv.URL)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(path, token string) (*http.Response, error) {
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return c.Do(req)
	}
	resp, err := get("/api/v1/streams", e.read)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("GET over TLS: %d, TLS %+v", resp.StatusCode, resp.TLS)
	}
	if resp, err = get("/api/v1/streams", ""); err != nil || resp.StatusCode != 401 {
		t.Fatalf("GET over TLS without a token: %v %v", resp, err)
	}
	resp.Body.Close()
	// A client that does not trust the certificate fails the handshake.
	if _, err := http.Get(e.srv.URL + "/healthz"); err == nil {
		t.Error("a client without the certificate's CA connected")
	}
	// Plain HTTP to the TLS port gets no API answer.
	resp, err = http.Get("http://" + strings.TrimPrefix(e.srv.URL, "https://") + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP served by the TLS listener")
		}
	}
	// TLS 1.1 is refused.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(e.srv.URL + "/healthz"); err == nil {
		t.Error("TLS 1.1 accepted")
	}
}
