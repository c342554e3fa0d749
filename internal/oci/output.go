package oci

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/temper-dev/temper/internal/leftover"
)

// WriteTarball writes one platform's image as a docker-archive tarball
// (manifest.json + config + layers) that `docker load` and `podman load`
// accept, tagged tag (e.g. "python:3.11"). It writes a temporary file next
// to path and renames it into place.
func WriteTarball(path string, img v1.Image, tag string) error {
	t, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("oci: tarball %s: tag: %w", path, err)
	}
	// A previous write of path that was killed left its temporary file.
	leftover.Clean(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	tmp, err := leftover.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("oci: tarball: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tarball.Write(t, img, tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("oci: tarball %s: %w", path, err)
	}
	if err := finish(tmp, path); err != nil {
		return fmt.Errorf("oci: tarball %s: %w", path, err)
	}
	return nil
}

// Push uploads the index, every platform's image and its blobs to ref (a
// tag or digest reference), authenticating with the user's docker
// credentials (authn.DefaultKeychain: ~/.docker/config.json, $DOCKER_CONFIG,
// credential helpers). A registry on a loopback host (localhost,
// 127.0.0.0/8, ::1) may be plain HTTP. opts come after the defaults, so a
// caller can override them (e.g. remote.WithAuth, remote.WithTransport).
func Push(ctx context.Context, ref string, idx v1.ImageIndex, opts ...remote.Option) error {
	r, err := ParseReference(ref)
	if err != nil {
		return fmt.Errorf("oci: push: %w", err)
	}
	all := append([]remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
	}, opts...)
	if err := remote.WriteIndex(r, idx, all...); err != nil {
		return fmt.Errorf("oci: push %s: %w", ref, err)
	}
	return nil
}

// ParseReference parses an image reference; a registry on a loopback host
// (localhost, 127.0.0.0/8, ::1) may be plain HTTP, as a registry started
// for tests or a local mirror usually is.
func ParseReference(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("reference %q: %w", ref, err)
	}
	if isLoopback(r.Context().RegistryStr()) {
		if r, err = name.ParseReference(ref, name.Insecure); err != nil {
			return nil, fmt.Errorf("reference %q: %w", ref, err)
		}
	}
	return r, nil
}

// isLoopback reports whether a registry host[:port] is this machine.
func isLoopback(registry string) bool {
	host := registry
	if h, _, err := net.SplitHostPort(registry); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Validate reads every blob idx references (manifests, configs, layers),
// checking digests, sizes, diffIDs and that each manifest matches its
// content: the check `verify` runs on a layout read with ReadLayout.
func Validate(idx v1.ImageIndex) error {
	if err := validate.Index(idx); err != nil {
		return fmt.Errorf("oci: validate: %w", err)
	}
	return nil
}
