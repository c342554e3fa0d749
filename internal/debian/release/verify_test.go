package release_test

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/temper-dev/temper/internal/debian/release"
	"github.com/temper-dev/temper/internal/debian/release/releasetest"
)

const sampleRelease = `Origin: Debian
Label: Debian
Suite: stable
Version: 13.8
Codename: trixie
Date: Sat, 21 Nov 2026 09:15:44 UTC
Valid-Until: Sat, 28 Nov 2026 09:15:44 +0000
Acquire-By-Hash: yes
Architectures: all amd64 arm64
Components: main contrib non-free-firmware non-free
Description: Debian 13.8 Released 21 November 2026
MD5Sum:
 3e498904a30e240573dac8ddac594e6f  1961125 contrib/Contents-all
SHA256:
 0f2c6a1a8ef4b1ac3f5c8d4c5c2b6f8e0f2c6a1a8ef4b1ac3f5c8d4c5c2b6f8e  1961125 contrib/Contents-all
 9E0B5AABB2465B3D2E7A7FE27F9913846277833F7A2826E7767ACCCFF5B588C5  9481232 main/binary-amd64/Packages.xz
 1111111111111111111111111111111111111111111111111111111111111111      123 main/binary-amd64/Release
 2222222222222222222222222222222222222222222222222222222222222222        0 README
`

// keys are generated once per test binary; tests that modify keys make
// their own.
var (
	keysOnce      sync.Once
	rsaKey, edKey *openpgp.Entity
	otherKey      *openpgp.Entity
)

func testKeys(t testing.TB) (rsa, ed, other *openpgp.Entity) {
	t.Helper()
	keysOnce.Do(func() {
		rsaKey = releasetest.NewKey(t, "Test Archive Automatic Signing Key", "rsa")
		edKey = releasetest.NewKey(t, "Test Stable Release Key", "ed25519")
		otherKey = releasetest.NewKey(t, "Somebody Else", "ed25519")
	})
	if rsaKey == nil {
		t.Fatal("key generation failed earlier")
	}
	return rsaKey, edKey, otherKey
}

func TestVerifyBothTrusted(t *testing.T) {
	rsa, ed, _ := testKeys(t)
	in := releasetest.ClearSign(t, []byte(sampleRelease), rsa, ed)
	if n := bytes.Count(in, []byte("-----BEGIN PGP SIGNATURE-----")); n != 1 {
		t.Fatalf("want one armored signature block, got %d", n)
	}
	v, err := release.VerifyInRelease("test/InRelease", in, release.NewKeyring(openpgp.EntityList{rsa, ed}), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if string(v.Body) != sampleRelease {
		t.Errorf("Body = %q\nwant %q", v.Body, sampleRelease)
	}
	if len(v.Signatures) != 2 || len(v.Good()) != 2 {
		t.Fatalf("signatures %v, want 2 good", v.Signatures)
	}
	rsaID, edID := releasetest.SigningKeyID(t, rsa), releasetest.SigningKeyID(t, ed)
	if rsaID == rsa.PrimaryKey.KeyIdString() {
		t.Errorf("rsa test key should sign with a subkey, like Debian's")
	}
	want := map[string]string{rsaID: "RSA-2048", edID: "EdDSA"}
	for _, c := range v.Signatures {
		if c.Err != nil {
			t.Errorf("%s", c)
		}
		if algo, ok := want[c.KeyID]; !ok || algo != c.Algorithm {
			t.Errorf("check %s: want key/algorithm among %v", c, want)
		}
		if len(c.Fingerprint) != 40 || !strings.HasSuffix(c.Fingerprint, c.KeyID) {
			t.Errorf("check %s: fingerprint %q does not match key ID", c, c.Fingerprint)
		}
		if !strings.HasPrefix(c.UserID, "Test ") {
			t.Errorf("check %s: UserID %q", c, c.UserID)
		}
		if time.Since(c.Created) > time.Hour {
			t.Errorf("check %s: Created %v", c, c.Created)
		}
	}
	f, err := release.Parse(v.Body)
	if err != nil {
		t.Fatal(err)
	}
	if f.Codename != "trixie" {
		t.Errorf("Codename = %q", f.Codename)
	}
}

func TestVerifyOneKeyTrusted(t *testing.T) {
	rsa, ed, _ := testKeys(t)
	in := releasetest.ClearSign(t, []byte(sampleRelease), rsa, ed)
	for _, tc := range []struct {
		trusted, unknown *openpgp.Entity
	}{{rsa, ed}, {ed, rsa}} {
		v, err := release.VerifyInRelease("test/InRelease", in, release.NewKeyring(openpgp.EntityList{tc.trusted}), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		good := v.Good()
		if len(good) != 1 || good[0].KeyID != releasetest.SigningKeyID(t, tc.trusted) {
			t.Errorf("good = %v, want the trusted key's", good)
		}
		unknownID := releasetest.SigningKeyID(t, tc.unknown)
		for _, c := range v.Signatures {
			if c.KeyID != unknownID {
				continue
			}
			if !errors.Is(c.Err, release.ErrUnknownKey) || !strings.Contains(c.Err.Error(), "key "+unknownID+" not in keyring") {
				t.Errorf("unknown key check: %v", c.Err)
			}
			if c.Fingerprint != "" || c.UserID != "" {
				t.Errorf("unknown key check has key details: %+v", c)
			}
		}
	}
}

func TestVerifyNoTrustedKey(t *testing.T) {
	rsa, ed, other := testKeys(t)
	in := releasetest.ClearSign(t, []byte(sampleRelease), rsa, ed)
	_, err := release.VerifyInRelease("bookworm/InRelease", in, release.NewKeyring(openpgp.EntityList{other}), time.Now())
	if err == nil {
		t.Fatal("verified without a trusted key")
	}
	var ve *release.VerifyError
	if !errors.As(err, &ve) || len(ve.Signatures) != 2 {
		t.Fatalf("error %v (%T), want *VerifyError with 2 signatures", err, err)
	}
	if !errors.Is(err, release.ErrUnknownKey) {
		t.Errorf("errors.Is(err, ErrUnknownKey) is false for %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"bookworm/InRelease", releasetest.SigningKeyID(t, rsa), releasetest.SigningKeyID(t, ed), "not in keyring"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
}

func TestVerifyTampered(t *testing.T) {
	rsa, ed, _ := testKeys(t)
	kr := release.NewKeyring(openpgp.EntityList{rsa, ed})
	in := releasetest.ClearSign(t, []byte(sampleRelease), rsa, ed)
	for name, edit := range map[string]func([]byte) []byte{
		"changed byte": func(b []byte) []byte {
			return bytes.Replace(b, []byte("Version: 13.8"), []byte("Version: 13.9"), 1)
		},
		"added line": func(b []byte) []byte {
			return bytes.Replace(b, []byte("SHA256:\n"), []byte("SHA256:\n 3333333333333333333333333333333333333333333333333333333333333333 1 evil\n"), 1)
		},
		"removed line": func(b []byte) []byte {
			return bytes.Replace(b, []byte("Label: Debian\n"), nil, 1)
		},
		"added blank line at end": func(b []byte) []byte {
			return bytes.Replace(b, []byte("\n-----BEGIN PGP SIGNATURE"), []byte("\n\n-----BEGIN PGP SIGNATURE"), 1)
		},
	} {
		t.Run(name, func(t *testing.T) {
			bad := edit(bytes.Clone(in))
			if bytes.Equal(bad, in) {
				t.Fatal("edit did nothing")
			}
			_, err := release.VerifyInRelease("test/InRelease", bad, kr, time.Now())
			if err == nil {
				t.Fatal("tampered InRelease verified")
			}
			if !errors.Is(err, release.ErrBadSignature) || !strings.Contains(err.Error(), "bad signature") {
				t.Errorf("error %v, want bad signature", err)
			}
		})
	}
}

// Trailing whitespace and line-end style are not covered by a clearsigned
// signature (RFC 9580 section 7.2); changing them must not break verification.
func TestVerifyCanonicalization(t *testing.T) {
	rsa, ed, _ := testKeys(t)
	kr := release.NewKeyring(openpgp.EntityList{rsa, ed})
	body := "Origin: Test\n-dash: line that needs dash-escaping\nSuite: x   \n\tcontinued\t\nLast: line"
	in := releasetest.ClearSign(t, []byte(body), rsa, ed)
	if !bytes.Contains(in, []byte("\n- -dash:")) {
		t.Fatalf("expected dash-escaping in\n%s", in)
	}
	wantBody := "Origin: Test\n-dash: line that needs dash-escaping\nSuite: x\n\tcontinued\nLast: line\n"
	variants := map[string][]byte{
		"as signed":       in,
		"CRLF":            bytes.ReplaceAll(in, []byte("\n"), []byte("\r\n")),
		"trailing spaces": bytes.Replace(in, []byte("Origin: Test\n"), []byte("Origin: Test \t \n"), 1),
	}
	for name, data := range variants {
		v, err := release.VerifyInRelease("x", data, kr, time.Now())
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if string(v.Body) != wantBody {
			t.Errorf("%s: Body = %q, want %q", name, v.Body, wantBody)
		}
	}
}

func TestVerifyExpiredKey(t *testing.T) {
	created := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, algo := range []string{"rsa", "ed25519"} {
		t.Run(algo, func(t *testing.T) {
			key := releasetest.NewKeyAt(t, "Expiring", algo, created, 30*24*time.Hour)
			in := releasetest.ClearSignAt(t, created.Add(time.Hour), []byte(sampleRelease), key)
			kr := release.NewKeyring(openpgp.EntityList{key})

			if _, err := release.VerifyInRelease("x", in, kr, created.Add(24*time.Hour)); err != nil {
				t.Errorf("while the key is valid: %v", err)
			}
			now := created.Add(60 * 24 * time.Hour)
			_, err := release.VerifyInRelease("old/InRelease", in, kr, now)
			if err == nil {
				t.Fatal("verified with an expired key")
			}
			if !errors.Is(err, release.ErrKeyExpired) {
				t.Errorf("error %v, want ErrKeyExpired", err)
			}
			for _, want := range []string{"old/InRelease", "expired at 2024-03-31 12:00:00 UTC", releasetest.SigningKeyID(t, key)} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestVerifyExpiredKeyWithGoodOther(t *testing.T) {
	created := time.Now().Add(-90 * 24 * time.Hour)
	old := releasetest.NewKeyAt(t, "Old", "ed25519", created, 30*24*time.Hour)
	fresh := releasetest.NewKeyAt(t, "Fresh", "ed25519", created, 0)
	in := releasetest.ClearSignAt(t, created.Add(time.Hour), []byte(sampleRelease), old, fresh)
	v, err := release.VerifyInRelease("x", in, release.NewKeyring(openpgp.EntityList{old, fresh}), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Good()) != 1 || !errors.Is(v.Signatures[0].Err, release.ErrKeyExpired) {
		t.Errorf("checks %v: want the first expired, the second good", v.Signatures)
	}
}

func TestVerifyRevoked(t *testing.T) {
	for _, tc := range []struct {
		name   string
		algo   string
		revoke func(*openpgp.Entity) error
	}{
		{"primary", "ed25519", func(e *openpgp.Entity) error {
			return e.RevokeKey(packet.KeyRetired, "retired", nil)
		}},
		{"signing subkey", "rsa", func(e *openpgp.Entity) error {
			return e.RevokeSubkey(&e.Subkeys[len(e.Subkeys)-1], packet.KeySuperseded, "superseded", nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := releasetest.NewKeyAt(t, "Revoked", tc.algo, time.Now().Add(-time.Hour), 0)
			in := releasetest.ClearSignAt(t, time.Now().Add(-time.Minute), []byte(sampleRelease), key)
			if err := tc.revoke(key); err != nil {
				t.Fatal(err)
			}
			// Round-trip through a keyring file, as users would load it.
			path := filepath.Join(t.TempDir(), "revoked.gpg")
			if err := os.WriteFile(path, releasetest.PublicKeyring(t, key), 0o644); err != nil {
				t.Fatal(err)
			}
			kr, err := release.LoadKeyring(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = release.VerifyInRelease("x", in, kr, time.Now().Add(time.Minute))
			if !errors.Is(err, release.ErrKeyRevoked) || !strings.Contains(err.Error(), "revoked") {
				t.Errorf("error %v, want ErrKeyRevoked", err)
			}
		})
	}
}

// A signature made with a key whose flags do not allow signing (here the
// RSA encryption subkey) is refused even though it is cryptographically fine.
func TestVerifyNotSigningKey(t *testing.T) {
	rsa, _, _ := testKeys(t)
	var enc *packet.PrivateKey
	for _, s := range rsa.Subkeys {
		if s.Sig.FlagEncryptCommunications && !s.Sig.FlagSign {
			enc = s.PrivateKey
		}
	}
	if enc == nil {
		t.Fatal("test key has no encryption subkey")
	}
	var buf bytes.Buffer
	w, err := clearsign.EncodeMulti(&buf, []*packet.PrivateKey{enc}, &packet.Config{DefaultHash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w, sampleRelease)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = release.VerifyInRelease("x", buf.Bytes(), release.NewKeyring(openpgp.EntityList{rsa}), time.Now())
	if !errors.Is(err, release.ErrKeyUnusable) || !strings.Contains(err.Error(), "not a signing key") {
		t.Errorf("error %v, want ErrKeyUnusable", err)
	}
}

func TestVerifyFutureSignature(t *testing.T) {
	_, ed, _ := testKeys(t)
	in := releasetest.ClearSignAt(t, time.Now().Add(2*time.Hour), []byte(sampleRelease), ed)
	kr := release.NewKeyring(openpgp.EntityList{ed})
	_, err := release.VerifyInRelease("x", in, kr, time.Now())
	if err == nil || !strings.Contains(err.Error(), "in the future") {
		t.Errorf("error %v, want signature in the future", err)
	}
	// A little clock skew is tolerated.
	in = releasetest.ClearSignAt(t, time.Now().Add(time.Minute), []byte(sampleRelease), ed)
	if _, err := release.VerifyInRelease("x", in, kr, time.Now()); err != nil {
		t.Errorf("with one minute of skew: %v", err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	rsa, ed, _ := testKeys(t)
	kr := release.NewKeyring(openpgp.EntityList{rsa, ed})
	good := releasetest.ClearSign(t, []byte(sampleRelease), rsa, ed)
	sigStart := bytes.Index(good, []byte("-----BEGIN PGP SIGNATURE-----"))

	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, release.ErrNotClearsigned},
		{"plain Release", []byte(sampleRelease), release.ErrNotClearsigned},
		{"detached signature only", good[sigStart:], release.ErrNotClearsigned},
		{"HTML error page", []byte("<html><body>502 Bad Gateway</body></html>\n"), release.ErrNotClearsigned},
		{"leading garbage", append([]byte("hello\n"), good...), release.ErrNotClearsigned},
		{"truncated", good[:len(good)-40], release.ErrNotClearsigned},
		{"no signature block", good[:sigStart], release.ErrNotClearsigned},
		{"trailing data", append(bytes.Clone(good), "Origin: Evil\n"...), release.ErrTrailingData},
		{"second message", append(bytes.Clone(good), good...), release.ErrTrailingData},
		{"bad header", bytes.Replace(good, []byte("Hash: SHA256"), []byte("Hash: SHA256\nComment: x"), 1), release.ErrNotClearsigned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := release.VerifyInRelease("test/InRelease", tc.data, kr, time.Now())
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "test/InRelease: ") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}

	// Whitespace around the message is fine.
	padded := append(append([]byte("\n\n"), good...), "\n\n"...)
	if _, err := release.VerifyInRelease("x", padded, kr, time.Now()); err != nil {
		t.Errorf("with surrounding blank lines: %v", err)
	}
}

func TestLoadKeyring(t *testing.T) {
	rsa, ed, _ := testKeys(t)
	in := releasetest.ClearSign(t, []byte(sampleRelease), rsa, ed)
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"keys.gpg": releasetest.PublicKeyring(t, rsa, ed),
		"keys.asc": releasetest.ArmoredPublicKeyring(t, rsa, ed),
		"two.asc":  append(releasetest.ArmoredPublicKeyring(t, rsa), releasetest.ArmoredPublicKeyring(t, ed)...),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		kr, err := release.LoadKeyring(path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(kr.Entities()) != 2 || len(kr.Describe()) != 2 {
			t.Errorf("%s: %d keys, want 2", name, len(kr.Entities()))
		}
		v, err := release.VerifyInRelease("x", in, kr, time.Now())
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if len(v.Good()) != 2 {
			t.Errorf("%s: %d good signatures, want 2", name, len(v.Good()))
		}
		for _, e := range kr.Entities() {
			if e.PrivateKey != nil {
				t.Errorf("%s: private key material in a public keyring", name)
			}
		}
	}

	bad := filepath.Join(dir, "bad.gpg")
	os.WriteFile(bad, []byte("this is not a keyring\n"), 0o644)
	empty := filepath.Join(dir, "empty.gpg")
	os.WriteFile(empty, nil, 0o644)
	for _, path := range []string{bad, empty, dir, filepath.Join(dir, "missing.gpg")} {
		_, err := release.LoadKeyring(path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("LoadKeyring(%s) error %v, want an error naming the file", path, err)
		}
	}
}

func TestEmbeddedKeyring(t *testing.T) {
	kr, err := release.EmbeddedKeyring()
	if err != nil {
		t.Fatal(err)
	}
	desc := strings.Join(kr.Describe(), "\n")
	t.Logf("embedded keys:\n%s", desc)
	for _, want := range []string{
		"4D64FEC119C2029067D6E791F8D2585B8783D481 Debian Stable Release Key (12/bookworm)", // Ed25519
		"41587F7DB8C774BCCF131416762F67A0B2C39DE4 Debian Stable Release Key (13/trixie)",   // Ed25519
		"B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8 Debian Archive Automatic Signing Key (12/bookworm)",
		"04B54C3CDCA79751B16BC6B5225629DF75B188BD Debian Archive Automatic Signing Key (13/trixie)",
		"5E04A1E3223A19A20706E20F9904613D4CCE68C6 Debian Security Archive Automatic Signing Key (13/trixie)",
	} {
		if !strings.Contains(desc, want) {
			t.Errorf("embedded keyring lacks %q", want)
		}
	}
	if !strings.Contains(desc, "(EdDSA, expires 2033-03-22)") {
		t.Errorf("Describe does not show the trixie release key's algorithm and expiry:\n%s", desc)
	}
	// The archive signs with these subkeys; they must be found by key ID.
	for _, sub := range []string{"6ED0E7B82643E131", "78DBA3BC47EF2265", "BDE6D2B9216EC7A8", "8E9F831205B4BA95"} {
		var id uint64
		fmt.Sscanf(sub, "%X", &id)
		if len(kr.Entities().KeysById(id)) != 1 {
			t.Errorf("signing subkey %s not in the embedded keyring", sub)
		}
	}
}

// BenchmarkVerifyInRelease verifies a ~150 KB Release file signed with an
// RSA-4096 subkey and an Ed25519 key, like Debian's main suites.
func BenchmarkVerifyInRelease(b *testing.B) {
	rsa := releasetest.NewKey(b, "Bench RSA", "rsa4096")
	ed := releasetest.NewKey(b, "Bench Ed25519", "ed25519")
	body := bigRelease(150 << 10)
	in := releasetest.ClearSign(b, body, rsa, ed)
	kr := release.NewKeyring(openpgp.EntityList{rsa, ed})
	now := time.Now().Add(time.Minute)
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for b.Loop() {
		v, err := release.VerifyInRelease("bench", in, kr, now)
		if err != nil || len(v.Good()) != 2 {
			b.Fatal(err)
		}
	}
}

func bigRelease(size int) []byte {
	var buf bytes.Buffer
	buf.WriteString("Origin: Debian\nSuite: stable\nCodename: trixie\nDate: Sat, 21 Nov 2026 09:15:44 UTC\nSHA256:\n")
	for i := 0; buf.Len() < size; i++ {
		fmt.Fprintf(&buf, " %064x %8d main/binary-arch%d/Packages.xz\n", i*7919, i*1000, i)
	}
	return buf.Bytes()
}

// FuzzVerifyInRelease checks that arbitrary input never panics and that
// nothing but the genuine signed text is ever accepted.
func FuzzVerifyInRelease(f *testing.F) {
	key := releasetest.NewKey(f, "Fuzz", "ed25519")
	kr := release.NewKeyring(openpgp.EntityList{key})
	good := releasetest.ClearSign(f, []byte(sampleRelease), key)
	now := time.Now().Add(time.Minute)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("-----BEGIN PGP SIGNED MESSAGE-----\n\n-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := release.VerifyInRelease("fuzz", data, kr, now)
		if err != nil {
			return
		}
		if string(v.Body) != sampleRelease {
			t.Fatalf("accepted a different text:\n%q", v.Body)
		}
	})
}
