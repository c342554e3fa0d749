package release

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/temper-dev/temper/internal/attest"
)

// RemoteTags keeps tags in a registry: image <Prefix>/<repo>:<tag>.
type RemoteTags struct {
	// Prefix is HOST[/PATH], e.g. 127.0.0.1:5000/temper.
	Prefix  string
	Options []remote.Option
	// Insecure allows plain HTTP (loopback registries).
	Insecure bool
}

func (r RemoteTags) repo(repo string) (name.Repository, error) {
	var opts []name.Option
	if r.Insecure {
		opts = append(opts, name.Insecure)
	}
	return name.NewRepository(strings.TrimRight(r.Prefix, "/")+"/"+repo, opts...)
}

func (r RemoteTags) opts(ctx context.Context) []remote.Option {
	return append([]remote.Option{remote.WithContext(ctx)}, r.Options...)
}

func (r RemoteTags) Get(ctx context.Context, repo, tag string) (string, error) {
	rp, err := r.repo(repo)
	if err != nil {
		return "", err
	}
	ref := rp.Tag(tag)
	d, err := remote.Head(ref, r.opts(ctx)...)
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
		return "", fmt.Errorf("%s: %w", ref, ErrNoTag)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", ref, err)
	}
	return d.Digest.String(), nil
}

func (r RemoteTags) Put(ctx context.Context, repo, tag, digest string) error {
	rp, err := r.repo(repo)
	if err != nil {
		return err
	}
	desc, err := remote.Get(rp.Digest(digest), r.opts(ctx)...)
	if err != nil {
		return fmt.Errorf("%s@%s: %w", rp, digest, err)
	}
	if err := remote.Tag(rp.Tag(tag), desc, r.opts(ctx)...); err != nil {
		return fmt.Errorf("%s: %w", rp.Tag(tag), err)
	}
	return nil
}

func (r RemoteTags) Push(ctx context.Context, repo, tag string, idx v1.ImageIndex) error {
	rp, err := r.repo(repo)
	if err != nil {
		return err
	}
	if err := remote.WriteIndex(rp.Tag(tag), idx, r.opts(ctx)...); err != nil {
		return fmt.Errorf("%s: %w", rp.Tag(tag), err)
	}
	return nil
}

func (r RemoteTags) Repository(repo string) string {
	rp, err := r.repo(repo)
	if err != nil {
		return strings.TrimRight(r.Prefix, "/") + "/" + repo
	}
	return rp.String()
}

func (r RemoteTags) PutBundle(ctx context.Context, repo string, b *attest.Bundle) error {
	rp, err := r.repo(repo)
	if err != nil {
		return err
	}
	return b.Push(ctx, rp, r.Options...)
}

func (r RemoteTags) Attestations(ctx context.Context, repo, digest string) (v1.Image, error) {
	rp, err := r.repo(repo)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(rp.Tag(attest.AttTag(digest)), r.opts(ctx)...)
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rp.Tag(attest.AttTag(digest)), err)
	}
	return img, nil
}

func (r RemoteTags) PutAttestations(ctx context.Context, repo, digest string, img v1.Image) error {
	rp, err := r.repo(repo)
	if err != nil {
		return err
	}
	if err := remote.Write(rp.Tag(attest.AttTag(digest)), img, r.opts(ctx)...); err != nil {
		return fmt.Errorf("%s: %w", rp.Tag(attest.AttTag(digest)), err)
	}
	return nil
}

func (r RemoteTags) Index(ctx context.Context, repo, digest string) (v1.ImageIndex, error) {
	rp, err := r.repo(repo)
	if err != nil {
		return nil, err
	}
	return remote.Index(rp.Digest(digest), r.opts(ctx)...)
}
