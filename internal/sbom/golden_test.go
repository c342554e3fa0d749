package sbom_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/temper-dev/temper/internal/sbom"
)

// TestDebianOnlyGolden: the SBOMs of an image whose packages all come
// from Debian's archive are, byte for byte, the documents temper wrote
// before packages could come from designated repositories or local_debs
// (testdata/golden, written by that code). TEMPER_UPDATE_GOLDEN=1
// rewrites them: only for a deliberate change of the format.
func TestDebianOnlyGolden(t *testing.T) {
	for _, c := range []struct {
		file  string
		write func(sbom.Input) ([]byte, error)
	}{
		{"debian-only.spdx.json", sbom.SPDX},
		{"debian-only.cdx.json", sbom.CycloneDX},
	} {
		got, err := c.write(input(t))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", c.file)
		if os.Getenv("TEMPER_UPDATE_GOLDEN") == "1" {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s changed:\n%s", c.file, got)
		}
	}
}
