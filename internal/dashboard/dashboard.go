// Package dashboard is the web pages `temper serve` shows at /: the
// catalog at a glance (Overview), one stream's history (Stream), every
// finding grouped by CVE (Vulnerabilities), how fast fixes travel
// (Patch latency) and the job queue with its admin actions (Jobs).
//
// Pages are html/template rendered on the server from the store, with
// plots drawn as SVG on the server: no JavaScript, no network, no CDN.
// The assets are embedded. People log in with an API token (the same
// tokens and roles as the API): the session cookie is HttpOnly,
// SameSite=Strict and Secure when served over TLS, and every form that
// changes state carries a per-session CSRF token. Admin actions go
// through the API's own handlers in-process, with the session's token,
// so the dashboard cannot do anything the API would refuse.
package dashboard

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the dashboard reads and calls.
type Config struct {
	// Service reads the store (status, history) and knows the channels.
	Service *release.Service
	// API is the server's API handler: the admin actions and the job
	// list are requests to it, made in-process with the session's token.
	API http.Handler
	// TLS marks the session cookie Secure.
	TLS bool
	// SessionTTL is how long a login lasts (default 12h).
	SessionTTL time.Duration
	// WarmHistory rebuilds the latency page's history cache in the
	// background whenever another page sees the catalog move.
	WarmHistory bool
	// Details, when set, adds the tracker's description, Debian's
	// comment and EPSS to findings: cve of source package source in the
	// Debian release (codename) of a stream it was found in.
	Details func(cve, source, release string) FindingInfo
	// CommitURL, when set, links the lock's commit on the Stream page:
	// "{commit}" is replaced by its hash (e.g.
	// "https://git.example.org/catalog/commit/{commit}").
	CommitURL string
	Now       func() time.Time
	Logger    *slog.Logger
}

// FindingInfo is what Config.Details knows of a CVE beyond the scan.
type FindingInfo struct {
	EPSS        float64 // 0 when unknown
	Comment     string  // Debian's comment (the nodsa reason), "" when none
	Description string  // the tracker's description of the CVE
}

// Dashboard serves the pages.
type Dashboard struct {
	cfg      Config
	tokens   store.Tokens
	pages    map[string]*template.Template
	sessions sessions
	static   http.Handler
	csrfOK   *http.CrossOriginProtection

	mu       sync.Mutex
	cache    *history // every stream's history, kept while the store's heads do not move
	warming  bool
	building sync.Mutex
}

// New prepares the dashboard; Routes mounts it.
func New(cfg Config) (*Dashboard, error) {
	if cfg.Service == nil || cfg.Service.Store == nil {
		return nil, errors.New("dashboard: no release service")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	tk, err := store.AsTokens(cfg.Service.Store)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	d := &Dashboard{cfg: cfg, tokens: tk, pages: pages, sessions: sessions{m: map[string]*session{}},
		static: http.StripPrefix("/static/", http.FileServerFS(sub)), csrfOK: http.NewCrossOriginProtection()}
	return d, nil
}

// Routes mounts every page with handle (the server's mux, without its
// bearer-token check: pages check the session themselves).
func (d *Dashboard) Routes(handle func(pattern string, h http.Handler)) {
	page := func(f func(http.ResponseWriter, *http.Request, *session)) http.Handler {
		return d.headers(d.require(f))
	}
	handle("GET /{$}", page(d.overview))
	handle("GET /streams/{name}/{version}", page(d.stream))
	handle("GET /vulnerabilities", page(d.vulnerabilities))
	handle("GET /latency", page(d.latency))
	handle("GET /jobs", page(d.jobs))
	handle("GET /confirm", page(d.confirm))
	handle("POST /actions/{action}", d.headers(d.csrfOK.Handler(d.require(d.action))))
	handle("GET /login", d.headers(http.HandlerFunc(d.loginForm)))
	handle("POST /login", d.headers(d.csrfOK.Handler(http.HandlerFunc(d.login))))
	handle("POST /logout", d.headers(d.csrfOK.Handler(d.require(d.logout))))
	handle("GET /static/", d.static)
	handle("GET /favicon.ico", http.RedirectHandler("/static/favicon.svg", http.StatusMovedPermanently))
}

// Mount makes a dashboard from cfg and mounts it with handle.
func Mount(handle func(pattern string, h http.Handler), cfg Config) error {
	d, err := New(cfg)
	if err != nil {
		return err
	}
	d.Routes(handle)
	return nil
}

// headers are every page's security headers: no script, no framing,
// nothing from elsewhere.
func (d *Dashboard) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

func (d *Dashboard) now() time.Time { return d.cfg.Now().UTC() }
