package sbom

// The image's record of where its packages came from. An image's
// /var/lib/dpkg/status.d carries no origin: a designated repository's
// php8.3 reads exactly like Debian's would. temper therefore records, on
// the image index of a build whose lock names designated repositories or
// local_debs, which packages of each architecture came from which
// repository; scanning a built image reads it back (docs/scan.md).

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/spec"
)

// AnnotationRepositories is the image index annotation recording, for a
// lock with designated repositories or local_debs, the packages each
// architecture took from them: a JSON object, architecture → repository
// name → sorted binary package names, e.g.
// {"amd64":{"php":["php8.3-cli","php8.3-common"]}} ({"amd64":{}} when the
// lock took nothing from them). Images built from Debian's archive alone
// carry no such annotation, so their bytes are unchanged.
const AnnotationRepositories = "dev.temper.repositories"

// Origins maps an architecture to its packages from designated
// repositories: package name → repository name. Packages absent are
// Debian's.
type Origins map[string]map[string]string

// RepositoriesAnnotation is AnnotationRepositories' value for the images
// of l's architectures archs; ok is false when l has no designated
// repositories and no local_debs (no annotation is written).
func RepositoriesAnnotation(l *spec.Lock, archs []string) (string, bool) {
	designated := len(l.Repositories) > 0 || len(l.LocalDebs) > 0
	rec := map[string]map[string][]string{}
	for _, arch := range archs {
		byRepo := map[string][]string{}
		if a := l.Architectures[arch]; a != nil {
			for _, p := range a.Packages {
				if p.Repository != "" {
					byRepo[p.Repository] = append(byRepo[p.Repository], p.Name)
					designated = true
				}
			}
		}
		for _, names := range byRepo {
			sort.Strings(names)
		}
		rec[arch] = byRepo
	}
	if !designated {
		return "", false
	}
	data, err := json.Marshal(rec) // map keys sorted: deterministic
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return string(data), true
}

// ParseRepositoriesAnnotation reads AnnotationRepositories' value. A
// package listed under two repositories of one architecture is an error.
func ParseRepositoriesAnnotation(v string) (Origins, error) {
	var rec map[string]map[string][]string
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return nil, fmt.Errorf("annotation %s: %v", AnnotationRepositories, err)
	}
	if rec == nil {
		return nil, fmt.Errorf("annotation %s: %q is not an object of architectures", AnnotationRepositories, v)
	}
	o := Origins{}
	for arch, byRepo := range rec {
		m := map[string]string{}
		for repo, names := range byRepo {
			if strings.TrimSpace(repo) == "" {
				return nil, fmt.Errorf("annotation %s: %s: a repository without a name", AnnotationRepositories, arch)
			}
			for _, n := range names {
				if prev, dup := m[n]; dup && prev != repo {
					return nil, fmt.Errorf("annotation %s: %s: package %s listed under repositories %s and %s", AnnotationRepositories, arch, n, prev, repo)
				}
				m[n] = repo
			}
		}
		o[arch] = m
	}
	return o, nil
}
