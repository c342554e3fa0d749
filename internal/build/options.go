package build

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/temper-dev/temper/internal/assemble"
	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/vuln/policy"
)

// Options say what to write. They are every knob of Build and All; the
// command line only fills them in.
type Options struct {
	Fetcher *pool.Fetcher
	// Output is an OCI layout directory; images are added to it under
	// their reference name (NAME:VERSION).
	Output string
	// Tarball writes a docker-archive of one architecture (TarballArch,
	// default the first of the definition's) for podman/docker load.
	Tarball     string
	TarballArch string
	// Push pushes the index to a registry reference.
	Push string
	// Variant builds the definition's variant of that name instead of
	// its runtime image (Build); in All, it is the one image of the
	// definition that gets the Tarball and Push (docs/variants.md).
	Variant string
	// Force rebuilds even when the output already holds this build.
	Force bool
	// Log receives progress lines; nil for none.
	Log io.Writer
	// Signer, when set, signs the index and each platform manifest and
	// attaches the SBOMs and provenance as signed attestations, in
	// cosign's layout, to the layout output and the pushed image
	// (internal/evidence).
	Signer *attest.Signer
	// SBOMDir, when set, receives each architecture's SPDX and CycloneDX
	// documents.
	SBOMDir string
	// Remote options for pushing the signatures (tests: transports).
	Remote []remote.Option
	// Gate, when set, judges the lock's known vulnerabilities before a
	// pushed or signed build fetches or writes anything, and refuses what
	// the policy forbids (unless skipped with a reason). A signed build
	// attaches its scan as OpenVEX and records a skip in the provenance.
	// Builds that neither push nor sign never consult it.
	Gate *policy.BuildGate
	// Parallel is how many definitions All builds at once; 0 or less
	// means one per CPU (Parallelism). Build ignores it.
	Parallel int
	// Compression is the layers' compression when the definition names
	// none (temper.yaml's compression): "" or "gzip", or "zstd".
	Compression string
	// LayerBudget is the most layers an image has (docs/layers.md); 0
	// means layers.DefaultBudget.
	LayerBudget int
	// Layers builds each distinct layer once across the builds that share
	// it (All shares one); nil means a cache for this build only.
	Layers *oci.LayerCache
	// MemoDir is the build memo's directory (memo.go): builds that write
	// a layout are recorded there, and a build into a layout that does
	// not hold its image writes it from there when it can. It needs
	// Layers with a Dir; "" means no memo.
	MemoDir string
	// variantsFollow is set by All on a runtime's build whose variants it
	// builds too: the runtime's build hands its package layers to theirs
	// (runtimeLayerMemo).
	variantsFollow bool
}

// Parallelism is how many of n definitions All builds at once: Parallel,
// or one per CPU when it is 0 or less, and never more than n.
func (o Options) Parallelism(n int) int {
	p := o.Parallel
	if p <= 0 {
		p = runtime.GOMAXPROCS(0)
	}
	return min(p, n)
}

// ImageInfo describes one architecture's image.
type ImageInfo struct {
	Arch             string
	Digest           string
	Packages         int
	Layers           int
	CompressedSize   int64 // layer bytes as stored, all layers
	UncompressedSize int64 // layer tar bytes, all layers
	Report           *assemble.Report
}

// Result is one build.
type Result struct {
	Definition  string
	Variant     string // "" for the definition's runtime image
	Ref         string
	Skipped     bool // the output already held this exact build
	Memo        bool // written from the build memo, nothing assembled
	IndexDigest string
	BuildKey    string
	Images      []ImageInfo
	Fetch       pool.Stats
	Elapsed     time.Duration
}

// DefaultStore is the embedded image store: an OCI layout under the user's
// data directory ($XDG_DATA_HOME/temper/images, ~/.local/share/temper/images).
func DefaultStore() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "temper", "images"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "share", "temper", "images"), nil
}
