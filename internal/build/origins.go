package build

import (
	"github.com/temper-dev/temper/internal/sbom"
	"github.com/temper-dev/temper/internal/spec"
)

// recordOrigins adds to the index annotations of a build whose lock has
// designated repositories or local_debs the record of which packages came
// from them (sbom.AnnotationRepositories), which status.d cannot say and
// temper scan --layout/--image reads. The index of a Debian-only lock is
// unchanged.
func recordOrigins(ann map[string]string, def *spec.Definition, l *spec.Lock) {
	if v, ok := sbom.RepositoriesAnnotation(l, def.Architectures); ok {
		ann[sbom.AnnotationRepositories] = v
	}
}

// recordsOrigins reports whether a build of l records origins: such
// builds' keys differ from those of the tempers that wrote no record, so
// stores rebuild them instead of keeping images without it.
func recordsOrigins(def *spec.Definition, l *spec.Lock) bool {
	_, ok := sbom.RepositoriesAnnotation(l, def.Architectures)
	return ok
}
