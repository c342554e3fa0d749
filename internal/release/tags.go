package release

import (
	"context"
	"errors"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrNoTag is returned (wrapped) by Tags.Get for a tag that does not exist.
var ErrNoTag = errors.New("no such tag")

// Tags is the registry as releases see it: tags that name digests.
// Moving a channel is Put of a digest already in the repository: nothing
// is rebuilt or re-signed.
type Tags interface {
	// Get returns the digest repo:tag names.
	Get(ctx context.Context, repo, tag string) (string, error)
	// Put makes repo:tag name digest, which must already be stored.
	Put(ctx context.Context, repo, tag, digest string) error
	// Push stores an image index and tags it (publish).
	Push(ctx context.Context, repo, tag string, idx v1.ImageIndex) error
}
