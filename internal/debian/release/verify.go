package release

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Errors a SignatureCheck.Err or a VerifyInRelease error can wrap (test with
// errors.Is).
var (
	ErrNotClearsigned = errors.New("not an OpenPGP clearsigned message")
	ErrTrailingData   = errors.New("data after the end of the signature block")
	ErrUnknownKey     = errors.New("key not in keyring")
	ErrBadSignature   = errors.New("bad signature")
	ErrKeyExpired     = errors.New("key expired")
	ErrKeyRevoked     = errors.New("key revoked")
	ErrKeyUnusable    = errors.New("key cannot be used to verify this signature")
	ErrWeakSignature  = errors.New("signature uses a weak or unsupported algorithm")
)

// maxClockSkew is how far in the future (relative to now) a signature's
// creation time may be: archive servers' and users' clocks disagree a little.
const maxClockSkew = 15 * time.Minute

// SignatureCheck is the outcome of checking one signature of an InRelease file.
type SignatureCheck struct {
	KeyID       string // issuer key ID, 16 upper-case hex digits ("" if the signature names none)
	Fingerprint string // fingerprint of the signing (sub)key, if it is in the keyring
	UserID      string // primary user ID of the signing key, if it is in the keyring
	Algorithm   string // e.g. "RSA-4096", "EdDSA"
	Created     time.Time
	Err         error // nil when this signature is good
}

// String describes the check, e.g.
// "RSA-4096 key 6ED0E7B82643E131 (Debian Archive ...): good".
func (c SignatureCheck) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s key %s", c.Algorithm, orNone(c.KeyID))
	if c.UserID != "" {
		fmt.Fprintf(&b, " (%s)", c.UserID)
	}
	if !c.Created.IsZero() {
		fmt.Fprintf(&b, " signed %s", c.Created.UTC().Format(time.RFC3339))
	}
	if c.Err == nil {
		b.WriteString(": good")
	} else {
		fmt.Fprintf(&b, ": %v", c.Err)
	}
	return b.String()
}

// Verified is a successfully verified InRelease file.
type Verified struct {
	// Body is the signed text (the Release file) with LF line endings and
	// a final newline. Trailing spaces on lines are removed, as they are not
	// covered by the signature.
	Body []byte
	// Signatures holds one check per signature packet, in file order.
	Signatures []SignatureCheck
}

// Good returns the checks of the good signatures.
func (v *Verified) Good() []SignatureCheck {
	var good []SignatureCheck
	for _, c := range v.Signatures {
		if c.Err == nil {
			good = append(good, c)
		}
	}
	return good
}

// VerifyError is returned by VerifyInRelease when the file is well formed
// but no signature is good.
type VerifyError struct {
	Name       string
	Signatures []SignatureCheck // empty when the file has no signature at all
}

func (e *VerifyError) Error() string {
	if len(e.Signatures) == 0 {
		return fmt.Sprintf("%s: no signatures in the signature block", e.Name)
	}
	parts := make([]string, len(e.Signatures))
	for i, c := range e.Signatures {
		parts[i] = c.Err.Error()
	}
	return fmt.Sprintf("%s: no good signature from a trusted key (%d signature(s)): %s",
		e.Name, len(e.Signatures), strings.Join(parts, "; "))
}

// Unwrap returns the per-signature errors, so errors.Is(err, ErrUnknownKey)
// and the like work on a VerifyError.
func (e *VerifyError) Unwrap() []error {
	errs := make([]error, 0, len(e.Signatures))
	for _, c := range e.Signatures {
		errs = append(errs, c.Err)
	}
	return errs
}

// VerifyInRelease checks an InRelease (clearsigned) file. name identifies it
// in errors (e.g. its URL or "bookworm/InRelease").
//
// Every signature packet is checked on its own. The file is accepted when at
// least one signature is good: cryptographically valid over the text, made by
// a key or subkey in kr that is signing-capable and neither expired nor
// revoked at now, with a strong hash (not MD5/SHA-1/RIPEMD-160), not expired
// and not created more than a few minutes after now. Other signatures (for
// instance by keys not in kr) are reported in Verified.Signatures but do not
// cause a failure.
//
// It fails when data is not a single clearsigned message (leading or trailing
// data is refused), or, with a *VerifyError, when no signature is good.
func VerifyInRelease(name string, data []byte, kr *Keyring, now time.Time) (*Verified, error) {
	if kr == nil {
		return nil, fmt.Errorf("%s: no keyring to verify against", name)
	}
	if !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("-----BEGIN PGP SIGNED MESSAGE-----")) {
		return nil, fmt.Errorf("%s: %w: it does not start with -----BEGIN PGP SIGNED MESSAGE-----", name, ErrNotClearsigned)
	}
	block, rest := clearsign.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: %w: malformed message (bad header, missing or corrupt signature block)", name, ErrNotClearsigned)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("%s: %w (%d bytes after -----END PGP SIGNATURE-----)", name, ErrTrailingData, len(rest))
	}

	var checks []SignatureCheck
	packets := packet.NewReader(block.ArmoredSignature.Body)
	for {
		p, err := packets.NextWithUnsupported()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w: corrupt signature block: %v", name, ErrNotClearsigned, err)
		}
		switch p := p.(type) {
		case *packet.Signature:
			checks = append(checks, kr.check(p, block.Bytes, now))
		case *packet.UnsupportedPacket:
			c := SignatureCheck{Err: &checkError{ErrWeakSignature, "unsupported signature: " + p.Error.Error()}}
			if sig, ok := p.IncompletePacket.(*packet.Signature); ok {
				if sig.IssuerKeyId != nil {
					c.KeyID = fmt.Sprintf("%016X", *sig.IssuerKeyId)
				}
				c.Algorithm = algoName(sig.PubKeyAlgo)
				c.Created = sig.CreationTime
				c.Err = &checkError{ErrWeakSignature, fmt.Sprintf("unsupported signature by key %s: %v", orNone(c.KeyID), p.Error)}
			}
			checks = append(checks, c)
		default:
			return nil, fmt.Errorf("%s: %w: unexpected %T packet in the signature block", name, ErrNotClearsigned, p)
		}
	}

	v := &Verified{Signatures: checks}
	if len(v.Good()) == 0 {
		return nil, &VerifyError{Name: name, Signatures: checks}
	}
	body := block.Plaintext
	if len(body) > 0 {
		body = append(body[:len(body):len(body)], '\n')
	}
	v.Body = body
	return v, nil
}

// checkError is a per-signature error with a readable message that wraps one
// of the Err* kinds.
type checkError struct {
	kind error
	msg  string
}

func (e *checkError) Error() string { return e.msg }
func (e *checkError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &checkError{kind, fmt.Sprintf(format, args...)}
}

// check verifies one signature over signed (the canonical clearsigned text:
// CRLF line ends, no trailing whitespace, no final line break).
func (k *Keyring) check(sig *packet.Signature, signed []byte, now time.Time) SignatureCheck {
	c := SignatureCheck{Algorithm: algoName(sig.PubKeyAlgo), Created: sig.CreationTime}
	if sig.IssuerKeyId == nil {
		c.Err = errorf(ErrUnknownKey, "signature names no issuer key")
		return c
	}
	c.KeyID = fmt.Sprintf("%016X", *sig.IssuerKeyId)

	var candidates []openpgp.Key
	for _, key := range k.entities.KeysById(*sig.IssuerKeyId) {
		if sig.CheckKeyIdOrFingerprint(key.PublicKey) {
			candidates = append(candidates, key)
		}
	}
	if len(candidates) == 0 {
		c.Err = errorf(ErrUnknownKey, "key %s not in keyring", c.KeyID)
		return c
	}

	// Normally there is exactly one candidate; with a key ID collision,
	// any candidate that verifies will do, else report the first failure.
	var first SignatureCheck
	for i, key := range candidates {
		r := c
		r.Fingerprint = fmt.Sprintf("%X", key.PublicKey.Fingerprint)
		r.UserID = userID(key.Entity)
		r.Algorithm = algorithmName(key.PublicKey)
		r.Err = checkWith(key, sig, signed, now)
		if r.Err == nil {
			return r
		}
		if i == 0 {
			first = r
		}
	}
	return first
}

func checkWith(key openpgp.Key, sig *packet.Signature, signed []byte, now time.Time) error {
	id := key.PublicKey.KeyIdString()
	if err := usable(key, now); err != nil {
		return err
	}
	switch sig.Hash {
	case crypto.MD5, crypto.SHA1, crypto.RIPEMD160:
		return errorf(ErrWeakSignature, "signature by key %s uses weak hash %v", id, sig.Hash)
	}
	if sig.SigType != packet.SigTypeText && sig.SigType != packet.SigTypeBinary {
		return errorf(ErrBadSignature, "bad signature by key %s: signature type %#x is not a document signature", id, sig.SigType)
	}
	for _, n := range sig.Notations {
		if n.IsCritical {
			return errorf(ErrBadSignature, "bad signature by key %s: unknown critical notation %q", id, n.Name)
		}
	}

	h, err := sig.PrepareVerify()
	if err != nil {
		return errorf(ErrWeakSignature, "signature by key %s: %v", id, err)
	}
	var w hash.Hash = h
	if sig.SigType == packet.SigTypeText {
		w = openpgp.NewCanonicalTextHash(h)
	}
	w.Write(signed)
	if err := key.PublicKey.VerifySignature(h, sig); err != nil {
		return errorf(ErrBadSignature, "bad signature by key %s: %v", id, err)
	}

	// Times are checked after the cryptography so that they are trustworthy.
	if sig.CreationTime.After(now.Add(maxClockSkew)) {
		return errorf(ErrBadSignature, "signature by key %s was made at %s, in the future (now is %s; check the clock)",
			id, fmtTime(sig.CreationTime), fmtTime(now))
	}
	if sig.CreationTime.Unix() < key.PublicKey.CreationTime.Unix() {
		return errorf(ErrBadSignature, "signature by key %s was made at %s, before the key was created (%s)",
			id, fmtTime(sig.CreationTime), fmtTime(key.PublicKey.CreationTime))
	}
	if sig.SigLifetimeSecs != nil && *sig.SigLifetimeSecs != 0 {
		exp := sig.CreationTime.Add(time.Duration(*sig.SigLifetimeSecs) * time.Second)
		if now.After(exp) {
			return errorf(ErrKeyExpired, "signature by key %s expired at %s (now is %s)", id, fmtTime(exp), fmtTime(now))
		}
	}
	return nil
}

// usable reports why key (a primary key or subkey of a trusted entity) cannot
// be used to verify signatures at now, or nil.
func usable(key openpgp.Key, now time.Time) error {
	e := key.Entity
	isSubkey := key.PublicKey != e.PrimaryKey
	// what names the signing key, and its primary key when it is a subkey.
	what := "key " + key.PublicKey.KeyIdString()
	if isSubkey {
		what += " (subkey of " + e.PrimaryKey.KeyIdString() + ")"
	}
	selfSig, ident := e.PrimarySelfSignature()
	if selfSig == nil {
		return errorf(ErrKeyUnusable, "%s: primary key has no valid self-signature", what)
	}

	if e.Revoked(now) {
		return errorf(ErrKeyRevoked, "%s is revoked", what)
	}
	if ident != nil && ident.Revoked(now) {
		return errorf(ErrKeyRevoked, "%s: user ID %q is revoked", what, ident.Name)
	}
	if isSubkey && key.Revoked(now) {
		return errorf(ErrKeyRevoked, "%s: subkey is revoked", what)
	}

	if exp, ok := keyExpiry(e.PrimaryKey, selfSig); ok && now.After(exp) {
		return errorf(ErrKeyExpired, "%s expired at %s (now is %s)", what, fmtTime(exp), fmtTime(now))
	}
	if e.PrimaryKey.CreationTime.After(now.Add(maxClockSkew)) {
		return errorf(ErrKeyUnusable, "%s is created in the future (%s; now is %s)", what, fmtTime(e.PrimaryKey.CreationTime), fmtTime(now))
	}
	if selfSig.SigLifetimeSecs != nil && *selfSig.SigLifetimeSecs != 0 {
		exp := selfSig.CreationTime.Add(time.Duration(*selfSig.SigLifetimeSecs) * time.Second)
		if now.After(exp) {
			return errorf(ErrKeyExpired, "%s: self-signature expired at %s (now is %s)", what, fmtTime(exp), fmtTime(now))
		}
	}

	sig := selfSig
	if isSubkey {
		sig = key.SelfSignature
		if sig == nil {
			return errorf(ErrKeyUnusable, "%s: subkey has no binding signature", what)
		}
		if exp, ok := keyExpiry(key.PublicKey, sig); ok && now.After(exp) {
			return errorf(ErrKeyExpired, "%s: subkey expired at %s (now is %s)", what, fmtTime(exp), fmtTime(now))
		}
		if sig.SigLifetimeSecs != nil && *sig.SigLifetimeSecs != 0 {
			exp := sig.CreationTime.Add(time.Duration(*sig.SigLifetimeSecs) * time.Second)
			if now.After(exp) {
				return errorf(ErrKeyExpired, "%s: subkey binding signature expired at %s (now is %s)", what, fmtTime(exp), fmtTime(now))
			}
		}
	}
	if !sig.FlagsValid || !sig.FlagSign || !key.PublicKey.PubKeyAlgo.CanSign() {
		return errorf(ErrKeyUnusable, "%s is not a signing key", what)
	}
	return nil
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
