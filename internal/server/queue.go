package server

import (
	"context"
	"database/sql"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

type (
	pgxTx = pgx.Tx
	sqlTx = *sql.Tx
)

// riverJobs adapts River's client of either driver to jobClient.
type riverJobs[TTx any] struct {
	c     *river.Client[TTx]
	close func()
}

func (r riverJobs[TTx]) start(ctx context.Context) error { return r.c.Start(ctx) }

// stop lets running jobs finish; when ctx ends first, they are cancelled
// and handed back to the queue (retried by this or another node).
func (r riverJobs[TTx]) stop(ctx context.Context) error {
	err := r.c.Stop(ctx)
	if err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = r.c.StopAndCancel(cctx)
	}
	return err
}

func (r riverJobs[TTx]) closeFn() {
	if r.close != nil {
		r.close()
	}
}

func (r riverJobs[TTx]) insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return r.c.Insert(ctx, args, opts)
}

func (r riverJobs[TTx]) list(ctx context.Context, p *river.JobListParams) ([]*rivertype.JobRow, error) {
	res, err := r.c.JobList(ctx, p)
	if err != nil {
		return nil, err
	}
	return res.Jobs, nil
}
