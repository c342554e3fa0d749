package build

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/temper-dev/temper/internal/oci"
)

// Outcome is one definition's build in All.
type Outcome struct {
	File    string
	Variant string // "" for the definition's runtime image
	Result  *Result
	Err     error
}

// All builds each definition file, opt.Parallelism at once (each build is
// mostly one core of gzip and zstd), and hands every outcome to report in
// the order of files, as soon as it and all before it are done. A failed
// build does not stop the others; All returns when every build has been
// reported. It prints nothing itself.
func All(ctx context.Context, files []string, opt Options, report func(Outcome)) {
	if opt.Layers == nil {
		opt.Layers = &oci.LayerCache{} // one build per shared layer
	}
	targets := Targets(files)
	outs := make([]Outcome, len(targets))
	done := make([]chan struct{}, len(targets))
	for i := range done {
		done[i] = make(chan struct{})
	}
	var g errgroup.Group
	g.SetLimit(max(opt.Parallelism(len(targets)), 1))
	// Go blocks while the limit is reached, so builds are started from
	// their own goroutine while this one reports in order.
	go func() {
		for i, t := range targets {
			g.Go(func() error {
				defer close(done[i])
				res, err := Build(ctx, t.File, t.options(opt))
				outs[i] = Outcome{File: t.File, Variant: t.Variant, Result: res, Err: err}
				return nil
			})
		}
	}()
	for i := range targets {
		<-done[i]
		report(outs[i])
	}
	g.Wait()
}
