package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/vuln"
)

// scanImage scans an image index in a registry: with --key, what its
// verified SPDX SBOM attestations list; otherwise (or for platforms
// without attestations) what its layers' status.d records.
func scanImage(ctx context.Context, ref string, key *attest.Verifier, db *vuln.DB) *scanResult {
	r := &scanResult{Image: &vuln.Image{Definition: ref}}
	pr, err := oci.ParseReference(ref)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Name = path.Base(pr.Context().RepositoryStr())
	r.vexName = r.Name + "_" + strings.NewReplacer(":", "_", "/", "_").Replace(pr.Identifier()) + ".openvex.json"
	b, err := vuln.RegistryImage(ctx, ref, key)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.scanned(ref, b, db)
	return r
}

// scanned fills r with the scan of a built image: its findings, where its
// packages were read from, and the warning that coverage could not be told
// when its index does not record its packages' origins.
func (r *scanResult) scanned(name string, b *vuln.BuiltImage, db *vuln.DB) {
	r.Image, r.digest, r.distro, r.ReadFrom = vuln.Scan(name, b.Lock, db), b.Digest, b.Distro, b.ReadFrom()
	if !b.OriginsRecorded {
		r.Warnings = append(r.Warnings, vuln.NoOriginsWarning)
	}
}

// scanKey loads --key (nil when not given).
func scanKey(file string) (*attest.Verifier, error) {
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	v, err := attest.LoadPublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", file, err)
	}
	return v, nil
}
