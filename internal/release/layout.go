package release

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

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
