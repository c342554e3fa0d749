package vuln_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/vuln"
)

// statusLayer is an uncompressed layer tar with status.d stanzas.
func statusLayer(t *testing.T, stanzas map[string]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, st := range stanzas {
		tw.WriteHeader(&tar.Header{Name: "var/lib/dpkg/status.d/" + name, Mode: 0o644, Size: int64(len(st)), Typeflag: tar.TypeReg})
		tw.Write([]byte(st))
	}
	tw.Close()
	return static.NewLayer(buf.Bytes(), types.OCIUncompressedLayer)
}

// TestRegistryImageLayers: an image in a registry whose status.d records
// are spread over two layers (as temper's multi-layer images are) is read
// whole: the packages of both layers, with their source packages and
// versions; the index's release annotation is the lock's release; an
// image without it is refused; with a key but no attestations (unsigned)
// the layers are read.
func TestRegistryImageLayers(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := mutate.AppendLayers(empty.Image,
		statusLayer(t, map[string]string{"libssl3": "Package: libssl3\nVersion: 3.0.22-1~deb12u2\nArchitecture: amd64\nSource: openssl\n"}),
		statusLayer(t, map[string]string{"libcap2": "Package: libcap2\nVersion: 1:2.66-4+deb12u3+b1\nArchitecture: amd64\nSource: libcap2 (1:2.66-4+deb12u3)\n",
			"tzdata": "Package: tzdata\nVersion: 2025b-0+deb12u2\nArchitecture: all\n"}))
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	ref := host + "/temper/mixed:1"
	if err := remote.WriteIndex(mustRef(t, ref), mutate.Annotations(idx, map[string]string{"dev.temper.debian.release": "bookworm"}).(v1.ImageIndex)); err != nil {
		t.Fatal(err)
	}
	priv, _, _ := attest.GenerateKeyPair([]byte("pw"))
	s, _ := attest.LoadPrivateKey(priv, []byte("pw"))
	for _, key := range []*attest.Verifier{nil, s.Verifier()} {
		b, err := vuln.RegistryImage(context.Background(), ref, key)
		if err != nil {
			t.Fatal(err)
		}
		a := b.Lock.Architectures["amd64"]
		if b.Lock.Release != "bookworm" || a == nil || len(a.Packages) != 3 || b.ReadFrom() != vuln.FromStatusD {
			t.Fatalf("image lock %+v from %s", b.Lock, b.ReadFrom())
		}
		got := map[string]string{}
		for _, p := range a.Packages {
			got[p.Name] = p.Source + " " + vuln.SourceVersion(p)
		}
		if got["libssl3"] != "openssl 3.0.22-1~deb12u2" || got["libcap2"] != "libcap2 1:2.66-4+deb12u3" || got["tzdata"] != "tzdata 2025b-0+deb12u2" {
			t.Errorf("packages %v", got)
		}
	}
	plain := host + "/temper/plain:1"
	if err := remote.WriteIndex(mustRef(t, plain), idx); err != nil {
		t.Fatal(err)
	}
	if _, err := vuln.RegistryImage(context.Background(), plain, nil); err == nil || !strings.Contains(err.Error(), "dev.temper.debian.release") {
		t.Errorf("an index without the release annotation: %v", err)
	}
}

func mustRef(t *testing.T, ref string) name.Reference {
	t.Helper()
	r, err := oci.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
