package dashboard

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/temper-dev/temper/internal/store"
)

// Cookie names: the session, and the login form's CSRF pair (a login
// has no session yet, so its token is a double-submit cookie).
const (
	SessionCookie = "temper_session"
	LoginCookie   = "temper_login"
)

// session is one login. The token's secret stays on the server: actions
// call the API with it, and every request checks it is still valid (a
// revoked token ends its sessions at once).
type session struct {
	id      string
	secret  string
	role    string
	name    string
	csrf    string
	expires time.Time
}

// Role is the session's token role; Name the token's name.
func (s *session) Role() string { return s.role }
func (s *session) Name() string { return s.name }

// Admin reports whether the session may change state.
func (s *session) Admin() bool { return s.role == store.RoleAdmin }

// sessions are kept in memory: a restart, or another node behind a load
// balancer, asks for the token again.
type sessions struct {
	mu sync.Mutex
	m  map[string]*session
}

func randomID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (ss *sessions) add(s *session, now time.Time) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for id, o := range ss.m {
		if now.After(o.expires) {
			delete(ss.m, id)
		}
	}
	ss.m[s.id] = s
}

func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.m[id]
}

func (ss *sessions) drop(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, id)
}

// current is the request's valid session, or nil.
func (d *Dashboard) current(r *http.Request) *session {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	s := d.sessions.get(c.Value)
	if s == nil {
		return nil
	}
	if d.now().After(s.expires) {
		d.sessions.drop(s.id)
		return nil
	}
	t, err := d.tokens.TokenBySecret(r.Context(), s.secret)
	if err != nil || !t.RevokedAt.IsZero() {
		d.sessions.drop(s.id)
		return nil
	}
	return s
}

// require answers pages without a session with the login form (303), and
// POSTs without one with 401.
func (d *Dashboard) require(f func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := d.current(r)
		if s == nil {
			if r.Method != http.MethodGet {
				d.fail(w, r, nil, http.StatusUnauthorized, "Your session has ended. Log in again.")
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !d.csrfValid(r, s.csrf) {
			d.fail(w, r, s, http.StatusForbidden, "This form has no valid CSRF token: reload the page and try again.")
			return
		}
		f(w, r, s)
	})
}

func (d *Dashboard) csrfValid(r *http.Request, want string) bool {
	got := r.PostFormValue("csrf")
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (d *Dashboard) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: d.cfg.TLS, SameSite: http.SameSiteStrictMode}
}

type loginPage struct {
	base
	Next  string
	Error string
}

func (d *Dashboard) loginForm(w http.ResponseWriter, r *http.Request) {
	d.renderLogin(w, r, http.StatusOK, "")
}

func (d *Dashboard) renderLogin(w http.ResponseWriter, r *http.Request, code int, msg string) {
	tok := randomID()
	http.SetCookie(w, d.cookie(LoginCookie, tok, 3600))
	p := loginPage{base: base{Title: "Log in", CSRF: tok}, Next: safeNext(r.FormValue("next")), Error: msg}
	d.render(w, code, "login", p)
}

// safeNext keeps a redirect on this site: a path, not //host or a URL.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(LoginCookie)
	if err != nil || !d.csrfValid(r, c.Value) {
		d.renderLogin(w, r, http.StatusForbidden, "The login form expired or did not come from this page: try again.")
		return
	}
	secret := strings.TrimSpace(r.PostFormValue("token"))
	if secret == "" {
		d.renderLogin(w, r, http.StatusUnauthorized, "Enter an API token (temper token create).")
		return
	}
	t, err := d.tokens.TokenBySecret(r.Context(), secret)
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.renderLogin(w, r, http.StatusUnauthorized, "That token is not valid.")
		return
	case err != nil:
		d.cfg.Logger.Error("dashboard login", "error", err)
		d.renderLogin(w, r, http.StatusServiceUnavailable, "The state database is unavailable; try again shortly.")
		return
	case !t.RevokedAt.IsZero():
		d.renderLogin(w, r, http.StatusUnauthorized, "That token was revoked.")
		return
	}
	s := &session{id: randomID(), secret: secret, role: t.Role, name: t.Name, csrf: randomID(), expires: d.now().Add(d.cfg.SessionTTL)}
	d.sessions.add(s, d.now())
	http.SetCookie(w, d.cookie(SessionCookie, s.id, int(d.cfg.SessionTTL/time.Second)))
	http.SetCookie(w, d.cookie(LoginCookie, "", -1))
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request, s *session) {
	d.sessions.drop(s.id)
	http.SetCookie(w, d.cookie(SessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
