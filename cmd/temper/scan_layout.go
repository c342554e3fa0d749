package main

import (
	"fmt"
	"strings"

	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/vuln"
)

// scanLayout scans a built image in an OCI layout, named DIR:NAME:VERSION
// (the layout directory, then the image's reference name): what its
// status.d says it holds, for the release its index records.
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
	l, distro, err := vuln.ImageLock(idx)
	if err == nil {
		var d fmt.Stringer
		if d, err = idx.Digest(); err == nil {
			r.digest = d.String()
		}
	}
	if err != nil {
		r.Error = fmt.Sprintf("%s in %s: %v", ref, dir, err)
		return r
	}
	r.Image, r.distro, r.ReadFrom = vuln.Scan(arg, l, db), distro, vuln.FromStatusD
	return r
}
