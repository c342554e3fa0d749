package sbom

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ReadImage merges what every layer of img says about its packages
// (ReadLayer), lower layers first: images are several layers, and each
// package's status.d record lives in the layer that holds its files.
// Evidence (SBOMs, verify) and scanning of built images both start here.
func ReadImage(img v1.Image) (*Facts, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, err
	}
	all := &Facts{Packages: map[string]PackageFacts{}}
	for _, l := range ls {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, err
		}
		f, err := ReadLayer(rc)
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
