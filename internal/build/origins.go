package build

import (
	"github.com/temper-dev/temper/internal/sbom"
	"github.com/temper-dev/temper/internal/spec"
)

// recordOrigins adds to the index annotations the record of which packages
// came from designated repositories or local_debs
// (sbom.AnnotationRepositories), which status.d cannot say and temper scan
// --layout/--image reads. Every index of build format 5 carries it (an
// empty set per architecture for Debian's packages alone), so that a scan
// tells an image of Debian's packages from one built before the record.
func recordOrigins(ann map[string]string, def *spec.Definition, l *spec.Lock) {
	ann[sbom.AnnotationRepositories] = sbom.RepositoriesAnnotation(l, def.Architectures)
}
