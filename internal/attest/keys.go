package attest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

// PEM block types of cosign's key files. cosign v2 writes
// "ENCRYPTED SIGSTORE PRIVATE KEY"; cosign v1 wrote "ENCRYPTED COSIGN
// PRIVATE KEY". Both hold the same encrypted JSON.
const (
	PEMSigstorePrivateKey = "ENCRYPTED SIGSTORE PRIVATE KEY"
	PEMCosignPrivateKey   = "ENCRYPTED COSIGN PRIVATE KEY"
	PEMPublicKey          = "PUBLIC KEY"
)

// ErrWrongPassword is returned when a private key does not decrypt with
// the password given.
var ErrWrongPassword = errors.New("wrong password for the private key (or the key file is corrupt)")

// The scrypt and secretbox parameters cosign (go-securesystemslib's
// encrypted package) uses.
const (
	scryptN      = 32768
	scryptR      = 8
	scryptP      = 1
	saltSize     = 32
	nonceSize    = 24
	boxKeySize   = 32
	maxScryptN   = 1 << 20 // refuse files that would make us burn memory
	kdfScrypt    = "scrypt"
	cipherNaclSB = "nacl/secretbox"
)

// encryptedKey is the JSON inside an encrypted cosign key PEM block.
type encryptedKey struct {
	KDF struct {
		Name   string `json:"name"`
		Params struct {
			N int `json:"N"`
			R int `json:"r"`
			P int `json:"p"`
		} `json:"params"`
		Salt []byte `json:"salt"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

// Signer signs with an ECDSA P-256 private key (SHA-256, ASN.1 DER
// signatures), as cosign does with its key pairs.
type Signer struct {
	key *ecdsa.PrivateKey
}

// Verifier checks signatures made by a Signer.
type Verifier struct {
	key *ecdsa.PublicKey
}

// NewSigner wraps an ECDSA key.
func NewSigner(k *ecdsa.PrivateKey) *Signer { return &Signer{key: k} }

// Sign signs sha256(data).
func (s *Signer) Sign(data []byte) ([]byte, error) {
	h := sha256.Sum256(data)
	return ecdsa.SignASN1(rand.Reader, s.key, h[:])
}

// Verifier returns the signer's public half.
func (s *Signer) Verifier() *Verifier { return &Verifier{key: &s.key.PublicKey} }

// Verify checks an ASN.1 ECDSA signature over sha256(data).
func (v *Verifier) Verify(data, sig []byte) bool {
	h := sha256.Sum256(data)
	return ecdsa.VerifyASN1(v.key, h[:], sig)
}

// PublicPEM is the public key as cosign writes cosign.pub.
func (v *Verifier) PublicPEM() ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(v.key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: PEMPublicKey, Bytes: der}), nil
}

// GenerateKeyPair makes an ECDSA P-256 key pair in cosign's format: the
// private key PKCS#8-encoded, encrypted with scrypt + nacl/secretbox under
// password, in an "ENCRYPTED SIGSTORE PRIVATE KEY" PEM block; the public
// key a PKIX "PUBLIC KEY" PEM block.
func GenerateKeyPair(password []byte) (privPEM, pubPEM []byte, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	privPEM, err = EncryptPrivateKey(k, password)
	if err != nil {
		return nil, nil, err
	}
	pubPEM, err = NewSigner(k).Verifier().PublicPEM()
	return privPEM, pubPEM, err
}

// EncryptPrivateKey encodes k as cosign does.
func EncryptPrivateKey(k *ecdsa.PrivateKey, password []byte) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	var e encryptedKey
	e.KDF.Name = kdfScrypt
	e.KDF.Params.N, e.KDF.Params.R, e.KDF.Params.P = scryptN, scryptR, scryptP
	e.KDF.Salt = make([]byte, saltSize)
	e.Cipher.Name = cipherNaclSB
	e.Cipher.Nonce = make([]byte, nonceSize)
	if _, err := io.ReadFull(rand.Reader, e.KDF.Salt); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rand.Reader, e.Cipher.Nonce); err != nil {
		return nil, err
	}
	boxKey, err := scrypt.Key(password, e.KDF.Salt, scryptN, scryptR, scryptP, boxKeySize)
	if err != nil {
		return nil, err
	}
	var key [boxKeySize]byte
	var nonce [nonceSize]byte
	copy(key[:], boxKey)
	copy(nonce[:], e.Cipher.Nonce)
	e.Ciphertext = secretbox.Seal(nil, der, &nonce, &key)
	data, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: PEMSigstorePrivateKey, Bytes: data}), nil
}

// LoadPrivateKey decrypts a cosign private key file (either PEM type) with
// password. A wrong password gives ErrWrongPassword.
func LoadPrivateKey(data, password []byte) (*Signer, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("not a PEM file (want a cosign private key, e.g. cosign.key)")
	}
	if b.Type != PEMSigstorePrivateKey && b.Type != PEMCosignPrivateKey {
		return nil, fmt.Errorf("PEM block %q is not an encrypted cosign private key (%q)", b.Type, PEMSigstorePrivateKey)
	}
	var e encryptedKey
	if err := json.Unmarshal(b.Bytes, &e); err != nil {
		return nil, fmt.Errorf("encrypted key: %w", err)
	}
	if e.KDF.Name != kdfScrypt || e.Cipher.Name != cipherNaclSB {
		return nil, fmt.Errorf("encrypted key: kdf %q and cipher %q, want %q and %q", e.KDF.Name, e.Cipher.Name, kdfScrypt, cipherNaclSB)
	}
	if e.KDF.Params.N <= 1 || e.KDF.Params.N > maxScryptN || e.KDF.Params.R <= 0 || e.KDF.Params.R > 32 || e.KDF.Params.P <= 0 || e.KDF.Params.P > 16 || len(e.Cipher.Nonce) != nonceSize {
		return nil, fmt.Errorf("encrypted key: unreasonable scrypt parameters N=%d r=%d p=%d or nonce size %d", e.KDF.Params.N, e.KDF.Params.R, e.KDF.Params.P, len(e.Cipher.Nonce))
	}
	boxKey, err := scrypt.Key(password, e.KDF.Salt, e.KDF.Params.N, e.KDF.Params.R, e.KDF.Params.P, boxKeySize)
	if err != nil {
		return nil, fmt.Errorf("encrypted key: %w", err)
	}
	var key [boxKeySize]byte
	var nonce [nonceSize]byte
	copy(key[:], boxKey)
	copy(nonce[:], e.Cipher.Nonce)
	der, ok := secretbox.Open(nil, e.Ciphertext, &nonce, &key)
	if !ok {
		return nil, ErrWrongPassword
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("decrypted key: %w", err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("decrypted key is a %T, want ECDSA P-256", k)
	}
	return NewSigner(ek), nil
}

// LoadPublicKey reads a PKIX "PUBLIC KEY" PEM file (cosign.pub).
func LoadPublicKey(data []byte) (*Verifier, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("not a PEM file (want a public key, e.g. cosign.pub)")
	}
	if b.Type != PEMPublicKey {
		return nil, fmt.Errorf("PEM block %q is not a %q", b.Type, PEMPublicKey)
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is a %T, want ECDSA", k)
	}
	return &Verifier{key: ek}, nil
}
