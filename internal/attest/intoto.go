package attest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// in-toto and predicate type URIs.
const (
	StatementType       = "https://in-toto.io/Statement/v1"
	PredicateSLSA1      = "https://slsa.dev/provenance/v1"
	PredicateSPDX       = "https://spdx.dev/Document"
	PredicateCycloneDX  = "https://cyclonedx.org/bom"
	BuildTypeTemper     = "https://temper-dev.github.io/temper/buildtypes/debian-image/v1"
	BuilderIDTemper     = "https://temper-dev.github.io/temper/builder/v1"
	MediaTypeSPDXJSON   = "application/spdx+json"
	MediaTypeCycloneDX  = "application/vnd.cyclonedx+json"
	MediaTypeInTotoJSON = "application/vnd.in-toto+json"
)

// Subject is an artifact a statement is about.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Statement is an in-toto Statement v1.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// NewStatement makes a statement about subjects (name + "sha256:<hex>"
// digests) with a JSON predicate.
func NewStatement(predicateType string, predicate []byte, subjects ...Subject) ([]byte, error) {
	if !json.Valid(predicate) {
		return nil, fmt.Errorf("attest: %s predicate is not JSON", predicateType)
	}
	st := Statement{Type: StatementType, Subject: subjects, PredicateType: predicateType, Predicate: predicate}
	return json.Marshal(st)
}

// DigestSubject makes a subject from "sha256:<hex>".
func DigestSubject(name, digest string) Subject {
	alg, hex, _ := strings.Cut(digest, ":")
	return Subject{Name: name, Digest: map[string]string{alg: hex}}
}

// ResourceDescriptor is SLSA's reference to an artifact.
type ResourceDescriptor struct {
	URI         string            `json:"uri,omitempty"`
	Digest      map[string]string `json:"digest,omitempty"`
	Name        string            `json:"name,omitempty"`
	Annotations map[string]any    `json:"annotations,omitempty"`
}

// Provenance is a SLSA Provenance v1 predicate.
type Provenance struct {
	BuildDefinition struct {
		BuildType            string               `json:"buildType"`
		ExternalParameters   map[string]any       `json:"externalParameters"`
		InternalParameters   map[string]any       `json:"internalParameters,omitempty"`
		ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies,omitempty"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID      string            `json:"id"`
			Version map[string]string `json:"version,omitempty"`
		} `json:"builder"`
		Metadata map[string]any `json:"metadata,omitempty"`
	} `json:"runDetails"`
}

// ProvenanceInput is what a temper build's provenance records. It holds
// no clock and nothing of the build machine, so the same lock gives the
// same predicate.
type ProvenanceInput struct {
	DefinitionFile, DefinitionSHA256 string
	LockFile, LockSHA256             string // the lock's canonical digest (spec.Lock.Digest)
	Release                          string
	Architectures                    []string
	BuildKey, FormatVersion          string
	// Dependencies are the .debs, each with its download URI and SHA-256.
	Dependencies   []ResourceDescriptor
	BuilderVersion string
	GoVersion      string
}

// NewProvenance builds the SLSA v1 predicate.
func NewProvenance(in ProvenanceInput) *Provenance {
	p := &Provenance{}
	p.BuildDefinition.BuildType = BuildTypeTemper
	p.BuildDefinition.ExternalParameters = map[string]any{
		"definition":    ResourceDescriptor{Name: in.DefinitionFile, Digest: map[string]string{"sha256": in.DefinitionSHA256}},
		"lock":          ResourceDescriptor{Name: in.LockFile, Digest: map[string]string{"sha256": in.LockSHA256}},
		"release":       in.Release,
		"architectures": in.Architectures,
	}
	p.BuildDefinition.InternalParameters = map[string]any{"buildKey": in.BuildKey, "formatVersion": in.FormatVersion}
	p.BuildDefinition.ResolvedDependencies = in.Dependencies
	p.RunDetails.Builder.ID = BuilderIDTemper
	p.RunDetails.Builder.Version = map[string]string{"temper": in.BuilderVersion}
	if in.GoVersion != "" {
		p.RunDetails.Builder.Version["go"] = in.GoVersion
	}
	return p
}
