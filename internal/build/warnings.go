package build

import (
	"fmt"
	"io"

	"github.com/temper-dev/temper/internal/assemble"
)

// printWarnings writes what assembly warns about (device nodes and fifos
// left out, maintainer scripts cut short by the sandbox), one line each.
func printWarnings(w io.Writer, ref, arch string, rep *assemble.Report) {
	if rep == nil {
		return
	}
	for _, msg := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s %s: %s\n", ref, arch, msg)
	}
}
