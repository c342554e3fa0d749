package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// migration is one schema version. Statements are shared SQL; {{id}} is
// the dialect's auto-numbered primary key. Applied migrations are never
// edited: a change is a new migration.
type migration struct {
	version int
	name    string
	stmts   []string
}

var migrations = []migration{
	{1, "streams, releases, moves, heads, snapshots", []string{
		`CREATE TABLE streams (
			name TEXT PRIMARY KEY,
			definition TEXT NOT NULL DEFAULT '',
			eol TEXT NOT NULL DEFAULT '',
			frozen_at TEXT
		)`,
		`CREATE TABLE releases (
			id {{id}},
			stream TEXT NOT NULL REFERENCES streams(name),
			tag TEXT NOT NULL,
			day TEXT NOT NULL,
			n INTEGER NOT NULL,
			digest TEXT NOT NULL,
			lock_digest TEXT NOT NULL DEFAULT '',
			build_key TEXT NOT NULL,
			packages TEXT NOT NULL DEFAULT '[]',
			cves_fixed TEXT NOT NULL DEFAULT '[]',
			tests TEXT NOT NULL DEFAULT '{}',
			scan TEXT NOT NULL DEFAULT '{}',
			gate TEXT NOT NULL DEFAULT '{}',
			state TEXT NOT NULL,
			archive_published_at TEXT,
			detected_at TEXT,
			built_at TEXT,
			published_at TEXT,
			rolled_back_at TEXT,
			rollback_reason TEXT NOT NULL DEFAULT '',
			UNIQUE (stream, build_key),
			UNIQUE (stream, day, n),
			UNIQUE (stream, tag)
		)`,
		`CREATE TABLE moves (
			id {{id}},
			stream TEXT NOT NULL REFERENCES streams(name),
			channel TEXT NOT NULL,
			release_id BIGINT NOT NULL REFERENCES releases(id),
			from_channel TEXT NOT NULL DEFAULT '',
			kind TEXT NOT NULL,
			reason TEXT NOT NULL DEFAULT '',
			at TEXT NOT NULL
		)`,
		`CREATE INDEX moves_stream ON moves (stream, id)`,
		`CREATE TABLE heads (
			stream TEXT NOT NULL REFERENCES streams(name),
			channel TEXT NOT NULL,
			release_id BIGINT NOT NULL REFERENCES releases(id),
			since TEXT NOT NULL,
			PRIMARY KEY (stream, channel)
		)`,
		`CREATE TABLE snapshots (
			id {{id}},
			at TEXT NOT NULL
		)`,
		`CREATE TABLE snapshot_results (
			snapshot_id BIGINT NOT NULL REFERENCES snapshots(id),
			stream TEXT NOT NULL REFERENCES streams(name),
			release_id BIGINT NOT NULL REFERENCES releases(id),
			passed INTEGER NOT NULL,
			summary TEXT NOT NULL DEFAULT '',
			PRIMARY KEY (snapshot_id, stream)
		)`,
	}},
	{2, "release lock text, failed publish attempts", []string{
		// The lock a release was built from, in its canonical text: the
		// next release's package diff and today's gate are computed from
		// it, whatever the definition's lock says by then.
		`ALTER TABLE releases ADD COLUMN lock_text TEXT NOT NULL DEFAULT ''`,
		`CREATE TABLE failures (
			id {{id}},
			stream TEXT NOT NULL,
			build_key TEXT NOT NULL DEFAULT '',
			step TEXT NOT NULL,
			message TEXT NOT NULL,
			at TEXT NOT NULL
		)`,
		`CREATE INDEX failures_stream ON failures (stream, id)`,
	}},
	{3, "API tokens", []string{
		// A token is shown once; only its SHA-256 is kept.
		`CREATE TABLE tokens (
			id {{id}},
			name TEXT NOT NULL DEFAULT '',
			role TEXT NOT NULL,
			hash TEXT NOT NULL UNIQUE,
			created_at TEXT NOT NULL,
			revoked_at TEXT
		)`,
	}},
	{4, "each stream's last check and lock commit", []string{
		// One row per stream: the verdict of the server's last check and
		// the git commit of the last lock the server committed.
		`CREATE TABLE stream_checks (
			stream TEXT PRIMARY KEY,
			verdict TEXT NOT NULL DEFAULT '',
			detail TEXT NOT NULL DEFAULT '',
			checked_at TEXT,
			lock_commit TEXT NOT NULL DEFAULT '',
			lock_committed_at TEXT
		)`,
	}},
}

// migrate applies the migrations not yet recorded, each once and in its
// own transaction, so a failed migration leaves the previous version.
func (s *sqlStore) migrate(ctx context.Context) error {
	if err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.lockMigrations(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
		return err
	}); err != nil {
		return fmt.Errorf("schema_migrations: %w", err)
	}
	for _, m := range migrations {
		if err := s.tx(ctx, func(tx *sql.Tx) error { return s.apply(ctx, tx, m) }); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

func (s *sqlStore) lockMigrations(ctx context.Context, tx *sql.Tx) error {
	if s.d.migrationLock == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, s.d.migrationLock)
	return err
}

// apply runs m unless it is recorded; the check is inside the
// transaction (after the lock) so two processes never both apply it.
func (s *sqlStore) apply(ctx context.Context, tx *sql.Tx, m migration) error {
	if err := s.lockMigrations(ctx, tx); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.d.bind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	for _, st := range m.stmts {
		if _, err := tx.ExecContext(ctx, strings.ReplaceAll(st, "{{id}}", s.d.id)); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, s.d.bind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		m.version, m.name, fmtTime(time.Now()))
	return err
}

// SchemaVersion is the newest migration's version.
func SchemaVersion() int { return migrations[len(migrations)-1].version }
