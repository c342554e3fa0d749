package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/config"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/server"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/update"
	"github.com/temper-dev/temper/internal/vuln"
)

// serveFlags are temper serve's flags; each has a temper.yaml serve: key.
type serveFlags struct {
	releaseFlags
	engineFlags
	listen, metricsListen string
	git                   bool
	gitPush               string
	rescueAfter           time.Duration
	tlsCert, tlsKey       string
	logFormat             string
	workers               int
	skipGate, reason      string
}

func newServeCommand(g *globalFlags) *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve [CATALOG]",
		Short: "Run the platform: check Debian on a schedule, rebuild, test, scan, sign and publish what changed; HTTP API and metrics",
		Long: `serve runs temper as a service over a catalog directory (default .): it
checks the archive every 15 minutes, and for each definition that changed
(or has no lock, or no release of its build) runs one job: update → lock →
build → test → scan → sign → publish to the first channel. It fetches the
vulnerability data hourly, takes the weekly snapshot, promotes daily and
fast-tracks exploited fixes (temper.yaml schedule:). Jobs live in the state
database (River): SQLite by default, PostgreSQL with --state postgres://...,
where any number of nodes share the work. With --git each lock change is
committed in the catalog's git work tree with the update plan as its
message. The HTTP API (docs/api.md) needs a token (temper token create);
on first start an admin token is printed once.`,
		Example: "  temper serve examples/serve\n  temper serve . --state postgres://temper@db/temper --registry registry.example/team --git --git-push origin",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			catalog := "."
			if len(args) == 1 {
				catalog = args[0]
			}
			return f.run(cmd, g, catalog)
		},
	}
	f.releaseFlags.register(c)
	f.engineFlags.register(c)
	fl := c.Flags()
	fl.StringVar(&f.signKey, "sign-key", "", "sign every release and channel move with this cosign-format key (password: $TEMPER_PASSWORD)")
	fl.StringVar(&f.listen, "listen", "", "API address (default 127.0.0.1:8080)")
	fl.StringVar(&f.metricsListen, "metrics-listen", "", "serve /metrics without a token on this separate address")
	fl.BoolVar(&f.git, "git", false, "commit each lock change in the catalog's git work tree, as temper-bot")
	fl.StringVar(&f.gitPush, "git-push", "", "push each lock commit to this remote (implies --git)")
	fl.DurationVar(&f.rescueAfter, "rescue-after", 0, "how long a job may run before another node takes it over as abandoned (default 10m)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve the API over TLS with this certificate (PEM)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "the TLS certificate's key (PEM)")
	fl.StringVar(&f.logFormat, "log-format", "", "log format: text (default) or json")
	fl.IntVar(&f.workers, "workers", 0, "stream jobs this node runs at once (default 2)")
	fl.StringVar(&f.skipGate, "skip-gate", "", "")
	fl.StringVar(&f.reason, "reason", "", "")
	_ = fl.MarkHidden("skip-gate")
	_ = fl.MarkHidden("reason")
	return c
}

// settle fills each flag left unset from temper.yaml's serve: section.
func (f *serveFlags) settle(conf *config.Config) error {
	sv := conf.Serve
	pick := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	pick(&f.state, sv.State)
	pick(&f.listen, sv.Listen)
	pick(&f.metricsListen, sv.MetricsListen)
	pick(&f.gitPush, sv.GitPush)
	pick(&f.signKey, sv.SignKey)
	pick(&f.tlsCert, sv.TLSCert)
	pick(&f.tlsKey, sv.TLSKey)
	pick(&f.logFormat, sv.LogFormat)
	f.git = f.git || sv.Git || f.gitPush != ""
	if f.workers == 0 {
		f.workers = sv.Workers
	}
	if f.rescueAfter == 0 && sv.RescueAfter != "" {
		d, err := time.ParseDuration(sv.RescueAfter)
		if err != nil {
			return fmt.Errorf("%s: serve: rescue_after: %v", conf.File, err)
		}
		f.rescueAfter = d
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageError{errors.New("--tls-cert and --tls-key go together")}
	}
	switch f.logFormat {
	case "", "text", "json":
	default:
		return usageError{fmt.Errorf("--log-format %q: want text or json", f.logFormat)}
	}
	return nil
}

func (f *serveFlags) logger(cmd *cobra.Command) *slog.Logger {
	if f.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
	}
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
}

func (f *serveFlags) run(cmd *cobra.Command, g *globalFlags, catalog string) error {
	ctx := cmd.Context()
	conf, sched, err := f.configure(g, catalog)
	if err != nil {
		return err
	}
	log := f.logger(cmd)
	var srv *server.Server
	g.onArchiveHTTP = countInReleaseOf(&srv)
	cfg, err := f.jobConfig(g, log)
	if err != nil {
		return err
	}
	key := f.signKey
	f.signKey = ""
	svc, err := f.service(ctx, g)
	if err != nil {
		return err
	}
	defer svc.Store.Close()
	if key != "" {
		if cfg.Build.Signer, err = loadSigner(key); err != nil {
			return err
		}
		svc.Attest = release.PromotionAttester(svc.Tags.(release.Artifacts), cfg.Build.Signer)
	}
	abs, _ := filepath.Abs(catalog)
	f.fillConfig(&cfg, g, conf, abs, sched, log, svc)
	srv, err = server.New(ctx, cfg)
	if err != nil {
		return err
	}
	first, err := firstAdminToken(ctx, svc.Store, g.now())
	if err != nil {
		return err
	}
	go announce(ctx, cmd.OutOrStdout(), srv, first)
	return srv.Run(ctx)
}

// configure finds the configuration for catalog, settles the flags
// against it and validates its schedule.
func (f *serveFlags) configure(g *globalFlags, catalog string) (*config.Config, server.Schedule, error) {
	if fi, err := os.Stat(catalog); err != nil || !fi.IsDir() {
		return nil, server.Schedule{}, usageError{fmt.Errorf("%s: not a catalog directory", catalog)}
	}
	if g.config == "" {
		if p := filepath.Join(catalog, config.FileName); fileExists(p) {
			g.config = p
		}
	}
	conf, err := config.Find(g.config)
	if err != nil {
		return nil, server.Schedule{}, err
	}
	if err := f.settle(conf); err != nil {
		return nil, server.Schedule{}, err
	}
	sched := server.Schedule{Check: conf.Schedule.Check, VulnUpdate: conf.Schedule.VulnUpdate, Snapshot: conf.Schedule.Snapshot, Promote: conf.Schedule.Promote}
	if err := sched.Validate(); err != nil {
		return nil, server.Schedule{}, fmt.Errorf("%s: %v", conf.File, err)
	}
	return conf, sched, nil
}

// countInReleaseOf counts the archive's InRelease fetches into the
// server *srv once it exists.
func countInReleaseOf(srv **server.Server) func(h *fetch.Client) {
	return func(h *fetch.Client) {
		h.HTTP.Transport = countInRelease{next: h.HTTP.Transport, count: func(p string) {
			if *srv != nil {
				(*srv).CountInRelease(p)
			}
		}}
	}
}

// jobConfig is the server configuration the jobs need: updates, builds,
// tests, the cache and the scan policy.
func (f *serveFlags) jobConfig(g *globalFlags, log *slog.Logger) (server.Config, error) {
	upd, err := g.updateOptions(nil)
	if err != nil {
		return server.Config{}, err
	}
	newUpdate := func() (update.Options, error) { return g.updateOptions(nil) }
	test, err := f.engineFlags.options()
	if err != nil {
		log.Warn("no container engine: only the structure tests run", "error", err)
		test, err = (&engineFlags{noEngine: true}).options()
		if err != nil {
			return server.Config{}, err
		}
	}
	pol, exc, err := scanPolicy(g, scanFlags{})
	if err != nil {
		return server.Config{}, err
	}
	bopt := build.Options{Fetcher: upd.Debs}
	if bopt.Output, err = build.DefaultStore(); err != nil {
		return server.Config{}, fmt.Errorf("no image store: %w", err)
	}
	return server.Config{Update: newUpdate, Build: bopt, Test: test, Cache: upd.Cache, Policy: pol, Exceptions: exc}, nil
}

// fillConfig sets the rest of the server configuration from the flags,
// the configuration file and the release service.
func (f *serveFlags) fillConfig(cfg *server.Config, g *globalFlags, conf *config.Config, catalog string, sched server.Schedule, log *slog.Logger, svc *release.Service) {
	cfg.Catalog, cfg.State, cfg.Listen, cfg.MetricsListen, cfg.TLSCert, cfg.TLSKey = catalog, f.state, f.listen, f.metricsListen, f.tlsCert, f.tlsKey
	cfg.Git, cfg.GitPush, cfg.RescueAfter, cfg.Schedule, cfg.Workers, cfg.Logger, cfg.Now = f.git, f.gitPush, f.rescueAfter, sched, f.workers, log, g.now
	cfg.Store, cfg.Service = svc.Store, svc
	cfg.SkipGate, cfg.Support = f.skipGate, conf.Support
	cfg.DistroInfo = func(ctx context.Context, rel string) ([]byte, error) {
		csv, _, err := fetchDistroInfo(ctx, g, []string{rel})
		return csv, err
	}
	cfg.VulnSources = map[vuln.Kind]string{vuln.Tracker: conf.VulnerabilityData.Tracker, vuln.KEVFeed: conf.VulnerabilityData.KEV, vuln.EPSSFeed: conf.VulnerabilityData.EPSS}
}

// announce prints the server's address, and the first admin token when
// one was made, once the server listens.
func announce(ctx context.Context, w io.Writer, srv *server.Server, first string) {
	select {
	case <-srv.Listening():
	case <-ctx.Done():
		return
	}
	fmt.Fprintf(w, "temper serve: %s (API %s/api/v1/streams)\n", srv.URL, srv.URL)
	if first != "" {
		fmt.Fprintf(w, "admin token (shown once; temper token create makes more):\n  %s\n", first)
	}
}

// firstAdminToken makes an admin token when the store has none yet.
func firstAdminToken(ctx context.Context, s store.Store, now time.Time) (string, error) {
	tk, err := store.AsTokens(s)
	if err != nil {
		return "", err
	}
	list, err := tk.ListTokens(ctx)
	if err != nil || len(list) > 0 {
		return "", err
	}
	secret, _, err := tk.CreateToken(ctx, store.RoleAdmin, "first start", now)
	return secret, err
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// countInRelease reports each request's path.
type countInRelease struct {
	next  http.RoundTripper
	count func(path string)
}

func (c countInRelease) RoundTrip(r *http.Request) (*http.Response, error) {
	c.count(r.URL.Path)
	next := c.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}
