package store

import (
	"context"
	"database/sql"
	"fmt"
)

func (s *sqlStore) RecordFailure(ctx context.Context, f Failure) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.d.bind(`INSERT INTO failures (stream, build_key, step, message, at) VALUES (?, ?, ?, ?, ?)`),
			f.Stream, f.BuildKey, f.Step, f.Message, fmtTime(f.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record failure of %s: %w", f.Stream, err)
	}
	return nil
}

func (s *sqlStore) Failures(ctx context.Context, stream string) ([]Failure, error) {
	rows, err := s.db.QueryContext(ctx, s.d.bind(`SELECT id, stream, build_key, step, message, at FROM failures WHERE stream = ? ORDER BY id`), stream)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Failure
	for rows.Next() {
		var f Failure
		var at sql.NullString
		if err := rows.Scan(&f.ID, &f.Stream, &f.BuildKey, &f.Step, &f.Message, &at); err != nil {
			return nil, err
		}
		if f.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
