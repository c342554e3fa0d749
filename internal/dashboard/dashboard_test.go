package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLoginSessionCookie(t *testing.T) {
	e := start(t)
	c := e.client()
	// Pages need a session.
	resp, err := c.Get(e.URL + "/latency")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=%2Flatency") {
		t.Fatalf("GET /latency without a session: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	// A wrong token is refused, and so is a login without the form's token.
	csrf := e.formCSRF(c, "/login")
	for name, v := range map[string]url.Values{
		"wrong token": {"token": {"tmp_nope"}, "csrf": {csrf}},
		"no csrf":     {"token": {e.admin}},
		"forged csrf": {"token": {e.admin}, "csrf": {"x" + csrf}},
	} {
		resp, err := c.PostForm(e.URL+"/login", v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || len(c.Jar.Cookies(mustURL(e.URL))) > 1 {
			t.Errorf("login with %s: %s", name, resp.Status)
		}
	}
	csrf = e.formCSRF(c, "/login")
	resp, err = c.PostForm(e.URL+"/login", url.Values{"token": {e.read}, "csrf": {csrf}, "next": {"//evil.example/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login: %s to %q (an off-site next must not be followed)", resp.Status, resp.Header.Get("Location"))
	}
	var sc string
	for _, h := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, "temper_session=") {
			sc = h
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("session cookie %q is Secure on plain HTTP", sc)
	}
	body, code := e.get(c, "/")
	if code != 200 || !strings.Contains(body, "Catalog overview") {
		t.Fatalf("overview after login: %d", code)
	}
	// Logging out ends the session.
	csrf = e.formCSRF(c, "/")
	resp, err = c.PostForm(e.URL+"/logout", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, code := e.get(c, "/"); code != http.StatusSeeOther {
		t.Fatalf("overview after logout: %d", code)
	}
}

func mustURL(s string) *url.URL {
	u, _ := url.Parse(s)
	return u
}

// A revoked token's session ends at its next request.
func TestRevokedTokenEndsSession(t *testing.T) {
	e := start(t)
	c := e.client()
	e.login(c, e.read)
	if _, code := e.get(c, "/"); code != 200 {
		t.Fatalf("overview: %d", code)
	}
	tk, _ := storeTokens(e)
	ts, _ := tk.ListTokens(context.Background())
	for _, tok := range ts {
		if tok.Name == "viewer" {
			_ = tk.RevokeToken(context.Background(), tok.ID, tok.CreatedAt)
		}
	}
	if _, code := e.get(c, "/"); code != http.StatusSeeOther {
		t.Fatalf("overview with a revoked token: %d, want a redirect to the login form", code)
	}
}

// A read-only session sees no action and may not act; an admin's POST
// without the session's CSRF token, or from another origin, is refused;
// with it, the promotion goes through the API and the tag moves.
func TestActionsRolesAndCSRF(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	stagingTag := "1.0-bookworm-staging"
	moved := func() bool {
		d, err := e.tags.Get(ctx, "demo", stagingTag)
		return err == nil && d == e.demoDigest
	}
	reader := e.client()
	e.login(reader, e.read)
	for _, p := range []string{"/streams/demo/1.0-bookworm", "/jobs"} {
		body, code := e.get(reader, p)
		if code != 200 {
			t.Fatalf("%s: %d", p, code)
		}
		if strings.Contains(body, "/confirm") || strings.Contains(body, `class="button action`) || strings.Contains(body, "/actions/") {
			t.Errorf("%s shows actions to a read-only session", p)
		}
	}
	if _, code := e.get(reader, "/confirm?action=promote&stream="+Demo+"&to=staging"); code != http.StatusForbidden {
		t.Errorf("confirm page for a reader: %d", code)
	}
	rcsrf := e.formCSRF(reader, "/")
	post := func(c *http.Client, form url.Values, origin string) int {
		req, _ := http.NewRequest("POST", e.URL+"/actions/promote", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
			req.Header.Set("Sec-Fetch-Site", "cross-site")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	promote := url.Values{"stream": {Demo}, "to": {"staging"}}
	with := func(csrf string) url.Values {
		v := url.Values{"csrf": {csrf}}
		for k, x := range promote {
			v[k] = x
		}
		return v
	}
	if code := post(reader, with(rcsrf), ""); code != http.StatusForbidden || moved() {
		t.Fatalf("a reader's promotion: %d (moved %v)", code, moved())
	}
	admin := e.client()
	e.login(admin, e.admin)
	acsrf := e.formCSRF(admin, "/confirm?action=promote&stream="+url.QueryEscape(Demo)+"&to=staging")
	for name, code := range map[string]int{
		"no csrf":        post(admin, promote, ""),
		"wrong csrf":     post(admin, with(rcsrf), ""),
		"another origin": post(admin, with(acsrf), "http://evil.example"),
		"no session":     post(e.client(), with(acsrf), ""),
	} {
		if code != http.StatusForbidden && code != http.StatusUnauthorized {
			t.Errorf("forged promotion (%s): %d", name, code)
		}
	}
	if moved() {
		t.Fatal("a forged POST moved the tag")
	}
	if code := post(admin, with(acsrf), ""); code != 200 || !moved() {
		t.Fatalf("admin promotion: %d, tag moved %v", code, moved())
	}
	// The API's rules hold: promoting again into production is refused
	// by the soak rule, and the page says so.
	acsrf = e.formCSRF(admin, "/confirm?action=promote&stream="+url.QueryEscape(Demo)+"&to=production")
	form := url.Values{"csrf": {acsrf}, "stream": {Demo}, "to": {"production"}}
	resp, err := admin.PostForm(e.URL+"/actions/promote", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("promotion into production before the soak: %d, want 409 from the API", resp.StatusCode)
	}
}
