package assemble

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/temper-dev/temper/internal/debian/debtest"
)

func testCA(t *testing.T, name string) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestJavaCacerts(t *testing.T) {
	pkgs := []pk{
		{name: "ca-certificates", arch: "all", files: []debtest.File{
			file("./usr/share/ca-certificates/mozilla/Root_A.crt", testCA(t, "Root A")),
			file("./usr/share/ca-certificates/mozilla/Root_B.crt", testCA(t, "Root B")),
			file("./usr/share/ca-certificates/mozilla/broken.crt", "not a certificate"),
		}},
		{name: "ca-certificates-java", arch: "all", files: []debtest.File{file("./usr/share/doc/ca-certificates-java/README", "x")}},
	}
	tree, _ := assemble(t, nil, pkgs...)
	data := get(t, tree, JavaCacerts).Data
	certs, err := pkcs12.DecodeTrustStore(data, "changeit")
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 2 || certs[0].Subject.CommonName != "Root A" || certs[1].Subject.CommonName != "Root B" {
		t.Fatalf("trust store holds %d certificates", len(certs))
	}
	again, _ := assemble(t, nil, pkgs...)
	if !bytes.Equal(get(t, again, JavaCacerts).Data, data) {
		t.Error("the trust store is not reproducible")
	}
	// No Java, no trust store.
	tree, _ = assemble(t, nil, pkgs[0])
	absent(t, tree, JavaCacerts)
}
