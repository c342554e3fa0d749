package release

import (
	"context"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"

	"github.com/temper-dev/temper/internal/attest"
)

// Artifacts is where a registry keeps what is attached to a digest, in
// cosign's layout (sha256-<hex>.sig and .att images beside the image):
// LayoutTags and RemoteTags implement it.
type Artifacts interface {
	// Repository is the name statements use for repo: "<prefix>/<repo>"
	// in a registry, repo in a layout.
	Repository(repo string) string
	// PutBundle writes a build's signatures and attestations.
	PutBundle(ctx context.Context, repo string, b *attest.Bundle) error
	// Attestations reads digest's attestation image; nil, nil when there
	// is none.
	Attestations(ctx context.Context, repo, digest string) (v1.Image, error)
	// PutAttestations replaces digest's attestation image.
	PutAttestations(ctx context.Context, repo, digest string, img v1.Image) error
	// Index reads a stored image index by digest.
	Index(ctx context.Context, repo, digest string) (v1.ImageIndex, error)
}

// PromotionStatement is the in-toto statement of one channel move, about
// the release's digest in repository repo.
func PromotionStatement(repo string, p Promotion) ([]byte, error) {
	pred, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return attest.NewStatement(PromotionPredicate, pred, attest.DigestSubject(repo, p.Digest))
}

// PromotionAttester is the Service.Attest hook that signs each move with
// s and appends it to the digest's attestation image, next to the build's
// SBOM and provenance attestations, where `cosign verify-attestation
// --type https://temper.dev/promotion/v1` and `temper verify --channel`
// find it. Nothing is re-signed: the image's signature is untouched.
func PromotionAttester(a Artifacts, s *attest.Signer) func(context.Context, Promotion) error {
	return func(ctx context.Context, p Promotion) error {
		name, _, err := SplitStream(p.Stream)
		if err != nil {
			return err
		}
		st, err := PromotionStatement(a.Repository(name), p)
		if err != nil {
			return err
		}
		layer, err := attest.AttestationLayer(s, PromotionPredicate, st)
		if err != nil {
			return fmt.Errorf("signing the promotion: %w", err)
		}
		img, err := a.Attestations(ctx, name, p.Digest)
		if err != nil {
			return err
		}
		if img, err = appendLayer(img, layer); err != nil {
			return err
		}
		return a.PutAttestations(ctx, name, p.Digest, img)
	}
}

// appendLayer adds one attestation layer to an attestation image (a new
// one when img is nil), as cosign attest does.
func appendLayer(img v1.Image, l attest.Layer) (v1.Image, error) {
	if img == nil {
		return attest.Image([]attest.Layer{l})
	}
	return mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(l.Data, l.MediaType), Annotations: l.Annotations})
}
