// Package attest makes and checks the evidence temper attaches to the
// images it builds, in the formats the ecosystem's own tools verify: in-toto
// Statements v1 (SLSA Provenance v1, SBOM predicates) in DSSE envelopes,
// cosign-compatible ECDSA P-256 key pairs (cosign's encrypted key format),
// and cosign's registry layout (sha256-<hex>.sig simple-signing images and
// sha256-<hex>.att DSSE attestation images).
package attest
