package evidence

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/sbom"
)

// imageFacts reads what the image's layers say about its packages: both
// the SBOMs Make writes and the comparison Verify makes start from the
// image, not from the lock alone.
func imageFacts(img v1.Image) (*sbom.Facts, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, err
	}
	all := &sbom.Facts{Packages: map[string]sbom.PackageFacts{}}
	for _, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, err
		}
		f, err := sbom.ReadLayer(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if f.Distro != "" {
			all.Distro = f.Distro
		}
		for k, v := range f.Packages {
			all.Packages[k] = v
		}
	}
	return all, nil
}
