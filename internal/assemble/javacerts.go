package assemble

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"path"
	"strings"

	"software.sslmate.com/src/go-pkcs12"
)

// JavaCacerts is the trust store Debian's Java runtimes read
// ($JAVA_HOME/lib/security/cacerts links to it).
const JavaCacerts = "etc/ssl/certs/java/cacerts"

// javaCacerts reproduces ca-certificates-java's postinst, which runs Java to
// import every enabled CA into a PKCS#12 trust store: without it, every TLS
// connection from a JVM in the image fails ("the trustAnchors parameter
// must be non-empty"). The store holds the same certificates as the CA
// bundle, under Debian's aliases ("debian:<file>.pem"), with Java's default
// store password "changeit". PKCS#12 salts are random; they are drawn from
// a generator seeded with the certificates' digest, so the file, like the
// whole image, is the same for the same lock.
func (b *builder) javaCacerts() error {
	if !b.has("ca-certificates-java") {
		return nil
	}
	var entries []pkcs12.TrustStoreEntry
	h := sha256.New()
	for _, c := range b.caCertFiles() {
		e, p := c.entry, c.path
		block, _ := pem.Decode(e.Data)
		if block == nil || block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			continue // update-ca-certificates skips what it cannot read too
		}
		h.Write(block.Bytes)
		alias := "debian:" + strings.TrimSuffix(path.Base(p), ".crt") + ".pem"
		entries = append(entries, pkcs12.TrustStoreEntry{Cert: cert, FriendlyName: strings.ToLower(alias)})
	}
	if len(entries) == 0 {
		return nil
	}
	var seed [32]byte
	copy(seed[:], h.Sum(nil))
	enc := pkcs12.Modern2023.WithRand(rand.NewChaCha8(seed))
	data, err := enc.EncodeTrustStoreEntries(entries, "changeit")
	if err != nil {
		return fmt.Errorf("build: java trust store: %w", err)
	}
	if err := b.putFile(JavaCacerts, 0o644, data); err != nil {
		return err
	}
	return nil
}
