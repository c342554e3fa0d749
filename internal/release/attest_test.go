package release

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/store/storetest"
)

func testSigner(t *testing.T) *attest.Signer {
	t.Helper()
	priv, _, err := attest.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := attest.LoadPrivateKey(priv, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Publish and every move attach a signed promotion attestation to the
// digest; the chain into production verifies with the key, and a chain
// that skipped a channel does not.
func TestPromotionAttestations(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	signer := testSigner(t)
	for name, tags := range map[string]interface {
		Tags
		Artifacts
	}{
		"layout": LayoutTags{Dir: t.TempDir()},
		"remote": RemoteTags{Prefix: strings.TrimPrefix(srv.URL, "http://") + "/temper", Insecure: true},
	} {
		t.Run(name, func(t *testing.T) {
			c := newClock()
			svc := &Service{Store: storetest.SQLite(t).Store, Tags: tags, Now: c.now, Attest: PromotionAttester(tags, signer)}
			idx, err := random.Index(64, 1, 1)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := idx.Digest()
			p, err := svc.Publish(ctx, Candidate{Stream: stream("base:bookworm"), Index: idx, Digest: d.String(), BuildKey: "k1",
				Tests: passed("essential"), Gate: store.Result{Passed: true}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Store.RecordSnapshot(ctx, store.Snapshot{At: c.now(), Results: []store.SnapshotResult{{Stream: "base:bookworm", ReleaseID: p.Release.ID, Passed: true}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Promote(ctx, "base:bookworm", "staging", PromoteOptions{}); err != nil {
				t.Fatal(err)
			}
			img, err := tags.Attestations(ctx, "base", d.String())
			if err != nil || img == nil {
				t.Fatalf("attestations: %v, %v", img, err)
			}
			moves, err := promotions(img, d.String(), signer.Verifier())
			if err != nil || len(moves) != 2 || moves[1].To != "staging" || moves[1].From != "testing" || moves[1].Kind != store.KindPromote {
				t.Fatalf("promotions = %+v, %v", moves, err)
			}
			if _, err := chainInto(d.String(), moves, nil, "staging"); err != nil {
				t.Fatal(err)
			}
			if _, err := chainInto(d.String(), moves, nil, "production"); err == nil || !strings.Contains(err.Error(), "production") {
				t.Fatalf("production without a move: %v", err)
			}
			other := testSigner(t)
			if _, err := promotions(img, d.String(), other.Verifier()); err == nil {
				t.Fatal("verified with another key")
			}
		})
	}
}

// Freezing a stream marks its production release in the layout.
func TestEndOfLifeAnnotation(t *testing.T) {
	dir := t.TempDir()
	tags := LayoutTags{Dir: dir}
	c := newClock()
	svc := &Service{Store: storetest.SQLite(t).Store, Tags: tags, Now: c.now}
	idx, _ := random.Index(64, 1, 1)
	d, _ := idx.Digest()
	st := stream("base:buster")
	st.EOL = "2026-12-01"
	if _, err := svc.Publish(ctx, Candidate{Stream: st, Index: idx, Digest: d.String(), BuildKey: "k", Tests: passed("essential"), Gate: store.Result{Passed: true}}); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{"staging", "production"} {
		if _, err := svc.Promote(ctx, st.Name, ch, PromoteOptions{Force: true, Reason: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	c.add(3 * 24 * 60 * 60 * 1e9)
	_, err := svc.Promote(ctx, st.Name, "staging", PromoteOptions{})
	refusal(t, err, "frozen")
	im, err := layout.Path(dir).ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := im.IndexManifest()
	found := false
	for _, desc := range m.Manifests {
		if desc.Annotations[oci.RefNameAnnotation] == "base:buster" {
			found = desc.Annotations[EndOfLifeAnnotation] == "2026-12-01" && desc.Digest == d
		}
	}
	if !found {
		t.Fatalf("no %s on base:buster: %+v", EndOfLifeAnnotation, m.Manifests)
	}
}
