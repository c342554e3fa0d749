package sbom

// The image's record of where its packages came from. An image's
// /var/lib/dpkg/status.d carries no origin: a designated repository's
// php8.3 reads exactly like Debian's would. temper therefore records, on
// the image index of every build (build format 5), which packages of each
// architecture came from which designated repository or local_debs; an
// image of Debian's packages alone records an empty set per architecture,
// so that a scan can tell "all Debian's" from "built before the record
// existed" (docs/scan.md).

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/spec"
)

// AnnotationRepositories is the image index annotation recording the
// packages each architecture took from designated repositories or
// local_debs: a JSON object, architecture → repository name → sorted
// binary package names, e.g. {"amd64":{"php":["php8.3-cli","php8.3-common"]}}
// ({"amd64":{}} when the lock took nothing from them, as every image of
// Debian's packages alone records).
const AnnotationRepositories = "dev.temper.repositories"

// Origins maps an architecture to its packages from designated
// repositories: package name → repository name. Packages absent are
// Debian's.
type Origins map[string]map[string]string

// RepositoriesAnnotation is AnnotationRepositories' value for the images
// of l's architectures archs.
func RepositoriesAnnotation(l *spec.Lock, archs []string) string {
	rec := map[string]map[string][]string{}
	for _, arch := range archs {
		byRepo := map[string][]string{}
		if a := l.Architectures[arch]; a != nil {
			for _, p := range a.Packages {
				if p.Repository != "" {
					byRepo[p.Repository] = append(byRepo[p.Repository], p.Name)
				}
			}
		}
		for _, names := range byRepo {
			sort.Strings(names)
		}
		rec[arch] = byRepo
	}
	data, err := json.Marshal(rec) // map keys sorted: deterministic
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	return string(data)
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
