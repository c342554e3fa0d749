package release

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Keyring is a set of trusted archive keys. It is read-only once built and
// safe for concurrent use.
type Keyring struct {
	entities openpgp.EntityList
}

//go:embed keys/debian-archive-keyring.gpg
var debianArchiveKeyring []byte

var embedded = sync.OnceValues(func() (*Keyring, error) {
	el, err := readKeyring(debianArchiveKeyring)
	if err != nil {
		return nil, fmt.Errorf("embedded keys/debian-archive-keyring.gpg: %w", err)
	}
	return &Keyring{entities: el}, nil
})

// EmbeddedKeyring returns Debian's archive keys, as shipped in the
// debian-archive-keyring package (see keys/README). The same Keyring is
// returned on every call.
func EmbeddedKeyring() (*Keyring, error) { return embedded() }

// LoadKeyring reads a keyring file: binary OpenPGP packets (like
// /usr/share/keyrings/*.gpg) or ASCII-armored public key blocks (*.asc).
func LoadKeyring(path string) (*Keyring, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("keyring %s: is a directory, want one keyring file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w", path, err)
	}
	el, err := readKeyring(data)
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w", path, err)
	}
	return &Keyring{entities: el}, nil
}

// NewKeyring returns a Keyring trusting entities (only their public parts
// are used).
func NewKeyring(entities openpgp.EntityList) *Keyring {
	return &Keyring{entities: append(openpgp.EntityList(nil), entities...)}
}

// Entities returns the keys of the keyring. The caller must not modify them.
func (k *Keyring) Entities() openpgp.EntityList { return k.entities }

// Describe returns one line per key: the primary key's fingerprint, its
// primary user ID, algorithm and expiry, e.g.
// "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8 Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org> (RSA-4096, expires 2031-01-19)".
func (k *Keyring) Describe() []string {
	lines := make([]string, 0, len(k.entities))
	for _, e := range k.entities {
		selfSig, _ := e.PrimarySelfSignature()
		state := "no expiry"
		if exp, ok := keyExpiry(e.PrimaryKey, selfSig); ok {
			state = "expires " + exp.UTC().Format(time.DateOnly)
		}
		if len(e.Revocations) > 0 {
			state += ", revoked"
		}
		subs := 0
		for _, s := range e.Subkeys {
			if s.Sig != nil && s.Sig.FlagsValid && s.Sig.FlagSign {
				subs++
			}
		}
		if subs > 0 {
			state += fmt.Sprintf(", %d signing subkey(s)", subs)
		}
		lines = append(lines, fmt.Sprintf("%X %s (%s, %s)", e.PrimaryKey.Fingerprint, userID(e), algorithmName(e.PrimaryKey), state))
	}
	return lines
}

// readKeyring parses binary or armored (one or more blocks) keyring data.
func readKeyring(data []byte) (openpgp.EntityList, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, errors.New("empty keyring")
	}
	var el openpgp.EntityList
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN PGP")) {
		// armor.Decode reads ahead, so split the blocks first.
		rest := trimmed
		for n := 1; ; n++ {
			i := bytes.Index(rest, []byte("-----BEGIN PGP"))
			if i < 0 {
				break
			}
			j := bytes.Index(rest[i:], []byte("-----END PGP"))
			if j < 0 {
				return nil, fmt.Errorf("armored block %d has no -----END PGP line", n)
			}
			end := i + j
			if k := bytes.IndexByte(rest[end:], '\n'); k >= 0 {
				end += k + 1
			} else {
				end = len(rest)
			}
			block, err := armor.Decode(bytes.NewReader(rest[i:end]))
			if err != nil {
				return nil, fmt.Errorf("armored block %d: bad ASCII armor: %w", n, err)
			}
			if block.Type != openpgp.PublicKeyType {
				return nil, fmt.Errorf("armored block %d is %q, want %q", n, block.Type, openpgp.PublicKeyType)
			}
			part, err := openpgp.ReadKeyRing(block.Body)
			if err != nil {
				return nil, fmt.Errorf("armored block %d: %w", n, err)
			}
			el = append(el, part...)
			rest = rest[end:]
		}
	} else {
		var err error
		el, err = openpgp.ReadKeyRing(bytes.NewReader(trimmed))
		if err != nil {
			return nil, fmt.Errorf("not an OpenPGP keyring (binary or ASCII-armored): %w", err)
		}
	}
	if len(el) == 0 {
		return nil, errors.New("no usable keys")
	}
	return el, nil
}

func userID(e *openpgp.Entity) string {
	if id := e.PrimaryIdentity(); id != nil {
		return id.Name
	}
	return "(no user ID)"
}

// keyExpiry returns when pk expires according to its self-signature sig.
func keyExpiry(pk *packet.PublicKey, sig *packet.Signature) (time.Time, bool) {
	if sig == nil || sig.KeyLifetimeSecs == nil || *sig.KeyLifetimeSecs == 0 {
		return time.Time{}, false
	}
	return pk.CreationTime.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second), true
}

// algorithmName names a key's algorithm and size: "RSA-4096", "EdDSA", ...
func algorithmName(pk *packet.PublicKey) string {
	name := algoName(pk.PubKeyAlgo)
	switch pk.PubKeyAlgo {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly, packet.PubKeyAlgoDSA:
		if bits, err := pk.BitLength(); err == nil {
			return fmt.Sprintf("%s-%d", name, bits)
		}
	case packet.PubKeyAlgoECDSA:
		if c, err := pk.Curve(); err == nil {
			return fmt.Sprintf("%s-%s", name, c)
		}
	}
	return name
}

func algoName(a packet.PublicKeyAlgorithm) string {
	switch a {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly, packet.PubKeyAlgoRSAEncryptOnly:
		return "RSA"
	case packet.PubKeyAlgoDSA:
		return "DSA"
	case packet.PubKeyAlgoECDSA:
		return "ECDSA"
	case packet.PubKeyAlgoEdDSA:
		return "EdDSA"
	case packet.PubKeyAlgoEd25519:
		return "Ed25519"
	case packet.PubKeyAlgoEd448:
		return "Ed448"
	}
	return fmt.Sprintf("algorithm-%d", a)
}
