package build

// The build memo (docs/layers.md, "The build memo"): after a build that
// wrote a layout, what it takes to write the same image index into another
// layout without building — the index's, manifests' and configs' bytes
// and each layer's layer-cache key — is kept under Options.MemoDir. A
// build into a layout that does not hold its image (a fresh layout, a CI
// job with a restored cache) writes the index from there when every layer
// is still in the layer cache, and assembles nothing.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/temper-dev/temper/internal/leftover"
	"github.com/temper-dev/temper/internal/limits"
	"github.com/temper-dev/temper/internal/spec"
)

// memoVersion is the shape of a memo entry; entries of another are not
// read.
const memoVersion = 1

// memoEntry is one build as the memo keeps it.
type memoEntry struct {
	Version  int
	Key      string // the entry's own key (memoKey)
	Ref      string
	BuildKey string
	Index    []byte      // the image index's manifest, as written
	Images   []memoImage // by architecture, in the definition's order
}

// memoImage is one architecture's image: what Result reports of it, its
// manifest and config bytes and its layers.
type memoImage struct {
	Info     ImageInfo
	Manifest []byte
	Config   []byte
	Layers   []memoLayer
}

// memoLayer is a layer's descriptor and the key it is cached under
// (oci.LayerCache).
type memoLayer struct {
	Digest    v1.Hash
	Size      int64
	MediaType types.MediaType
	Key       string
}

// executableHash is the hex SHA-256 of the running temper executable,
// computed once per process; tests replace it.
var executableHash = sync.OnceValues(func() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
})

// memoKey is the key of def's build with build key key. Besides the build
// key it holds the architectures built, the apt sources written into the
// images and the unpacking limits (neither is in the build key), and the
// SHA-256 of the running executable: the build key names FormatVersion,
// which a change to what temper writes must bump, but a change that
// forgets to bump it (or any other code change: a `go run`, a test binary,
// a development build) must never be served images another binary
// assembled, so each binary reads only its own entries. A new release
// starts with an empty memo; its first build fills it.
func memoKey(def *spec.Definition, key string, opt Options) (string, bool) {
	exe, err := executableHash()
	if err != nil || exe == "" {
		return "", false
	}
	apt := aptMirrors(opt)
	s := fmt.Sprintf("temper-build-memo %d\n%s\n%s\n%s\n%s %s\n%+v\n", memoVersion, key, strings.Join(def.Architectures, ","), exe, apt[0], apt[1], limits.Get())
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:]), true
}

// memoPath is where the memo keeps the entry of key.
func memoPath(dir, key string) string {
	return filepath.Join(dir, key[:2], key+".json")
}

// readMemo reads the entry of key: nil when there is none, an error when
// one is there but unusable.
func readMemo(dir, key string) (*memoEntry, error) {
	raw, err := os.ReadFile(memoPath(dir, key))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var e memoEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", memoPath(dir, key), err)
	}
	if e.Version != memoVersion || e.Key != key {
		return nil, fmt.Errorf("%s: an entry of another version or key", memoPath(dir, key))
	}
	return &e, nil
}

// writeMemo writes e as the entry of e.Key, atomically (a leftover
// temporary file, renamed into place).
func writeMemo(dir string, e *memoEntry) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	path := memoPath(dir, e.Key)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// Temporary files an interrupted run left here (unlocked) go now.
	leftover.Clean(filepath.Dir(path), ".tmp-")
	tmp, err := leftover.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	_, err = tmp.Write(raw)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	return err
}
