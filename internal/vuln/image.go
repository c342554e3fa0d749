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
// annotation; the packages its dev.temper.repositories annotation records
// get their repository (status.d does not say where a package came from).
// It also returns the purl distro qualifier the image identifies as (for
// OpenVEX).
func ImageLock(idx v1.ImageIndex) (*spec.Lock, string, error) {
	b, err := LayoutImage(idx)
	if err != nil {
		return nil, "", err
	}
	return b.Lock, b.Distro, nil
}

// LayoutImage reads an image index as ImageLock does (its layers'
// status.d), with its digest and whether it records its packages' origins.
func LayoutImage(idx v1.ImageIndex) (*BuiltImage, error) {
	d, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	b := &BuiltImage{Digest: d.String(), From: map[string]string{}}
	b.Lock, b.Distro, b.OriginsRecorded, err = imageLock(idx, func(d v1.Descriptor) (string, *spec.LockArch, string, string, error) {
		arch, a, distro, err := statusD(idx, d)
		return arch, a, distro, FromStatusD, err
	}, b.From)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// NoOriginsWarning is what a scan of a built image says when its index
// does not record which packages came from designated repositories.
const NoOriginsWarning = "coverage could not be told: the image index has no " + sbom.AnnotationRepositories +
	" annotation (temper writes it on every image since build format 5), so every package was matched as Debian's; " +
	"if the image was built from a lock with designated repositories or local_debs, scan that lock to see the packages Debian's security data does not cover"

// platformReader reads one platform image's packages: its architecture,
// packages, distro and where they were read from.
type platformReader func(d v1.Descriptor) (arch string, a *spec.LockArch, distro, from string, err error)

// imageLock reads every platform of idx with read; from (when not nil)
// records where each architecture's packages came from. recorded is true
// when the index records its packages' origins (sbom.AnnotationRepositories),
// which are then set on the packages.
func imageLock(idx v1.ImageIndex, read platformReader, from map[string]string) (l *spec.Lock, distro string, recorded bool, err error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, "", false, err
	}
	l = &spec.Lock{Release: im.Annotations[annotationRelease], Architectures: map[string]*spec.LockArch{}}
	if l.Release == "" {
		return nil, "", false, fmt.Errorf("the image index has no %s annotation: not an image temper built", annotationRelease)
	}
	for _, d := range im.Manifests {
		if d.Platform == nil {
			continue
		}
		arch, a, dist, src, err := read(d)
		if err != nil {
			return nil, "", false, err
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
		return nil, "", false, fmt.Errorf("the image index lists no platform images")
	}
	v, recorded := im.Annotations[sbom.AnnotationRepositories]
	if recorded {
		if err := setOrigins(l, v); err != nil {
			return nil, "", false, err
		}
	}
	return l, distro, recorded, nil
}

// setOrigins sets the repository of the packages the index's
// dev.temper.repositories annotation v records. A record that does not
// describe the image (an architecture it lacks, a package the image does
// not hold) is an error: it cannot be trusted for the rest either.
func setOrigins(l *spec.Lock, v string) error {
	o, err := sbom.ParseRepositoriesAnnotation(v)
	if err != nil {
		return err
	}
	for arch, a := range l.Architectures {
		rec, ok := o[arch]
		if !ok {
			return fmt.Errorf("annotation %s records no %s image: it does not describe this index", sbom.AnnotationRepositories, arch)
		}
		at := make(map[string]int, len(a.Packages))
		for i, p := range a.Packages {
			at[p.Name] = i
		}
		for name, repo := range rec {
			i, ok := at[name]
			if !ok {
				return fmt.Errorf("annotation %s records %s from repository %s, which the %s image does not hold", sbom.AnnotationRepositories, name, repo, arch)
			}
			a.Packages[i].Repository = repo
		}
	}
	return nil
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
