package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"

	"github.com/temper-dev/temper/internal/dashboard/dashtest"
)

// chromiumBin is Debian's chromium package.
const chromiumBin = "/usr/bin/chromium"

// EnvScreenshots, when set, names a directory the browser test copies its
// screenshots to (docs/dashboard when the documentation's are renewed).
const EnvScreenshots = "TEMPER_DASHBOARD_SCREENSHOTS"

// browser starts a headless chromium that never reaches the network: no
// GPU, QUIC, first-run, background networking, component updates or
// sync, and a fresh profile. Without chromium the test is skipped, except
// under CI=true, where it must run.
func browser(t *testing.T) *rod.Browser {
	t.Helper()
	if _, err := exec.LookPath(chromiumBin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %s is missing (apt-get install chromium): %v", chromiumBin, err)
		}
		t.Skipf("%s not installed", chromiumBin)
	}
	l := launcher.New().Bin(chromiumBin).Headless(true).NoSandbox(true).Leakless(false).
		Set("disable-gpu").Set("disable-quic").Set("no-first-run").Set("disable-background-networking").
		Set("disable-component-update").Set("disable-sync").Set("disable-dev-shm-usage").
		UserDataDir(t.TempDir())
	u, err := l.Launch()
	if err != nil {
		t.Fatalf("launch chromium: %v", err)
	}
	b := rod.New().ControlURL(u).Timeout(2 * time.Minute)
	if err := b.Connect(); err != nil {
		l.Kill()
		t.Fatalf("connect to chromium: %v", err)
	}
	t.Cleanup(func() {
		_ = b.Close()
		l.Kill()
		l.Cleanup()
	})
	return b
}

// watched is a page whose console errors, exceptions and failed
// requests are collected.
type watched struct {
	*rod.Page
	t        *testing.T
	mu       sync.Mutex
	problems []string
}

func watch(t *testing.T, b *rod.Browser) *watched {
	t.Helper()
	p, err := b.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		t.Fatal(err)
	}
	w := &watched{Page: p, t: t}
	for _, enable := range []interface{ Call(proto.Client) error }{proto.RuntimeEnable{}, proto.LogEnable{}, proto.NetworkEnable{}} {
		if err := enable.Call(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: 1360, Height: 900, DeviceScaleFactor: 1}); err != nil {
		t.Fatal(err)
	}
	add := func(format string, a ...any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.problems = append(w.problems, fmt.Sprintf(format, a...))
	}
	urls := map[proto.NetworkRequestID]string{}
	go p.EachEvent(func(e *proto.NetworkRequestWillBeSent) {
		w.mu.Lock()
		urls[e.RequestID] = e.Request.URL
		w.mu.Unlock()
	}, func(e *proto.RuntimeConsoleAPICalled) {
		if e.Type == proto.RuntimeConsoleAPICalledTypeError || e.Type == proto.RuntimeConsoleAPICalledTypeWarning {
			add("console %s: %v", e.Type, e.Args)
		}
	}, func(e *proto.RuntimeExceptionThrown) {
		add("exception: %s", e.ExceptionDetails.Text)
	}, func(e *proto.LogEntryAdded) {
		if e.Entry.Level == proto.LogLogEntryLevelError || e.Entry.Level == proto.LogLogEntryLevelWarning {
			add("log %s: %s %s", e.Entry.Level, e.Entry.Text, e.Entry.URL)
		}
	}, func(e *proto.NetworkLoadingFailed) {
		w.mu.Lock()
		u := urls[e.RequestID]
		w.mu.Unlock()
		add("request failed: %s %s (%s)", u, e.ErrorText, e.Type)
	}, func(e *proto.NetworkResponseReceived) {
		if e.Response.Status >= 400 {
			add("response %d: %s", e.Response.Status, e.Response.URL)
		}
	})()
	return w
}

func (w *watched) problemsSoFar() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.problems...)
}

// open loads a page and waits for it, and for its requests (the
// favicon) to finish.
func (w *watched) open(u string) {
	w.t.Helper()
	idle := w.WaitRequestIdle(200*time.Millisecond, nil, nil, nil)
	defer idle()
	if err := w.Navigate(u); err != nil {
		w.t.Fatalf("open %s: %v", u, err)
	}
	if err := w.WaitLoad(); err != nil {
		w.t.Fatalf("load %s: %v", u, err)
	}
}

// click clicks selector and waits for the navigation it starts.
func (w *watched) click(selector string) {
	w.t.Helper()
	el, err := w.Element(selector)
	if err != nil {
		w.t.Fatalf("%s: %v", selector, err)
	}
	idle := w.WaitRequestIdle(200*time.Millisecond, nil, nil, nil)
	defer idle()
	wait := w.WaitNavigation(proto.PageLifecycleEventNameLoad)
	if err := el.Click(proto.InputMouseButtonLeft, 1); err != nil {
		w.t.Fatalf("click %s: %v", selector, err)
	}
	wait()
}

func (w *watched) text(selector string) string {
	w.t.Helper()
	el, err := w.Element(selector)
	if err != nil {
		w.t.Fatalf("%s: %v", selector, err)
	}
	s, err := el.Text()
	if err != nil {
		w.t.Fatal(err)
	}
	return strings.TrimSpace(s)
}

func (w *watched) number(selector string) int {
	w.t.Helper()
	n, err := strconv.Atoi(w.text(selector))
	if err != nil {
		w.t.Fatalf("%s: %v", selector, err)
	}
	return n
}

func (w *watched) count(selector string) int {
	w.t.Helper()
	els, err := w.Elements(selector)
	if err != nil {
		w.t.Fatalf("%s: %v", selector, err)
	}
	return len(els)
}

func (w *watched) html() string {
	w.t.Helper()
	s, err := w.HTML()
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

// shot saves a screenshot of the viewport as name.png in dir.
func (w *watched) shot(dir, name string) {
	w.t.Helper()
	b, err := w.Screenshot(false, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	if err != nil {
		w.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func (w *watched) login(base, token string) {
	w.t.Helper()
	w.open(base + "/login")
	el, err := w.Element("#token")
	if err != nil {
		w.t.Fatal(err)
	}
	if err := el.Input(token); err != nil {
		w.t.Fatal(err)
	}
	w.click(`.login button[type="submit"]`)
}

// TestBrowser drives Debian's chromium through every page of a temper
// serve holding 300 streams × 50 releases over 12 weeks.
func TestBrowser(t *testing.T) {
	e := start(t)
	b := browser(t)
	shots := t.ArtifactDir()
	p := watch(t, b)
	p.open(e.URL + "/")
	if !strings.Contains(p.MustInfo().URL, "/login") {
		t.Fatalf("without a session / went to %s, want the login form", p.MustInfo().URL)
	}
	p.shot(shots, "login")
	p.login(e.URL, e.admin)

	// Overview: totals, groups, the frozen stream, KEV.
	if got := p.number("#total-streams"); got != len(e.seeded.Streams)+1 {
		t.Errorf("overview: %d streams, want %d", got, len(e.seeded.Streams)+1)
	}
	if n := p.count("tr.row"); n != len(e.seeded.Streams)+1 {
		t.Errorf("overview: %d rows", n)
	}
	if p.number("#total-frozen") < 1 || p.number("#total-kev") < 1 || p.number("#total-blocked") < len(e.seeded.Blocked) {
		t.Errorf("overview totals: frozen %s, KEV %s, blocked %s", p.text("#total-frozen"), p.text("#total-kev"), p.text("#total-blocked"))
	}
	frozen := p.text(`tr[data-stream="` + e.seeded.Frozen + `"] .state`)
	if frozen != "frozen" {
		t.Errorf("%s shows state %q", e.seeded.Frozen, frozen)
	}
	if p.count("h2[id^='g-']") < len(dashtest.Runtimes) {
		t.Errorf("overview: fewer groups than runtimes")
	}
	p.shot(shots, "overview")
	p.open(e.URL + "/?state=frozen&group=release")
	if n := p.count("tr.row"); n != 1 {
		t.Errorf("filter state=frozen: %d rows", n)
	}

	// Stream: the fast-tracked stream's timeline and release history.
	p.open(e.URL + streamPath(e.seeded.FastTrack))
	h := p.html()
	for _, want := range []string{"fast-track", e.seeded.FastTrack, "CVEs fixed", "Package", "Channel timeline"} {
		if !strings.Contains(h, want) {
			t.Errorf("stream page of %s lacks %q", e.seeded.FastTrack, want)
		}
	}
	if n := p.count("details.release"); n != 50 {
		t.Errorf("stream page: %d releases, want 50", n)
	}
	// Its patch latency plot: a point per release and stage, the fast
	// track marked, the median as a reference line.
	if n := p.count("#plot-stream .s-prod circle.pt"); n < 10 {
		t.Errorf("stream plot: %d production points", n)
	}
	if n := p.count("#plot-stream .series"); n != 4 {
		t.Errorf("stream plot: %d series", n)
	}
	if n := p.count("#plot-stream path.mark"); n < 1 {
		t.Errorf("stream plot: no fast-tracked release marked")
	}
	if n := p.count("#plot-stream .ref.r-median line"); n != 1 {
		t.Errorf("stream plot: %d median lines", n)
	}
	p.shot(shots, "stream")
	p.open(e.URL + streamPath(e.seeded.RolledBack))
	if !strings.Contains(p.html(), "rolled back") {
		t.Errorf("stream page of %s does not show its rollback", e.seeded.RolledBack)
	}

	// Vulnerabilities, grouped by CVE; the KEV first; fixable now.
	p.open(e.URL + "/vulnerabilities")
	all := p.number("#vuln-cves")
	if all < 10 || p.number("#vuln-kev") < 1 {
		t.Errorf("vulnerabilities: %d CVEs, %s KEV", all, p.text("#vuln-kev"))
	}
	first := p.text("table.cves tbody tr th")
	if first != dashtest.KEV {
		t.Errorf("first CVE is %s, want the KEV %s", first, dashtest.KEV)
	}
	p.shot(shots, "vulnerabilities")
	p.open(e.URL + "/vulnerabilities?view=fixable")
	if fx := p.number("#vuln-cves"); fx == 0 || fx > all || p.number("#vuln-fixable") != p.number("#vuln-findings") {
		t.Errorf("fixable now: %d CVEs of %d; %s fixable of %s findings", fx, all, p.text("#vuln-fixable"), p.text("#vuln-findings"))
	}

	// Patch latency: plots drawn with points, fast tracks marked.
	p.open(e.URL + "/latency")
	if n := p.count("#plot-production circle.pt"); n < 10 {
		t.Errorf("production plot: %d points", n)
	}
	if n := p.count("#plot-production path.mark"); n < 1 {
		t.Errorf("production plot: no fast-tracked release marked")
	}
	if n := p.count("#plot-vulns circle.pt"); n < 12 {
		t.Errorf("vulnerability plot: %d points", n)
	}
	if n := p.count("#plot-stages .series"); n != 4 {
		t.Errorf("stages plot: %d series", n)
	}
	if got := p.text("#gate-pass-rate"); got == "0%" || got == "" {
		t.Errorf("gate pass rate %q", got)
	}
	p.shot(shots, "latency")

	// Jobs: the vulnerability update fails (its source is unreachable)
	// and is listed with its log.
	deadline := time.Now().Add(30 * time.Second)
	for {
		p.open(e.URL + "/jobs")
		if p.number("#count-failed") > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if p.number("#count-failed") == 0 || !strings.Contains(p.html(), "127.0.0.1:1") {
		t.Errorf("jobs: the failed vuln-update job is not shown with its log")
	}
	if p.count("#check-now") != 1 {
		t.Errorf("jobs: no check button for an admin")
	}
	p.shot(shots, "jobs")

	// An admin promotes the demo stream through the page: confirm, and
	// the registry tag moves.
	p.open(e.URL + streamPath(Demo))
	p.click("#promote-staging")
	if !strings.Contains(p.html(), "Promote "+Demo) {
		t.Fatalf("confirmation page: %s", p.html())
	}
	p.shot(shots, "confirm")
	p.click("#confirm-button")
	if msg := p.text("#result-message"); !strings.Contains(msg, "now in staging") {
		t.Fatalf("promotion result: %q", msg)
	}
	if d, err := e.tags.Get(context.Background(), "demo", "1.0-bookworm-staging"); err != nil || d != e.demoDigest {
		t.Fatalf("staging tag after the promotion: %s, %v; want %s", d, err, e.demoDigest)
	}
	p.open(e.URL + streamPath(Demo))
	if got := p.text("#head-staging"); !strings.HasPrefix(got, "1.0-bookworm-") {
		t.Errorf("staging head on the page: %q", got)
	}
	if probs := p.problemsSoFar(); len(probs) > 0 {
		t.Errorf("admin pages: %d console errors or failed requests:\n%s", len(probs), strings.Join(probs, "\n"))
	}

	// A read-only user sees no action buttons; a forged POST with its
	// session is refused.
	inc, err := b.Incognito()
	if err != nil {
		t.Fatal(err)
	}
	r := watch(t, inc)
	r.login(e.URL, e.read)
	for _, path := range []string{streamPath(Demo), "/jobs", "/"} {
		r.open(e.URL + path)
		if n := r.count(".action, form[action^='/actions'], a[href^='/confirm']"); n != 0 {
			t.Errorf("read-only %s: %d action buttons", path, n)
		}
	}
	if probs := r.problemsSoFar(); len(probs) > 0 {
		t.Errorf("read-only pages: %s", strings.Join(probs, "\n"))
	}
	cookies, err := r.Cookies([]string{e.URL})
	if err != nil {
		t.Fatal(err)
	}
	var session string
	for _, c := range cookies {
		if c.Name == "temper_session" {
			session = c.Value
			if !c.HTTPOnly || c.SameSite != proto.NetworkCookieSameSiteStrict {
				t.Errorf("session cookie: HttpOnly %v SameSite %s", c.HTTPOnly, c.SameSite)
			}
		}
	}
	for name, form := range map[string]url.Values{
		"no csrf":    {"stream": {Demo}, "to": {"production"}},
		"wrong csrf": {"stream": {Demo}, "to": {"production"}, "csrf": {"0123"}},
	} {
		req, _ := http.NewRequest("POST", e.URL+"/actions/promote", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "temper_session", Value: session})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("forged POST (%s) from a read-only session: %s", name, resp.Status)
		}
	}
	if d, _ := e.tags.Get(context.Background(), "demo", "1.0-bookworm"); d != "" {
		t.Errorf("a forged POST moved production to %s", d)
	}
	r.shot(shots, "readonly-stream")

	if dst := os.Getenv(EnvScreenshots); dst != "" {
		for _, n := range []string{"login", "overview", "stream", "vulnerabilities", "latency", "jobs", "confirm"} {
			b, err := os.ReadFile(filepath.Join(shots, n+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dst, n+".png"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("screenshots in %s", shots)
}

func streamPath(stream string) string {
	n, v, _ := strings.Cut(stream, ":")
	return "/streams/" + n + "/" + v
}
