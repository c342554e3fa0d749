package evidence

import (
	"os"
	"path/filepath"

	"github.com/temper-dev/temper/internal/spec"
)

// SBOMFileNames are the files WriteSBOMs writes for an architecture.
func SBOMFileNames(def *spec.Definition, arch string) (spdx, cdx string) {
	base := def.Name + "-" + def.Version + "-" + arch
	return base + ".spdx.json", base + ".cdx.json"
}

// WriteSBOMs writes each architecture's SPDX and CycloneDX documents into
// dir.
func (ev *Evidence) WriteSBOMs(dir string, def *spec.Definition) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for arch, s := range ev.SBOMs {
		spdx, cdx := SBOMFileNames(def, arch)
		if err := os.WriteFile(filepath.Join(dir, spdx), s.SPDX, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, cdx), s.CycloneDX, 0o644); err != nil {
			return err
		}
	}
	return nil
}
