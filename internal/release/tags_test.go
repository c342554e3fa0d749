package release

import (
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// Both registries: push an index under an immutable tag, point a channel
// tag at its digest without pushing again, read both back.
func TestTagsImplementations(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	for name, tags := range map[string]Tags{
		"layout": LayoutTags{Dir: t.TempDir()},
		"remote": RemoteTags{Prefix: strings.TrimPrefix(srv.URL, "http://") + "/temper", Insecure: true},
	} {
		t.Run(name, func(t *testing.T) {
			idx, err := random.Index(64, 1, 2)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := idx.Digest()
			if _, err := tags.Get(ctx, "python", "3.11-testing"); !errors.Is(err, ErrNoTag) {
				t.Fatalf("missing tag: %v", err)
			}
			if err := tags.Push(ctx, "python", "3.11-20261129.1", idx); err != nil {
				t.Fatal(err)
			}
			if err := tags.Put(ctx, "python", "3.11-testing", d.String()); err != nil {
				t.Fatal(err)
			}
			for _, tag := range []string{"3.11-20261129.1", "3.11-testing"} {
				if got, err := tags.Get(ctx, "python", tag); err != nil || got != d.String() {
					t.Fatalf("%s = %s, %v; want %s", tag, got, err, d)
				}
			}
			if err := tags.Put(ctx, "python", "3.11", "sha256:"+strings.Repeat("0", 64)); err == nil {
				t.Fatal("tagged a digest that is not stored")
			}
		})
	}
}
