package release

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/partial"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/oci"
)

// LayoutTags keeps tags in an OCI image layout directory (the local image
// store temper build writes): a tag is an index.json entry named
// repo:tag (org.opencontainers.image.ref.name), as skopeo and podman
// address oci:DIR:repo:tag.
type LayoutTags struct{ Dir string }

func (l LayoutTags) Get(_ context.Context, repo, tag string) (string, error) {
	idx, err := layout.ImageIndexFromPath(l.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s:%s in %s: %w", repo, tag, l.Dir, ErrNoTag)
	}
	if err != nil {
		return "", fmt.Errorf("layout %s: %w", l.Dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return "", fmt.Errorf("layout %s: %w", l.Dir, err)
	}
	ref := repo + ":" + tag
	for _, d := range im.Manifests {
		if d.Annotations[oci.RefNameAnnotation] == ref {
			return d.Digest.String(), nil
		}
	}
	return "", fmt.Errorf("%s in %s: %w", ref, l.Dir, ErrNoTag)
}

func (l LayoutTags) Put(_ context.Context, repo, tag, digest string) error {
	h, err := v1.NewHash(digest)
	if err != nil {
		return err
	}
	p, err := layout.FromPath(l.Dir)
	if err != nil {
		return fmt.Errorf("layout %s: %w", l.Dir, err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		return fmt.Errorf("layout %s: %w", l.Dir, err)
	}
	idx, err := top.ImageIndex(h)
	if err != nil {
		return fmt.Errorf("layout %s: %s is not stored: %w", l.Dir, digest, err)
	}
	// WriteLayout finds every blob present and only rewrites index.json,
	// under the layout's lock.
	return oci.WriteLayout(l.Dir, idx, repo+":"+tag)
}

func (l LayoutTags) Push(_ context.Context, repo, tag string, idx v1.ImageIndex) error {
	return oci.WriteLayout(l.Dir, idx, repo+":"+tag)
}

func (l LayoutTags) Repository(repo string) string { return repo }

func (l LayoutTags) PutBundle(_ context.Context, repo string, b *attest.Bundle) error {
	return b.WriteLayout(l.Dir, repo)
}

func (l LayoutTags) Attestations(_ context.Context, repo, digest string) (v1.Image, error) {
	p, err := layout.FromPath(l.Dir)
	if err != nil {
		return nil, fmt.Errorf("layout %s: %w", l.Dir, err)
	}
	im, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	imgs, err := partial.FindImages(im, match.Name(repo+":"+attest.AttTag(digest)))
	if err != nil || len(imgs) == 0 {
		return nil, err
	}
	return imgs[0], nil
}

func (l LayoutTags) PutAttestations(_ context.Context, repo, digest string, img v1.Image) error {
	b := attest.Bundle{Attestations: []attest.Artifact{{Tag: attest.AttTag(digest), Image: img}}}
	return b.WriteLayout(l.Dir, repo)
}

func (l LayoutTags) Index(_ context.Context, _ string, digest string) (v1.ImageIndex, error) {
	h, err := v1.NewHash(digest)
	if err != nil {
		return nil, err
	}
	top, err := layout.ImageIndexFromPath(l.Dir)
	if err != nil {
		return nil, fmt.Errorf("layout %s: %w", l.Dir, err)
	}
	return top.ImageIndex(h)
}

// Annotate sets an annotation on the index.json entry of repo:tag (the
// end-of-life mark on a frozen stream's production release). The image
// and its digest are unchanged: the entry is the layout's, not the
// image's.
func (l LayoutTags) Annotate(_ context.Context, repo, tag, key, value string) error {
	p, err := layout.FromPath(l.Dir)
	if err != nil {
		return fmt.Errorf("layout %s: %w", l.Dir, err)
	}
	ref := repo + ":" + tag
	top, err := p.ImageIndex()
	if err != nil {
		return err
	}
	im, err := top.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range im.Manifests {
		if d.Annotations[oci.RefNameAnnotation] != ref {
			continue
		}
		idx, err := top.ImageIndex(d.Digest)
		if err != nil {
			return err
		}
		ann := map[string]string{key: value}
		for k, v := range d.Annotations {
			ann[k] = v
		}
		ann[key] = value
		return p.ReplaceIndex(idx, match.Name(ref), layout.WithAnnotations(ann))
	}
	return fmt.Errorf("%s in %s: %w", ref, l.Dir, ErrNoTag)
}
