// Package releasetest makes OpenPGP keys and clearsigned InRelease files for
// tests of code that uses package release. It is meant for tests only.
package releasetest

import (
	"bytes"
	"crypto"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// NewKey generates a signing key called name (the user ID is
// "name <name@example.invalid>"). algo is
//
//   - "rsa": RSA-2048 primary key with an RSA-2048 signing subkey, shaped
//     like Debian's automatic archive keys (which sign with a subkey);
//   - "rsa4096": the same with 4096-bit keys (slow to generate);
//   - "ed25519": an Ed25519 (v4 EdDSA) primary key that signs itself, like
//     Debian's stable release keys.
//
// The key is created now and does not expire.
func NewKey(t testing.TB, name string, algo string) *openpgp.Entity {
	t.Helper()
	return NewKeyAt(t, name, algo, time.Now(), 0)
}

// NewKeyAt is NewKey with the key's creation time and lifetime (0: never
// expires). The lifetime applies to the primary key and the signing subkey.
func NewKeyAt(t testing.TB, name, algo string, created time.Time, lifetime time.Duration) *openpgp.Entity {
	t.Helper()
	created = created.Truncate(time.Second) // OpenPGP times have one-second resolution
	cfg := &packet.Config{
		Time:            func() time.Time { return created },
		KeyLifetimeSecs: uint32(lifetime / time.Second),
		DefaultHash:     crypto.SHA256,
	}
	subkey := false
	switch algo {
	case "rsa":
		cfg.Algorithm, cfg.RSABits, subkey = packet.PubKeyAlgoRSA, 2048, true
	case "rsa4096":
		cfg.Algorithm, cfg.RSABits, subkey = packet.PubKeyAlgoRSA, 4096, true
	case "ed25519":
		cfg.Algorithm, cfg.Curve = packet.PubKeyAlgoEdDSA, packet.Curve25519
	default:
		t.Fatalf("releasetest.NewKey(%q): unknown algorithm %q (want rsa, rsa4096 or ed25519)", name, algo)
	}
	e, err := openpgp.NewEntity(name, "", name+"@example.invalid", cfg)
	if err != nil {
		t.Fatalf("releasetest.NewKey(%q, %q): %v", name, algo, err)
	}
	if subkey {
		if err := e.AddSigningSubkey(cfg); err != nil {
			t.Fatalf("releasetest.NewKey(%q, %q): signing subkey: %v", name, algo, err)
		}
	}
	return e
}

// SigningKeyID returns the key ID (16 upper-case hex digits) of the key that
// ClearSign uses for e: its newest signing subkey, else its primary key.
func SigningKeyID(t testing.TB, e *openpgp.Entity) string {
	t.Helper()
	k, ok := e.SigningKey(e.PrimaryKey.CreationTime.Add(time.Second))
	if !ok {
		t.Fatalf("releasetest: key %X has no signing key", e.PrimaryKey.Fingerprint)
	}
	return k.PublicKey.KeyIdString()
}

// ClearSign clearsigns body with every signer, now, producing an InRelease
// file with all signatures in one armored block, as Debian's are. As with
// gpg, the final newline of body is not part of the signed text, and
// release.VerifyInRelease returns body unchanged (if it ends in a newline and
// has no trailing whitespace on its lines).
func ClearSign(t testing.TB, body []byte, signers ...*openpgp.Entity) []byte {
	t.Helper()
	return ClearSignAt(t, time.Now(), body, signers...)
}

// ClearSignAt is ClearSign with the signatures' creation time.
func ClearSignAt(t testing.TB, when time.Time, body []byte, signers ...*openpgp.Entity) []byte {
	t.Helper()
	if len(signers) == 0 {
		t.Fatal("releasetest.ClearSign: no signers")
	}
	var keys []*packet.PrivateKey
	for _, e := range signers {
		// Pick the signing key as of the key's creation, so that expired
		// or future keys can still be used to make test signatures.
		k, ok := e.SigningKey(e.PrimaryKey.CreationTime.Add(time.Second))
		if !ok || k.PrivateKey == nil {
			t.Fatalf("releasetest.ClearSign: key %X has no private signing key", e.PrimaryKey.Fingerprint)
		}
		keys = append(keys, k.PrivateKey)
	}
	cfg := &packet.Config{Time: func() time.Time { return when }, DefaultHash: crypto.SHA256}
	var buf bytes.Buffer
	w, err := clearsign.EncodeMulti(&buf, keys, cfg)
	if err != nil {
		t.Fatalf("releasetest.ClearSign: %v", err)
	}
	// Like gpg, treat the final line break as part of the armor, not of the
	// signed text (Go's encoder would otherwise sign it and add a blank line).
	if _, err := w.Write(bytes.TrimSuffix(body, []byte("\n"))); err != nil {
		t.Fatalf("releasetest.ClearSign: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("releasetest.ClearSign: %v", err)
	}
	return rearmor(t, buf.Bytes())
}

// rearmor rewrites the signature block of a clearsigned message with a CRC-24
// checksum line. Go's encoder leaves it out (RFC 9580 allows that), but gpgv
// 2.2, which apt uses, then fails to find the end of the block.
func rearmor(t testing.TB, msg []byte) []byte {
	t.Helper()
	block, rest := clearsign.Decode(msg)
	if block == nil || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("releasetest.ClearSign: cannot decode own output:\n%s", msg)
	}
	sigs, err := io.ReadAll(block.ArmoredSignature.Body)
	if err != nil {
		t.Fatalf("releasetest.ClearSign: %v", err)
	}
	i := bytes.Index(msg, []byte("\n-----BEGIN PGP SIGNATURE-----"))
	if i < 0 {
		t.Fatalf("releasetest.ClearSign: no signature block in own output")
	}
	var out bytes.Buffer
	out.Write(msg[:i+1])
	w, err := armor.Encode(&out, "PGP SIGNATURE", nil)
	if err != nil {
		t.Fatalf("releasetest.ClearSign: %v", err)
	}
	w.Write(sigs)
	if err := w.Close(); err != nil {
		t.Fatalf("releasetest.ClearSign: %v", err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// PublicKeyring returns the public parts of entities as a binary keyring
// (the format of /usr/share/keyrings/*.gpg), for release.LoadKeyring.
func PublicKeyring(t testing.TB, entities ...*openpgp.Entity) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, e := range entities {
		if err := e.Serialize(&buf); err != nil {
			t.Fatalf("releasetest.PublicKeyring: key %X: %v", e.PrimaryKey.Fingerprint, err)
		}
	}
	return buf.Bytes()
}

// ArmoredPublicKeyring is PublicKeyring, ASCII-armored (*.asc).
func ArmoredPublicKeyring(t testing.TB, entities ...*openpgp.Entity) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatalf("releasetest.ArmoredPublicKeyring: %v", err)
	}
	if _, err := w.Write(PublicKeyring(t, entities...)); err != nil {
		t.Fatalf("releasetest.ArmoredPublicKeyring: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("releasetest.ArmoredPublicKeyring: %v", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// String describes e for test logs: "<fingerprint> <user ID>".
func String(e *openpgp.Entity) string {
	name := ""
	if id := e.PrimaryIdentity(); id != nil {
		name = id.Name
	}
	return fmt.Sprintf("%X %s", e.PrimaryKey.Fingerprint, name)
}
