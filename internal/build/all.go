package build

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/temper-dev/temper/internal/oci"
)

// Outcome is one definition's build in All.
type Outcome struct {
	File   string
	Result *Result
	Err    error
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
	outs := make([]Outcome, len(files))
	done := make([]chan struct{}, len(files))
	for i := range done {
		done[i] = make(chan struct{})
	}
	var g errgroup.Group
	g.SetLimit(max(opt.Parallelism(len(files)), 1))
	// Go blocks while the limit is reached, so builds are started from
	// their own goroutine while this one reports in order.
	go func() {
		for i, f := range files {
			g.Go(func() error {
				defer close(done[i])
				res, err := Build(ctx, f, opt)
				outs[i] = Outcome{File: f, Result: res, Err: err}
				return nil
			})
		}
	}()
	for i := range files {
		<-done[i]
		report(outs[i])
	}
	g.Wait()
}
