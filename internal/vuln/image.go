package vuln

import (
	"fmt"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/sbom"
	"github.com/temper-dev/temper/internal/spec"
)

// annotationRelease is the index annotation temper's builds carry with
// the lock's release codename (build.AnnotationRelease; not imported, as
// the build package depends on this one).
const annotationRelease = "dev.temper.debian.release"

// ImageLock reads what a built image says it holds, as a lock Scan can
// match: each platform image's /var/lib/dpkg/status.d stanzas (package,
// version, architecture, and the source, whose version the Source: field
// gives in parentheses when it differs from the binary's), merged over
// every layer. The release is the index's dev.temper.debian.release
// annotation. It also returns the purl distro qualifier the image
// identifies as (for OpenVEX).
func ImageLock(idx v1.ImageIndex) (*spec.Lock, string, error) {
	return imageLock(idx, func(d v1.Descriptor) (string, *spec.LockArch, string, string, error) {
		arch, a, distro, err := statusD(idx, d)
		return arch, a, distro, FromStatusD, err
	}, nil)
}

// platformReader reads one platform image's packages: its architecture,
// packages, distro and where they were read from.
type platformReader func(d v1.Descriptor) (arch string, a *spec.LockArch, distro, from string, err error)

// imageLock reads every platform of idx with read; from (when not nil)
// records where each architecture's packages came from.
func imageLock(idx v1.ImageIndex, read platformReader, from map[string]string) (*spec.Lock, string, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, "", err
	}
	l := &spec.Lock{Release: im.Annotations[annotationRelease], Architectures: map[string]*spec.LockArch{}}
	if l.Release == "" {
		return nil, "", fmt.Errorf("the image index has no %s annotation: not an image temper built", annotationRelease)
	}
	distro := ""
	for _, d := range im.Manifests {
		if d.Platform == nil {
			continue
		}
		arch, a, dist, src, err := read(d)
		if err != nil {
			return nil, "", err
		}
		l.Architectures[arch] = a
		if from != nil {
			from[arch] = src
		}
		if dist != "" {
			distro = dist
		}
	}
	if len(l.Architectures) == 0 {
		return nil, "", fmt.Errorf("the image index lists no platform images")
	}
	return l, distro, nil
}

// statusD reads one platform image's status.d over all its layers.
func statusD(idx v1.ImageIndex, d v1.Descriptor) (string, *spec.LockArch, string, error) {
	img, err := idx.Image(d.Digest)
	if err != nil {
		return "", nil, "", err
	}
	facts, err := sbom.ReadImage(img)
	if err != nil {
		return "", nil, "", fmt.Errorf("%s: %w", d.Digest, err)
	}
	arch, a := lockArch(facts)
	if len(a.Packages) == 0 {
		return "", nil, "", fmt.Errorf("%s: no /var/lib/dpkg/status.d stanzas", d.Digest)
	}
	return arch, a, facts.Distro, nil
}

// lockArch turns status.d facts into locked packages; the architecture is
// the one most packages have (other than "all").
func lockArch(f *sbom.Facts) (string, *spec.LockArch) {
	a := &spec.LockArch{}
	count := map[string]int{}
	for name, p := range f.Packages {
		src, srcVersion := SourceField(p.Source, name, p.Version)
		a.Packages = append(a.Packages, spec.LockedPackage{Name: name, Version: p.Version, Architecture: p.Architecture, Source: src, SourceVersion: srcVersion})
		if p.Architecture != "all" {
			count[p.Architecture]++
		}
	}
	sort.Slice(a.Packages, func(i, j int) bool { return a.Packages[i].Name < a.Packages[j].Name })
	return majority(count), a
}

// SourceField splits a status Source: field, "name" or "name (version)";
// an empty field means the source is the package itself, and a missing
// version means the binary's (without a binNMU suffix, which Scan strips).
func SourceField(field, pkg, version string) (string, string) {
	field = strings.TrimSpace(field)
	if field == "" {
		return pkg, version
	}
	name, rest, ok := strings.Cut(field, " ")
	if !ok {
		return name, version
	}
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "(") && strings.HasSuffix(rest, ")") {
		return name, strings.TrimSpace(rest[1 : len(rest)-1])
	}
	return name, version
}
