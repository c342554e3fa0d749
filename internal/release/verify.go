package release

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/temper-dev/temper/internal/attest"
)

// Chain is what VerifyChannel found: the signed moves of one digest.
type Chain struct {
	Digest string
	// Moves are the verified promotions into each channel up to the one
	// asked for, in channel order (the latest into each channel).
	Moves []Promotion
}

// VerifyChannel checks that the image ref names came through the
// channels into channel: its attestation image holds, for every channel up
// to and including channel, a promotion attestation signed by v about
// exactly this digest. Every attestation layer must verify (an
// attestation image is all ours or suspect).
func VerifyChannel(ctx context.Context, ref string, v *attest.Verifier, chs []Channel, channel string, opts ...remote.Option) (Chain, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return Chain{}, err
	}
	all := attest.RemoteOptions(ctx, opts...)
	desc, err := remote.Head(r, all...)
	if err != nil {
		return Chain{}, fmt.Errorf("%s: %w", ref, err)
	}
	digest := desc.Digest.String()
	img, err := attest.Fetch(ctx, r.Context(), attest.AttTag(digest), opts...)
	if err != nil {
		return Chain{Digest: digest}, fmt.Errorf("%s: no attestations: %w", digest, err)
	}
	moves, err := promotions(img, digest, v)
	if err != nil {
		return Chain{Digest: digest}, err
	}
	return chainInto(digest, moves, chs, channel)
}

// promotions are the verified promotion statements about digest.
func promotions(img v1.Image, digest string, v *attest.Verifier) ([]Promotion, error) {
	sts, err := attest.VerifyAttestations(img, digest, v)
	if err != nil {
		return nil, err
	}
	var out []Promotion
	for _, st := range sts {
		if st.PredicateType != PromotionPredicate {
			continue
		}
		var p Promotion
		if err := json.Unmarshal(st.Statement.Predicate, &p); err != nil {
			return nil, fmt.Errorf("promotion attestation: %w", err)
		}
		if p.Digest != digest {
			return nil, fmt.Errorf("a promotion attestation about %s names %s", digest, p.Digest)
		}
		out = append(out, p)
	}
	return out, nil
}

// chainInto picks, for each channel up to channel, the latest move into
// it, and names the channels with none.
func chainInto(digest string, moves []Promotion, chs []Channel, channel string) (Chain, error) {
	if len(chs) == 0 {
		chs = DefaultChannels()
	}
	c := Chain{Digest: digest}
	var missing []string
	for _, ch := range chs {
		var found *Promotion
		for i := range moves {
			if moves[i].To == ch.Name && (found == nil || moves[i].Time.After(found.Time)) {
				found = &moves[i]
			}
		}
		if found == nil {
			missing = append(missing, ch.Name)
		} else {
			c.Moves = append(c.Moves, *found)
		}
		if ch.Name == channel {
			if len(missing) > 0 {
				return c, fmt.Errorf("%s has no signed promotion into %s", digest, strings.Join(missing, ", "))
			}
			return c, nil
		}
	}
	return c, fmt.Errorf("unknown channel %q", channel)
}
