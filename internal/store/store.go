// Package store is temper's durable record of releases: streams, the
// releases published for them, every channel move, and the weekly
// snapshots. It is the source of truth the registry tags are a projection
// of (see internal/release).
//
// Two back ends share one implementation over database/sql: SQLite
// (modernc.org/sqlite, one file under the user's data directory, the
// embedded default) and PostgreSQL (pgx, for teams and several nodes),
// chosen by the state string Open is given. The schema is versioned
// (schema_migrations); each migration is applied once, in a transaction.
// Every write is one transaction, and unique constraints make publishing
// idempotent (one release per stream and build key) and number a day's
// releases correctly when several writers race.
//
// The store knows nothing of channels' rules, tag formats or registries:
// those are internal/release's. It records what release decided.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned (wrapped) when a stream or release is unknown.
var ErrNotFound = errors.New("not found")

// Release states: a release is reserved (pending, its tag and number
// taken) before its tag is pushed, and published once the push is
// recorded. A pending release found by a later run is one whose push may
// or may not have happened: the caller reconciles with the registry.
const (
	Pending   = "pending"
	Published = "published"
)

// Move kinds.
const (
	KindPublish   = "publish"
	KindPromote   = "promote"
	KindFastTrack = "fast-track"
	KindRollback  = "rollback"
	KindForce     = "force"
	KindRepair    = "repair"
)

// Stream is one definition: "python:3.11-bookworm".
type Stream struct {
	Name string
	// Definition is the path of the definition file.
	Definition string
	// EOL is the date (YYYY-MM-DD) the configured Debian support level
	// ends for the stream's release; "" when unknown.
	EOL string
	// FrozenAt is when the stream was frozen; zero when it is not.
	FrozenAt time.Time
}

// Result is one step's outcome (tests, scan, gate), kept as JSON.
type Result struct {
	Passed bool `json:"passed"`
	// Suite names the tests that ran: "essential" or "full".
	Suite   string `json:"suite,omitempty"`
	Summary string `json:"summary,omitempty"`
	// Counts are open findings by urgency (scan results).
	Counts map[string]int `json:"counts,omitempty"`
	// KEV counts open findings that are known to be exploited.
	KEV    int             `json:"kev,omitempty"`
	Detail json.RawMessage `json:"detail,omitempty"`
}

// CVE is one vulnerability a release fixes against the previous one.
type CVE struct {
	ID string `json:"id"`
	// Source is the Debian source package the fix came with.
	Source string `json:"source,omitempty"`
	// Urgency is Debian's urgency for it, when known.
	Urgency string `json:"urgency,omitempty"`
}

// PackageChange is one line of a release's package diff.
type PackageChange struct {
	Name string `json:"name"`
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// Release is one published image index of a stream.
type Release struct {
	ID     int64
	Stream string
	// Tag is the immutable tag, <version>-<YYYYMMDD>.<N>.
	Tag string
	// Day (YYYYMMDD) and N number the release within its day.
	Day string
	N   int

	Digest     string
	LockDigest string
	BuildKey   string
	Packages   []PackageChange
	CVEsFixed  []CVE
	Tests      Result
	Scan       Result
	Gate       Result
	State      string

	// Patch latency: when the archive published the change, when temper
	// detected it, built it, and published the release.
	ArchivePublished, Detected, Built, Published time.Time

	// RolledBack is when a channel was moved back off this release; a
	// rolled-back release is not promoted again unless forced.
	RolledBack     time.Time
	RollbackReason string

	// Lock is the canonical text of the lock the release was built from
	// ("" for releases recorded before it was kept). Not in JSON reports.
	Lock string `json:"-"`
}

// Failure is a publish attempt a step stopped: nothing was pushed.
type Failure struct {
	ID       int64
	Stream   string
	BuildKey string
	// Step is the step that failed: build, tests, gate, sign, push,
	// frozen.
	Step    string
	Message string
	At      time.Time
}

// Move is one channel move: a channel's tag set to a release.
type Move struct {
	ID        int64
	Stream    string
	Channel   string
	ReleaseID int64
	// Tag is the release's tag (filled in when read).
	Tag string
	// From is the channel the release came from ("" when published).
	From   string
	Kind   string
	Reason string
	At     time.Time
}

// Head is the release a channel holds, and since when.
type Head struct {
	Channel string
	Release Release
	Since   time.Time
}

// Snapshot is one run of the full test suite over the newest releases.
type Snapshot struct {
	ID      int64
	At      time.Time
	Results []SnapshotResult
}

// SnapshotResult is one stream's outcome in a snapshot.
type SnapshotResult struct {
	Stream    string
	ReleaseID int64
	Tag       string
	Passed    bool
	Summary   string
}

// Overview is what `temper status` shows for one stream.
type Overview struct {
	Stream Stream
	Heads  []Head
	// Newest is the newest published release (zero ID when none).
	Newest Release
}

// Store is the durable record. Every method that writes does so in one
// transaction.
type Store interface {
	// PutStream inserts a stream or updates its definition path and EOL
	// date; FrozenAt is set only by Freeze.
	PutStream(ctx context.Context, s Stream) error
	Stream(ctx context.Context, name string) (Stream, error)
	Streams(ctx context.Context) ([]Stream, error)
	Freeze(ctx context.Context, name string, at time.Time) error

	// ReserveRelease records r as pending, numbering it after the
	// stream's other releases of r.Day and naming it tag(n). When the
	// stream already has a release with r.BuildKey, that release is
	// returned instead and created is false.
	ReserveRelease(ctx context.Context, r Release, tag func(n int) string) (rel Release, created bool, err error)
	// ConfirmRelease marks a pending release published at `at` and
	// records first, the move into the first channel, with it.
	ConfirmRelease(ctx context.Context, id int64, at time.Time, first Move) (Release, error)
	ReleaseByID(ctx context.Context, id int64) (Release, error)
	ReleaseByTag(ctx context.Context, stream, tag string) (Release, error)
	// Releases lists a stream's releases, newest first.
	Releases(ctx context.Context, stream string) ([]Release, error)

	// Move records m and makes its release the channel's head. When
	// rolledBack is not 0, that release is marked rolled back with
	// m.Reason, in the same transaction.
	Move(ctx context.Context, m Move, rolledBack int64) error
	Heads(ctx context.Context, stream string) ([]Head, error)
	// Moves lists a stream's channel moves, oldest first.
	Moves(ctx context.Context, stream string) ([]Move, error)

	// RecordSnapshot records a snapshot and its results; each passing
	// result also records a passed full test suite on its release.
	RecordSnapshot(ctx context.Context, s Snapshot) (Snapshot, error)
	Snapshots(ctx context.Context, limit int) ([]Snapshot, error)

	// RecordFailure records a publish attempt that failed; Failures
	// lists a stream's, oldest first.
	RecordFailure(ctx context.Context, f Failure) error
	Failures(ctx context.Context, stream string) ([]Failure, error)

	// Overview reads every stream with its channel heads and newest
	// release in a few queries.
	Overview(ctx context.Context) ([]Overview, error)

	Close() error
}
