package archive_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/limits"
)

// An index larger than TEMPER_LIMIT_INDEX is refused with the index and
// the limit named, before it is downloaded, and nothing is cached.
func TestIndexLimit(t *testing.T) {
	defer limits.Set(limits.Limits{Index: 200})()
	e := newEnv(t, fixtureArchive(t))
	_, err := load(t, e.client(t), "amd64")
	var le *limits.Error
	if !errors.As(err, &le) {
		t.Fatalf("got %v, want a limit error", err)
	}
	for _, want := range []string{"main/binary-amd64/Packages", "exceeds the per-index limit of 200 bytes (TEMPER_LIMIT_INDEX)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := e.srv.TotalHits("Packages"); n != 0 {
		t.Errorf("%d requests for an index past the limit", n)
	}
	for _, f := range cacheFiles(t, e.cache) {
		data, _ := os.ReadFile(filepath.Join(e.cache.Dir, f))
		if bytes.Contains(data, []byte("Package: ")) {
			t.Errorf("cache entry %s holds an index", f)
		}
	}
}
