package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// sqlStore is the Store over database/sql, for both dialects.
type sqlStore struct {
	db   *sql.DB
	d    *dialect
	name string
}

func (s *sqlStore) Close() error { return s.db.Close() }

// tx runs f in one transaction, committed when f returns nil.
func (s *sqlStore) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

// timeFormat is fixed width so that text order is time order in both
// back ends.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

func parseTime(ns sql.NullString) (time.Time, error) {
	if !ns.Valid || ns.String == "" {
		return time.Time{}, nil
	}
	return time.Parse(timeFormat, ns.String)
}

func notFound(what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return err
}

func (s *sqlStore) PutStream(ctx context.Context, st Stream) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.d.bind(`INSERT INTO streams (name, definition, eol) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, eol = excluded.eol`),
			st.Name, st.Definition, st.EOL)
		return err
	})
}

const streamCols = `name, definition, eol, frozen_at`

func scanStream(sc interface{ Scan(...any) error }) (Stream, error) {
	var st Stream
	var frozen sql.NullString
	if err := sc.Scan(&st.Name, &st.Definition, &st.EOL, &frozen); err != nil {
		return st, err
	}
	var err error
	st.FrozenAt, err = parseTime(frozen)
	return st, err
}

func (s *sqlStore) Stream(ctx context.Context, name string) (Stream, error) {
	st, err := scanStream(s.db.QueryRowContext(ctx, s.d.bind(`SELECT `+streamCols+` FROM streams WHERE name = ?`), name))
	return st, notFound("stream "+name, err)
}

func (s *sqlStore) Streams(ctx context.Context) ([]Stream, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+streamCols+` FROM streams ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Stream
	for rows.Next() {
		st, err := scanStream(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

func (s *sqlStore) Freeze(ctx context.Context, name string, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.bind(`UPDATE streams SET frozen_at = ? WHERE name = ? AND frozen_at IS NULL`), fmtTime(at), name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := s.streamTx(ctx, tx, name); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *sqlStore) streamTx(ctx context.Context, q querier, name string) (Stream, error) {
	st, err := scanStream(q.QueryRowContext(ctx, s.d.bind(`SELECT `+streamCols+` FROM streams WHERE name = ?`), name))
	return st, notFound("stream "+name, err)
}
