package vuln

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/sbom"
	"github.com/temper-dev/temper/internal/spec"
)

// Where a built image's package list was read from.
const (
	FromStatusD = "status.d"         // the layers' /var/lib/dpkg/status.d
	FromSPDX    = "spdx-attestation" // the signed SPDX SBOM attestation
)

// BuiltImage is what a built image says it holds, as a lock Scan can match.
type BuiltImage struct {
	Lock   *spec.Lock
	Digest string // the index digest
	Distro string // the purl distro qualifier (for OpenVEX); "" when unknown
	// From says where each platform's packages were read from (FromSPDX or
	// FromStatusD), by architecture.
	From map[string]string
	// OriginsRecorded is true when the index records which packages came
	// from designated repositories (sbom.AnnotationRepositories; their
	// Repository is set). When false, every package is taken as Debian's
	// and a report says coverage could not be told (NoOriginsWarning).
	OriginsRecorded bool
}

// ReadFrom is the image's sources of package lists, e.g. "status.d" or
// "spdx-attestation".
func (b *BuiltImage) ReadFrom() string {
	seen := map[string]bool{}
	var out []string
	for _, f := range b.From {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// RegistryImage reads an image index temper pushed to a registry. With a
// key, each platform's SPDX SBOM attestation (cosign's sha256-<hex>.att)
// is used when it verifies with the key, and no layer is pulled; a
// platform without attestations (an unsigned image) is read from its
// layers' status.d, merged over every layer. An attestation that does not
// verify with the key is an error, never silently replaced, and so is an
// index whose own signature does not verify when its platforms' do (its
// annotations give the release and the packages' origins). Without a key
// the layers are always read: an SBOM nobody verified is only a claim.
func RegistryImage(ctx context.Context, ref string, key *attest.Verifier, opts ...remote.Option) (*BuiltImage, error) {
	r, err := oci.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	repo, err := attest.Repository(ref)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(r, attest.RemoteOptions(ctx, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if !desc.MediaType.IsIndex() {
		return nil, fmt.Errorf("%s: a single image manifest, not an image index: not an image temper built", ref)
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, err
	}
	b := &BuiltImage{Digest: desc.Digest.String(), From: map[string]string{}}
	b.Lock, b.Distro, b.OriginsRecorded, err = imageLock(idx, func(d v1.Descriptor) (string, *spec.LockArch, string, string, error) {
		if key != nil {
			arch, a, distro, ok, err := attestedSBOM(ctx, repo, d.Digest.String(), key, opts)
			if err != nil || ok {
				return arch, a, distro, FromSPDX, err
			}
		}
		arch, a, distro, err := statusD(idx, d)
		return arch, a, distro, FromStatusD, err
	}, b.From)
	if err == nil && key != nil && slices.Contains(slices.Collect(maps.Values(b.From)), FromSPDX) {
		err = verifyIndex(ctx, repo, b.Digest, key, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return b, nil
}

// verifyIndex checks that the index digest is signed with key. A signed
// image's packages come from its verified SBOMs, but their origins (and
// the release) from its index's annotations: those are trusted only when
// the index's own signature verifies, or a changed record could hide a
// Debian package's findings as not covered.
func verifyIndex(ctx context.Context, repo name.Repository, digest string, key *attest.Verifier, opts []remote.Option) error {
	img, err := attest.Fetch(ctx, repo, attest.SigTag(digest), opts...)
	if errors.Is(err, attest.ErrNotFound) {
		return fmt.Errorf("the index %s has no signature, though its platforms' attestations verify with the key: its annotations (release, %s) cannot be trusted", digest, sbom.AnnotationRepositories)
	}
	if err != nil {
		return err
	}
	if _, err := attest.VerifySignatures(img, digest, key); err != nil {
		return fmt.Errorf("the index %s: no signature verifies with the key (%v): its annotations (release, %s) cannot be trusted", digest, err, sbom.AnnotationRepositories)
	}
	return nil
}

// attestedSBOM reads the platform's SPDX attestation verified with key;
// ok is false when the platform has no attestations at all.
func attestedSBOM(ctx context.Context, repo name.Repository, digest string, key *attest.Verifier, opts []remote.Option) (string, *spec.LockArch, string, bool, error) {
	img, err := attest.Fetch(ctx, repo, attest.AttTag(digest), opts...)
	if errors.Is(err, attest.ErrNotFound) {
		return "", nil, "", false, nil
	}
	if err != nil {
		return "", nil, "", false, err
	}
	sts, err := attest.VerifyAttestations(img, digest, key)
	if err != nil {
		return "", nil, "", false, fmt.Errorf("attestations of %s: %w", digest, err)
	}
	var last error = fmt.Errorf("attestations of %s: no SPDX SBOM", digest)
	for _, st := range sts {
		if st.PredicateType != attest.PredicateSPDX {
			continue
		}
		arch, a, distro, err := SPDXLockArch(st.Statement.Predicate, digest)
		if err == nil {
			return arch, a, distro, true, nil
		}
		last = fmt.Errorf("SPDX attestation of %s: %w", digest, err)
	}
	return "", nil, "", false, last
}

// SPDXLockArch reads the Debian packages of the SPDX SBOM temper writes
// for the platform image digest: name, version, architecture (purl arch=),
// source and source version (sourceInfo "built package from: SRC VER").
// It also returns the image's architecture and the purl distro qualifier.
func SPDXLockArch(data []byte, digest string) (string, *spec.LockArch, string, error) {
	_, about, err := sbom.SPDXPackages(data)
	if err != nil {
		return "", nil, "", err
	}
	if about != digest {
		return "", nil, "", fmt.Errorf("the SBOM describes %s, not %s", about, digest)
	}
	var doc struct {
		Packages []struct {
			Name         string `json:"name"`
			VersionInfo  string `json:"versionInfo"`
			SourceInfo   string `json:"sourceInfo"`
			ExternalRefs []struct {
				ReferenceType, ReferenceLocator string
			} `json:"externalRefs"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return "", nil, "", err
	}
	a := &spec.LockArch{}
	count := map[string]int{}
	distro := ""
	for _, p := range doc.Packages {
		purl := ""
		for _, r := range p.ExternalRefs {
			if r.ReferenceType == "purl" && strings.HasPrefix(r.ReferenceLocator, "pkg:deb/") {
				purl = r.ReferenceLocator
			}
		}
		if purl == "" {
			continue
		}
		q := purlQualifiers(purl)
		src, srcVersion, ok := strings.Cut(strings.TrimPrefix(p.SourceInfo, "built package from: "), " ")
		if !ok || src == "" || srcVersion == "" || !strings.HasPrefix(p.SourceInfo, "built package from: ") {
			return "", nil, "", fmt.Errorf("package %s: sourceInfo %q does not name its source package and version", p.Name, p.SourceInfo)
		}
		a.Packages = append(a.Packages, spec.LockedPackage{Name: p.Name, Version: p.VersionInfo, Architecture: q.Get("arch"), Source: src, SourceVersion: srcVersion})
		if arch := q.Get("arch"); arch != "all" && arch != "" {
			count[arch]++
		}
		if d := q.Get("distro"); d != "" {
			distro = d
		}
	}
	if len(a.Packages) == 0 {
		return "", nil, "", errors.New("the SBOM lists no Debian packages")
	}
	sort.Slice(a.Packages, func(i, j int) bool { return a.Packages[i].Name < a.Packages[j].Name })
	return majority(count), a, distro, nil
}

func purlQualifiers(purl string) url.Values {
	_, q, _ := strings.Cut(purl, "?")
	v, _ := url.ParseQuery(q)
	return v
}

// majority is the architecture most packages have ("all" when none).
func majority(count map[string]int) string {
	arch, n := "all", 0
	for k, c := range count {
		if c > n || (c == n && k < arch) {
			arch, n = k, c
		}
	}
	return arch
}
