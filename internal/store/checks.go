package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Check is what the server's last check said of a stream, and the git
// commit of the last lock the server committed for it.
type Check struct {
	Stream string
	// Verdict is the check's (update.Verdict): "up-to-date", "updates",
	// "security", "blocked", "not-locked" or "failed"; "" before the
	// first check.
	Verdict string
	// Detail says why, for blocked and failed.
	Detail    string
	CheckedAt time.Time
	// LockCommit is the commit hash of the stream's lock, when the server
	// committed it (--git); "" when not known.
	LockCommit      string
	LockCommittedAt time.Time
}

// Checks records the server's checks. The SQL store implements it;
// AsChecks finds it.
type Checks interface {
	// RecordCheck records a stream's check verdict at `at`, replacing the
	// previous one (the lock commit is kept).
	RecordCheck(ctx context.Context, stream, verdict, detail string, at time.Time) error
	// RecordLockCommit records the commit of a stream's lock.
	RecordLockCommit(ctx context.Context, stream, commit string, at time.Time) error
	// LastChecks is every stream's record, by stream.
	LastChecks(ctx context.Context) (map[string]Check, error)
}

// AsChecks returns s's check records.
func AsChecks(s Store) (Checks, error) {
	c, ok := s.(Checks)
	if !ok {
		return nil, fmt.Errorf("store %T keeps no checks", s)
	}
	return c, nil
}

func (s *sqlStore) RecordCheck(ctx context.Context, stream, verdict, detail string, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.d.bind(`INSERT INTO stream_checks (stream, verdict, detail, checked_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (stream) DO UPDATE SET verdict = excluded.verdict, detail = excluded.detail, checked_at = excluded.checked_at`),
			stream, verdict, detail, fmtTime(at))
		return err
	})
}

func (s *sqlStore) RecordLockCommit(ctx context.Context, stream, commit string, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.d.bind(`INSERT INTO stream_checks (stream, lock_commit, lock_committed_at) VALUES (?, ?, ?)
			ON CONFLICT (stream) DO UPDATE SET lock_commit = excluded.lock_commit, lock_committed_at = excluded.lock_committed_at`),
			stream, commit, fmtTime(at))
		return err
	})
}

func (s *sqlStore) LastChecks(ctx context.Context) (map[string]Check, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT stream, verdict, detail, checked_at, lock_commit, lock_committed_at FROM stream_checks`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Check{}
	for rows.Next() {
		var c Check
		var checked, committed sql.NullString
		if err := rows.Scan(&c.Stream, &c.Verdict, &c.Detail, &checked, &c.LockCommit, &committed); err != nil {
			return nil, err
		}
		if c.CheckedAt, err = parseTime(checked); err != nil {
			return nil, err
		}
		if c.LockCommittedAt, err = parseTime(committed); err != nil {
			return nil, err
		}
		out[c.Stream] = c
	}
	return out, rows.Err()
}
