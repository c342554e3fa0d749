package attest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/temper-dev/temper/internal/oci"
)

// cosign's registry layout: the signatures of the manifest sha256:<hex>
// are the layers of the image tagged sha256-<hex>.sig in the same
// repository, its attestations the layers of sha256-<hex>.att.
const (
	MediaTypeSimpleSigning  = "application/vnd.dev.cosign.simplesigning.v1+json"
	MediaTypeDSSE           = "application/vnd.dsse.envelope.v1+json"
	AnnotationSignature     = "dev.cosignproject.cosign/signature"
	AnnotationPredicateType = "predicateType"
	SimpleSigningType       = "cosign container image signature"
)

// SigTag is the tag of a digest's signatures: sha256-<hex>.sig.
func SigTag(digest string) string { return strings.Replace(digest, ":", "-", 1) + ".sig" }

// AttTag is the tag of a digest's attestations: sha256-<hex>.att.
func AttTag(digest string) string { return strings.Replace(digest, ":", "-", 1) + ".att" }

// SimpleSigning is the payload cosign signs for an image.
type SimpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// SimpleSigningPayload is the payload signing digest in repository repo.
func SimpleSigningPayload(repo, digest string) []byte {
	var s SimpleSigning
	s.Critical.Identity.DockerReference = repo
	s.Critical.Image.DockerManifestDigest = digest
	s.Critical.Type = SimpleSigningType
	b, _ := json.Marshal(s)
	return b
}

// Layer is one layer of a signature or attestation image.
type Layer struct {
	MediaType   types.MediaType
	Data        []byte
	Annotations map[string]string
}

// SignatureLayer signs digest (in repository repo) and returns the
// simple-signing layer carrying the signature annotation.
func SignatureLayer(s *Signer, repo, digest string) (Layer, error) {
	payload := SimpleSigningPayload(repo, digest)
	sig, err := s.Sign(payload)
	if err != nil {
		return Layer{}, err
	}
	return Layer{MediaType: MediaTypeSimpleSigning, Data: payload, Annotations: map[string]string{AnnotationSignature: base64.StdEncoding.EncodeToString(sig)}}, nil
}

// AttestationLayer signs an in-toto statement into a DSSE envelope layer.
func AttestationLayer(s *Signer, predicateType string, statement []byte) (Layer, error) {
	env, err := SignEnvelope(s, PayloadTypeInToto, statement)
	if err != nil {
		return Layer{}, err
	}
	data, err := json.Marshal(env)
	if err != nil {
		return Layer{}, err
	}
	return Layer{MediaType: MediaTypeDSSE, Data: data, Annotations: map[string]string{AnnotationSignature: "", AnnotationPredicateType: predicateType}}, nil
}

// Image puts layers into an OCI image as cosign does: an empty OCI config
// listing the layers' diff IDs, one layer per signature or attestation.
func Image(layers []Layer) (v1.Image, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, l := range layers {
		var err error
		img, err = mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(l.Data, l.MediaType), Annotations: l.Annotations})
		if err != nil {
			return nil, err
		}
	}
	return img, nil
}

// Artifact is one signature or attestation image and the tag it goes to.
type Artifact struct {
	Tag   string // sha256-<hex>.sig or .att
	Image v1.Image
}

// Bundle is everything a signed build attaches, computed before anything
// is written: attestations first, then platform signatures, the index's
// signature last, so a reader never sees a signed index whose evidence is
// missing.
type Bundle struct {
	Attestations []Artifact
	Signatures   []Artifact // the index's signature last
}

// Repository parses a registry repository (or any reference in it);
// loopback registries may be plain HTTP.
func Repository(ref string) (name.Repository, error) {
	r, err := oci.ParseReference(ref)
	if err != nil {
		return name.Repository{}, err
	}
	return r.Context(), nil
}

// RemoteOptions are the defaults every registry call uses: the context
// and docker credentials; opts come after.
func RemoteOptions(ctx context.Context, opts ...remote.Option) []remote.Option {
	return append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}, opts...)
}

// Push writes the bundle to repo: all attestation images, then the
// platform signatures, then the index signature.
func (b *Bundle) Push(ctx context.Context, repo name.Repository, opts ...remote.Option) error {
	all := RemoteOptions(ctx, opts...)
	write := func(arts []Artifact) error {
		if len(arts) == 0 {
			return nil
		}
		m := map[name.Reference]remote.Taggable{}
		for _, a := range arts {
			m[repo.Tag(a.Tag)] = a.Image
		}
		return remote.MultiWrite(m, all...)
	}
	if err := write(b.Attestations); err != nil {
		return fmt.Errorf("attest: pushing attestations to %s: %w", repo, err)
	}
	n := len(b.Signatures)
	if n == 0 {
		return nil
	}
	if err := write(b.Signatures[:n-1]); err != nil {
		return fmt.Errorf("attest: pushing signatures to %s: %w", repo, err)
	}
	if err := write(b.Signatures[n-1:]); err != nil {
		return fmt.Errorf("attest: pushing signature %s to %s: %w", b.Signatures[n-1].Tag, repo, err)
	}
	return nil
}

// WriteLayout adds the bundle to the OCI layout at dir, each image named
// NAME:<tag> (e.g. python:sha256-<hex>.sig) with the
// org.opencontainers.image.ref.name annotation, replacing an earlier one.
func (b *Bundle) WriteLayout(dir, imageName string) error {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return fmt.Errorf("attest: layout %s: %w", dir, err)
		}
	}
	const refName = "org.opencontainers.image.ref.name"
	for _, a := range append(append([]Artifact(nil), b.Attestations...), b.Signatures...) {
		ref := imageName + ":" + a.Tag
		ann := map[string]string{refName: ref}
		if err := p.ReplaceImage(a.Image, match.Name(ref), layout.WithAnnotations(ann)); err != nil {
			return fmt.Errorf("attest: layout %s: %s: %w", dir, ref, err)
		}
	}
	return nil
}

// ErrNotFound says a digest has no signature or attestation image.
var ErrNotFound = errors.New("not found")

// Fetch reads the image tagged tag in repo; ErrNotFound when there is
// none.
func Fetch(ctx context.Context, repo name.Repository, tag string, opts ...remote.Option) (v1.Image, error) {
	img, err := remote.Image(repo.Tag(tag), RemoteOptions(ctx, opts...)...)
	if err != nil {
		var te interface{ Error() string }
		if errors.As(err, &te) && (strings.Contains(err.Error(), "MANIFEST_UNKNOWN") || strings.Contains(err.Error(), "NAME_UNKNOWN") || strings.Contains(err.Error(), "404")) {
			return nil, fmt.Errorf("%s:%s: %w", repo, tag, ErrNotFound)
		}
		return nil, fmt.Errorf("%s:%s: %w", repo, tag, err)
	}
	return img, nil
}

// layers returns each layer's media type, annotations and bytes.
func layers(img v1.Image) ([]Layer, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	var out []Layer
	for _, d := range m.Layers {
		l, err := img.LayerByDigest(d.Digest)
		if err != nil {
			return nil, err
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		_, err = buf.ReadFrom(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", d.Digest, err)
		}
		out = append(out, Layer{MediaType: d.MediaType, Data: buf.Bytes(), Annotations: d.Annotations})
	}
	return out, nil
}

// VerifySignatures checks that sigImg holds a simple-signing layer, signed
// by v, whose payload names digest. It returns the number of good
// signatures, or an error that says why none is.
func VerifySignatures(sigImg v1.Image, digest string, v *Verifier) (int, error) {
	ls, err := layers(sigImg)
	if err != nil {
		return 0, err
	}
	good := 0
	var why []string
	for i, l := range ls {
		if l.MediaType != MediaTypeSimpleSigning {
			why = append(why, fmt.Sprintf("layer %d: media type %s", i, l.MediaType))
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(l.Annotations[AnnotationSignature])
		if err != nil || len(sig) == 0 {
			why = append(why, fmt.Sprintf("layer %d: no %s annotation", i, AnnotationSignature))
			continue
		}
		if !v.Verify(l.Data, sig) {
			why = append(why, fmt.Sprintf("layer %d: the signature does not verify with the key", i))
			continue
		}
		var ss SimpleSigning
		if err := json.Unmarshal(l.Data, &ss); err != nil {
			why = append(why, fmt.Sprintf("layer %d: payload: %v", i, err))
			continue
		}
		if ss.Critical.Image.DockerManifestDigest != digest {
			why = append(why, fmt.Sprintf("layer %d: signs %s, not %s", i, ss.Critical.Image.DockerManifestDigest, digest))
			continue
		}
		good++
	}
	if good == 0 {
		if len(why) == 0 {
			why = append(why, "no signature layers")
		}
		return 0, errors.New(strings.Join(why, "; "))
	}
	return good, nil
}

// VerifiedStatement is an attestation whose DSSE signature verified and
// whose subjects include the digest.
type VerifiedStatement struct {
	PredicateType string
	Statement     Statement
}

// VerifyAttestations checks every DSSE layer of attImg with v and returns
// the statements about digest. Any layer that does not verify is an error:
// an attestation image is all ours or suspect.
func VerifyAttestations(attImg v1.Image, digest string, v *Verifier) ([]VerifiedStatement, error) {
	ls, err := layers(attImg)
	if err != nil {
		return nil, err
	}
	alg, hex, _ := strings.Cut(digest, ":")
	var out []VerifiedStatement
	for i, l := range ls {
		if l.MediaType != MediaTypeDSSE {
			return nil, fmt.Errorf("layer %d: media type %s, want %s", i, l.MediaType, MediaTypeDSSE)
		}
		env, payload, err := VerifyEnvelope(v, l.Data)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, l.Annotations[AnnotationPredicateType], err)
		}
		if env.PayloadType != PayloadTypeInToto {
			return nil, fmt.Errorf("layer %d: payload type %s", i, env.PayloadType)
		}
		var st Statement
		if err := json.Unmarshal(payload, &st); err != nil {
			return nil, fmt.Errorf("layer %d: statement: %w", i, err)
		}
		if st.Type != StatementType {
			return nil, fmt.Errorf("layer %d: statement type %q", i, st.Type)
		}
		if a := l.Annotations[AnnotationPredicateType]; a != "" && a != st.PredicateType {
			return nil, fmt.Errorf("layer %d: annotated %s but the signed statement says %s", i, a, st.PredicateType)
		}
		about := false
		for _, s := range st.Subject {
			if s.Digest[alg] == hex {
				about = true
			}
		}
		if !about {
			return nil, fmt.Errorf("layer %d (%s): the statement's subjects do not include %s", i, st.PredicateType, digest)
		}
		out = append(out, VerifiedStatement{PredicateType: st.PredicateType, Statement: st})
	}
	return out, nil
}
