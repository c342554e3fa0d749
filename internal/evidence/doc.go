// Package evidence makes and checks what a build attaches to its image
// besides the image itself: per-architecture SPDX and CycloneDX SBOMs
// (internal/sbom), SLSA provenance and, with a key, cosign signatures and
// signed attestations (internal/attest); and Verify, the check `temper
// verify` runs on a published image.
//
// It does not build, write or push images, and it does not decide what
// identifies a build: the build package computes the build key, the
// format version and the SOURCE_DATE_EPOCH and hands them in (Input), and
// writes or pushes what Make returns.
package evidence
