package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

const releaseCols = `r.id, r.stream, r.tag, r.day, r.n, r.digest, r.lock_digest, r.build_key,
	r.packages, r.cves_fixed, r.tests, r.scan, r.gate, r.state,
	r.archive_published_at, r.detected_at, r.built_at, r.published_at, r.rolled_back_at, r.rollback_reason, r.lock_text`

// releaseRow scans releaseCols (and then any extra destinations).
func scanRelease(sc interface{ Scan(...any) error }, extra ...any) (Release, error) {
	var r Release
	var pk, cv, te, sca, ga string
	var ap, de, bu, pu, rb sql.NullString
	dest := append([]any{&r.ID, &r.Stream, &r.Tag, &r.Day, &r.N, &r.Digest, &r.LockDigest, &r.BuildKey,
		&pk, &cv, &te, &sca, &ga, &r.State, &ap, &de, &bu, &pu, &rb, &r.RollbackReason, &r.Lock}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return r, err
	}
	for _, j := range []struct {
		raw string
		v   any
	}{{pk, &r.Packages}, {cv, &r.CVEsFixed}, {te, &r.Tests}, {sca, &r.Scan}, {ga, &r.Gate}} {
		if err := json.Unmarshal([]byte(j.raw), j.v); err != nil {
			return r, fmt.Errorf("release %d: %w", r.ID, err)
		}
	}
	for _, t := range []struct {
		ns  sql.NullString
		dst *time.Time
	}{{ap, &r.ArchivePublished}, {de, &r.Detected}, {bu, &r.Built}, {pu, &r.Published}, {rb, &r.RolledBack}} {
		var err error
		if *t.dst, err = parseTime(t.ns); err != nil {
			return r, err
		}
	}
	return r, nil
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// ReserveRelease numbers the release in SQL's view of the day: the next N
// is read and inserted in one transaction, and the unique constraints
// (stream, day, n) and (stream, build_key) decide a race: the loser's
// insert does nothing, and it either finds the winner's release for the
// same build key or tries the next N.
func (s *sqlStore) ReserveRelease(ctx context.Context, r Release, tag func(n int) string) (Release, bool, error) {
	for attempt := 0; attempt < 20; attempt++ {
		var out Release
		var created bool
		err := s.tx(ctx, func(tx *sql.Tx) error {
			var err error
			out, created, err = s.reserve(ctx, tx, r, tag)
			return err
		})
		if err == nil && out.ID != 0 {
			return out, created, nil
		}
		if err != nil {
			return Release{}, false, fmt.Errorf("store: reserve release of %s: %w", r.Stream, err)
		}
	}
	return Release{}, false, fmt.Errorf("store: reserve release of %s: too many concurrent writers", r.Stream)
}

// reserve returns a zero Release when its insert lost a race for N.
func (s *sqlStore) reserve(ctx context.Context, tx *sql.Tx, r Release, tag func(n int) string) (Release, bool, error) {
	if old, err := s.releaseWhere(ctx, tx, `r.stream = ? AND r.build_key = ?`, r.Stream, r.BuildKey); err == nil {
		return old, false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Release{}, false, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.d.bind(`SELECT COALESCE(MAX(n), 0) + 1 FROM releases WHERE stream = ? AND day = ?`), r.Stream, r.Day).Scan(&n); err != nil {
		return Release{}, false, err
	}
	var js [5]string
	for i, v := range []any{nonNil(r.Packages), nonNil(r.CVEsFixed), r.Tests, r.Scan, r.Gate} {
		var err error
		if js[i], err = jsonText(v); err != nil {
			return Release{}, false, err
		}
	}
	rows, err := tx.QueryContext(ctx, s.d.bind(`INSERT INTO releases (stream, tag, day, n, digest, lock_digest, build_key,
		packages, cves_fixed, tests, scan, gate, state, archive_published_at, detected_at, built_at, lock_text)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
		r.Stream, tag(n), r.Day, n, r.Digest, r.LockDigest, r.BuildKey, js[0], js[1], js[2], js[3], js[4], Pending,
		nullTime(r.ArchivePublished), nullTime(r.Detected), nullTime(r.Built), r.Lock)
	if err != nil {
		return Release{}, false, err
	}
	var id int64
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return Release{}, false, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || id == 0 {
		return Release{}, false, err
	}
	out, err := s.releaseWhere(ctx, tx, `r.id = ?`, id)
	return out, true, err
}

// nonNil keeps empty lists as [] rather than null in the JSON columns.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *sqlStore) releaseWhere(ctx context.Context, q querier, where string, args ...any) (Release, error) {
	r, err := scanRelease(q.QueryRowContext(ctx, s.d.bind(`SELECT `+releaseCols+` FROM releases r WHERE `+where), args...))
	return r, notFound(fmt.Sprint("release ", args), err)
}

func (s *sqlStore) ConfirmRelease(ctx context.Context, id int64, at time.Time, first Move) (Release, error) {
	var out Release
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.bind(`UPDATE releases SET state = ?, published_at = ? WHERE id = ? AND state = ?`),
			Published, fmtTime(at), id, Pending); err != nil {
			return err
		}
		first.ReleaseID = id
		if first.Channel != "" {
			if err := s.move(ctx, tx, first, 0); err != nil {
				return err
			}
		}
		var err error
		out, err = s.releaseWhere(ctx, tx, `r.id = ?`, id)
		return err
	})
	if err != nil {
		return Release{}, fmt.Errorf("store: confirm release %d: %w", id, err)
	}
	return out, nil
}

func (s *sqlStore) ReleaseByID(ctx context.Context, id int64) (Release, error) {
	return s.releaseWhere(ctx, s.db, `r.id = ?`, id)
}

func (s *sqlStore) ReleaseByTag(ctx context.Context, stream, tag string) (Release, error) {
	return s.releaseWhere(ctx, s.db, `r.stream = ? AND r.tag = ?`, stream, tag)
}

func (s *sqlStore) Releases(ctx context.Context, stream string) ([]Release, error) {
	return s.releases(ctx, `WHERE r.stream = ? ORDER BY r.id DESC`, stream)
}

func (s *sqlStore) releases(ctx context.Context, tail string, args ...any) ([]Release, error) {
	rows, err := s.db.QueryContext(ctx, s.d.bind(`SELECT `+releaseCols+` FROM releases r `+tail), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Release
	for rows.Next() {
		r, err := scanRelease(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
