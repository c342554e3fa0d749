package store

import (
	"context"
	"database/sql"
	"fmt"
)

func (s *sqlStore) Move(ctx context.Context, m Move, rolledBack int64) error {
	err := s.tx(ctx, func(tx *sql.Tx) error { return s.move(ctx, tx, m, rolledBack) })
	if err != nil {
		return fmt.Errorf("store: move %s %s: %w", m.Stream, m.Channel, err)
	}
	return nil
}

// move records m, sets the channel head, and marks rolledBack.
func (s *sqlStore) move(ctx context.Context, tx *sql.Tx, m Move, rolledBack int64) error {
	at := fmtTime(m.At)
	if _, err := tx.ExecContext(ctx, s.d.bind(`INSERT INTO moves (stream, channel, release_id, from_channel, kind, reason, at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), m.Stream, m.Channel, m.ReleaseID, m.From, m.Kind, m.Reason, at); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.d.bind(`INSERT INTO heads (stream, channel, release_id, since) VALUES (?, ?, ?, ?)
		ON CONFLICT (stream, channel) DO UPDATE SET release_id = excluded.release_id, since = excluded.since`),
		m.Stream, m.Channel, m.ReleaseID, at); err != nil {
		return err
	}
	if rolledBack != 0 {
		if _, err := tx.ExecContext(ctx, s.d.bind(`UPDATE releases SET rolled_back_at = ?, rollback_reason = ? WHERE id = ?`),
			at, m.Reason, rolledBack); err != nil {
			return err
		}
	}
	return nil
}

const headCols = `h.stream, h.channel, h.since`

func (s *sqlStore) heads(ctx context.Context, where string, args ...any) (map[string][]Head, error) {
	rows, err := s.db.QueryContext(ctx, s.d.bind(`SELECT `+releaseCols+`, `+headCols+`
		FROM heads h JOIN releases r ON r.id = h.release_id `+where+` ORDER BY h.stream, h.channel`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]Head{}
	for rows.Next() {
		var h Head
		var stream string
		var since sql.NullString
		r, err := scanRelease(rows, &stream, &h.Channel, &since)
		if err != nil {
			return nil, err
		}
		h.Release = r
		if h.Since, err = parseTime(since); err != nil {
			return nil, err
		}
		out[stream] = append(out[stream], h)
	}
	return out, rows.Err()
}

func (s *sqlStore) Heads(ctx context.Context, stream string) ([]Head, error) {
	m, err := s.heads(ctx, `WHERE h.stream = ?`, stream)
	return m[stream], err
}

func (s *sqlStore) Moves(ctx context.Context, stream string) ([]Move, error) {
	rows, err := s.db.QueryContext(ctx, s.d.bind(`SELECT m.id, m.stream, m.channel, m.release_id, r.tag, m.from_channel, m.kind, m.reason, m.at
		FROM moves m JOIN releases r ON r.id = m.release_id WHERE m.stream = ? ORDER BY m.id`), stream)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Move
	for rows.Next() {
		var m Move
		var at sql.NullString
		if err := rows.Scan(&m.ID, &m.Stream, &m.Channel, &m.ReleaseID, &m.Tag, &m.From, &m.Kind, &m.Reason, &at); err != nil {
			return nil, err
		}
		if m.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (s *sqlStore) RecordSnapshot(ctx context.Context, snap Snapshot) (Snapshot, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, s.d.bind(`INSERT INTO snapshots (at) VALUES (?) RETURNING id`), fmtTime(snap.At)).Scan(&snap.ID); err != nil {
			return err
		}
		for _, r := range snap.Results {
			if _, err := tx.ExecContext(ctx, s.d.bind(`INSERT INTO snapshot_results (snapshot_id, stream, release_id, passed, summary) VALUES (?, ?, ?, ?, ?)`),
				snap.ID, r.Stream, r.ReleaseID, boolInt(r.Passed), r.Summary); err != nil {
				return err
			}
			if !r.Passed {
				continue
			}
			res, err := jsonText(Result{Passed: true, Suite: "full", Summary: fmt.Sprintf("snapshot %d: %s", snap.ID, r.Summary)})
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.d.bind(`UPDATE releases SET tests = ? WHERE id = ?`), res, r.ReleaseID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Snapshot{}, fmt.Errorf("store: record snapshot: %w", err)
	}
	return snap, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *sqlStore) Snapshots(ctx context.Context, limit int) ([]Snapshot, error) {
	rows, err := s.db.QueryContext(ctx, s.d.bind(`SELECT s.id, s.at, x.stream, x.release_id, r.tag, x.passed, x.summary
		FROM snapshots s LEFT JOIN snapshot_results x ON x.snapshot_id = s.id LEFT JOIN releases r ON r.id = x.release_id
		WHERE s.id IN (SELECT id FROM snapshots ORDER BY id DESC LIMIT ?) ORDER BY s.id DESC, x.stream`), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Snapshot
	for rows.Next() {
		var id int64
		var at, stream, tag, summary sql.NullString
		var rid sql.NullInt64
		var passed sql.NullInt64
		if err := rows.Scan(&id, &at, &stream, &rid, &tag, &passed, &summary); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].ID != id {
			t, err := parseTime(at)
			if err != nil {
				return nil, err
			}
			out = append(out, Snapshot{ID: id, At: t})
		}
		if stream.Valid {
			last := &out[len(out)-1]
			last.Results = append(last.Results, SnapshotResult{Stream: stream.String, ReleaseID: rid.Int64, Tag: tag.String, Passed: passed.Int64 != 0, Summary: summary.String})
		}
	}
	return out, rows.Err()
}

// Overview reads streams, heads and newest releases in three queries,
// whatever the number of streams.
func (s *sqlStore) Overview(ctx context.Context) ([]Overview, error) {
	streams, err := s.Streams(ctx)
	if err != nil {
		return nil, err
	}
	heads, err := s.heads(ctx, "")
	if err != nil {
		return nil, err
	}
	newest, err := s.releases(ctx, `WHERE r.id IN (SELECT MAX(id) FROM releases WHERE state = ? GROUP BY stream)`, Published)
	if err != nil {
		return nil, err
	}
	byStream := map[string]Release{}
	for _, r := range newest {
		byStream[r.Stream] = r
	}
	out := make([]Overview, len(streams))
	for i, st := range streams {
		out[i] = Overview{Stream: st, Heads: heads[st.Name], Newest: byStream[st.Name]}
	}
	return out, nil
}
