package main

import (
	"fmt"
	"strings"

	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/vuln"
)

// scanLayout scans a built image in an OCI layout, named DIR:NAME:VERSION
// (the layout directory, then the image's reference name): what its
// status.d says it holds, for the release its index records, with the
// origins its index records (packages from designated repositories are
// not covered by Debian's data).
func scanLayout(arg string, db *vuln.DB) *scanResult {
	dir, ref, ok := strings.Cut(arg, ":")
	name, _, _ := strings.Cut(ref, ":")
	r := &scanResult{Image: &vuln.Image{Definition: arg}, Name: name}
	if !ok || dir == "" || ref == "" {
		r.Error = fmt.Sprintf("--layout %q: want DIR:NAME:VERSION", arg)
		return r
	}
	idx, err := oci.ReadLayoutRef(dir, ref)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	b, err := vuln.LayoutImage(idx)
	if err != nil {
		r.Error = fmt.Sprintf("%s in %s: %v", ref, dir, err)
		return r
	}
	r.scanned(arg, b, db)
	return r
}
