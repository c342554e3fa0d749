// Package server is `temper serve`: the platform running itself. Periodic
// jobs on River (check, vuln-update, snapshot, promote; fast-track after
// vuln-update and after checks that found security updates), one job per
// stream for update → lock → build → test → scan → sign → publish (the
// same code as the command line, internal/pipeline), the HTTP API with
// bearer tokens, and Prometheus metrics. The job queue lives in the
// state database: River's riversqlite driver on the embedded SQLite file
// (one connection, shared with the store), riverpgxv5 on PostgreSQL, so
// any number of nodes share the work.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/testrun"
	"github.com/temper-dev/temper/internal/update"
	"github.com/temper-dev/temper/internal/vuln"
	"github.com/temper-dev/temper/internal/vuln/policy"
)

// Config is everything a server needs; cmd/temper's serve command fills
// it from flags and temper.yaml.
type Config struct {
	// Catalog is the directory of definitions.
	Catalog string
	// State is what the store was opened from ("" or a file: SQLite;
	// postgres://: PostgreSQL, whose DSN River's pool is opened with).
	State string
	// Listen is the API address (default 127.0.0.1:8080).
	Listen string
	// MetricsListen, when set, serves /metrics there without a token.
	MetricsListen   string
	TLSCert, TLSKey string
	Git             bool
	GitPush         string
	RescueAfter     time.Duration
	Schedule        Schedule
	Workers         int // stream jobs one node runs at once (default 2)
	Logger          *slog.Logger
	Now             func() time.Time
	ShutdownTimeout time.Duration
	Store           store.Store
	Service         *release.Service
	// Update makes each job's archive client, .deb fetcher and cache: an
	// archive client reads each InRelease once, so every check needs a
	// new one.
	Update           func() (update.Options, error)
	Build            build.Options
	Test             testrun.Options
	Cache            *cache.Cache
	Policy           *policy.Policy
	Exceptions       []policy.Exception
	SkipGate         string // reason the gate is skipped, when it is
	Support          string
	DistroInfo       func(ctx context.Context, release string) ([]byte, error)
	VulnSources      map[vuln.Kind]string
	FastTrackOnCheck bool
}

// Role a route needs: "" is open.
type Role string

// Roles: Open needs no token; Read any valid token; Admin an admin token.
const (
	Open  Role = ""
	Read  Role = store.RoleRead
	Admin Role = store.RoleAdmin
)

// Server is one node.
type Server struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	jobs    jobClient
	metrics *metrics
	tokens  store.Tokens
	memo    releasedMemo
	ready   chan struct{}
	// URL is the API's address once Run listens; MetricsURL the metrics
	// listener's (with --metrics-listen).
	URL, MetricsURL string
	// listening is closed when the listeners are open.
	listening chan struct{}
	patterns  []string
	// details is the dashboard's vulnerability details (dashboard.go).
	details vulnDetails
}

// New prepares a server: River's migrations run here, the workers and
// periodic jobs are registered, the routes are mounted. Run starts it.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:8080"
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = 10 * time.Minute
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = time.Minute
	}
	cfg.Schedule = cfg.Schedule.withDefaults()
	if err := cfg.Schedule.Validate(); err != nil {
		return nil, err
	}
	tk, err := store.AsTokens(cfg.Store)
	if err != nil {
		return nil, err
	}
	s := &Server{memo: releasedMemo{m: map[string]string{}}, cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), tokens: tk, ready: make(chan struct{}), listening: make(chan struct{})}
	s.metrics = newMetrics(s)
	if err := s.openQueue(ctx); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// openQueue migrates River's schema and makes the client.
func (s *Server) openQueue(ctx context.Context) error {
	rc, err := s.riverConfig()
	if err != nil {
		return err
	}
	db, isPG, ok := store.DB(s.cfg.Store)
	if !ok {
		return fmt.Errorf("store %T has no database for the job queue", s.cfg.Store)
	}
	if isPG {
		pool, err := pgxpool.New(ctx, s.cfg.State)
		if err != nil {
			return fmt.Errorf("job queue: %w", err)
		}
		drv := riverpgxv5.New(pool)
		if err := migrateRiverLocked(ctx, pool, drv, s.log); err != nil {
			pool.Close()
			return err
		}
		c, err := river.NewClient(drv, rc)
		if err != nil {
			pool.Close()
			return err
		}
		s.jobs = riverJobs[pgxTx]{c: c, close: pool.Close}
		return nil
	}
	drv := riversqlite.New(db)
	if err := migrateRiver(ctx, drv, s.log); err != nil {
		return err
	}
	c, err := river.NewClient(drv, rc)
	if err != nil {
		return err
	}
	s.jobs = riverJobs[sqlTx]{c: c}
	return nil
}

// riverMigrationLock is the PostgreSQL advisory lock that serializes
// River's migrations when several nodes start at once (River's own
// migrations do not take one: two at once collide on CREATE TYPE).
const riverMigrationLock = 7242772

// migrateRiverLocked runs River's migrations holding the advisory lock
// on one of the pool's connections.
func migrateRiverLocked(ctx context.Context, pool *pgxpool.Pool, drv riverdriver.Driver[pgx.Tx], log *slog.Logger) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", riverMigrationLock); err != nil {
		return fmt.Errorf("job queue migrations: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", riverMigrationLock)
	return migrateRiver(ctx, drv, log)
}

func migrateRiver[TTx any](ctx context.Context, drv riverdriver.Driver[TTx], log *slog.Logger) error {
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: log})
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	if len(res.Versions) > 0 {
		log.Info("job queue schema migrated", "versions", len(res.Versions))
	}
	return nil
}

// Handle mounts a handler on the server's mux behind the role's check
// (Open: none). The dashboard mounts its pages here.
func (s *Server) Handle(pattern string, h http.Handler, role Role) {
	s.mux.Handle(pattern, s.auth(role, h))
	s.patterns = append(s.patterns, pattern)
}

// Routes are the patterns mounted with Handle, in order (docs/openapi.yaml
// documents each; TestOpenAPICoversEveryRoute checks it).
func (s *Server) Routes() []string { return append([]string(nil), s.patterns...) }

// Mux is the server's mux with every route mounted (for tests and for
// embedding the API in another server).
func (s *Server) Mux() http.Handler { return s.limit(s.mux) }

// Authorize checks a request's bearer token against role, without
// sessions: it is the check Handle applies, for callers that route
// themselves. It returns the HTTP status to answer when it fails (401
// or 403) and 0 when the request may proceed.
func (s *Server) Authorize(r *http.Request, role Role) (int, error) {
	return s.authorize(r, role)
}

// Run starts the workers and the listeners and blocks until ctx ends,
// then shuts down gracefully: HTTP first, then River's Stop (running jobs
// finish, or are handed back when the shutdown timeout ends).
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if s.cfg.TLSCert != "" {
		scheme = "https"
	}
	s.URL = scheme + "://" + ln.Addr().String()
	srvs := []*http.Server{{Handler: s.Mux(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}}
	lns := []net.Listener{ln}
	if s.cfg.MetricsListen != "" {
		mln, err := net.Listen("tcp", s.cfg.MetricsListen)
		if err != nil {
			ln.Close()
			return err
		}
		mm := http.NewServeMux()
		mm.Handle("/metrics", s.metrics.handler())
		srvs = append(srvs, &http.Server{Handler: mm, ReadHeaderTimeout: 10 * time.Second})
		lns = append(lns, mln)
		s.MetricsURL = "http://" + mln.Addr().String()
		s.log.Info("metrics listening", "url", s.MetricsURL+"/metrics")
	}
	if err := s.jobs.start(ctx); err != nil {
		for _, l := range lns {
			l.Close()
		}
		return fmt.Errorf("job queue: %w", err)
	}
	errc := make(chan error, len(srvs))
	for i, srv := range srvs {
		go func() {
			var err error
			if i == 0 && s.cfg.TLSCert != "" {
				srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
				err = srv.ServeTLS(lns[i], s.cfg.TLSCert, s.cfg.TLSKey)
			} else {
				err = srv.Serve(lns[i])
			}
			if !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	close(s.ready)
	close(s.listening)
	s.log.Info("temper serve listening", "url", s.URL, "catalog", s.cfg.Catalog)
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	for _, srv := range srvs {
		_ = srv.Shutdown(sctx)
	}
	if err := s.jobs.stop(sctx); err != nil {
		s.log.Warn("jobs handed back unfinished", "error", err)
	}
	s.jobs.closeFn()
	return runErr
}

// Listening is closed once Run's listeners are open (URL is set).
func (s *Server) Listening() <-chan struct{} { return s.listening }

// jobClient is River's client without its transaction type.
type jobClient interface {
	start(ctx context.Context) error
	stop(ctx context.Context) error
	closeFn()
	insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	list(ctx context.Context, p *river.JobListParams) ([]*rivertype.JobRow, error)
}
