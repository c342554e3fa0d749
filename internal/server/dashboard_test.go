package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/server"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/vuln"
)

// browse logs in to the dashboard with token and returns a client that
// carries the session.
func (e *env) browse(token string) *http.Client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(e.srv.URL + "/login")
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(e.srv.URL)
	var csrf string
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "temper_login" {
			csrf = ck.Value
		}
	}
	resp, err = c.PostForm(e.srv.URL+"/login", url.Values{"token": {token}, "csrf": {csrf}})
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("login: %s", resp.Status)
	}
	return c
}

func (e *env) page(c *http.Client, path string) string {
	e.t.Helper()
	resp, err := c.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: %s\n%s", path, resp.Status, b)
	}
	return string(b)
}

// seedFinding records a published release of stream whose scan found id
// in source.
func seedFinding(t *testing.T, st store.Store, stream, id, source string) {
	t.Helper()
	ctx := context.Background()
	if err := st.PutStream(ctx, store.Stream{Name: stream}); err != nil {
		t.Fatal(err)
	}
	detail, _ := json.Marshal([]map[string]string{{"id": id, "source": source, "status": "fixable", "urgency": "low"}})
	now := time.Now().UTC()
	r, _, err := st.ReserveRelease(ctx, store.Release{Stream: stream, Day: now.Format("20060102"), Digest: "sha256:" + strings.Repeat("a", 64),
		BuildKey: "seeded", State: store.Pending, Scan: store.Result{Summary: "1 finding", Counts: map[string]int{"fixable": 1}, Detail: detail},
		Gate: store.Result{Passed: true}}, func(n int) string { return "1-seeded." + string(rune('0'+n)) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ConfirmRelease(ctx, r.ID, now, store.Move{Stream: stream, Channel: "testing", ReleaseID: r.ID, Kind: store.KindPublish, At: now}); err != nil {
		t.Fatal(err)
	}
}

// The Vulnerabilities page under `temper serve` shows the tracker's
// description, Debian's comment and EPSS of each CVE from the cached
// vulnerability data the server's vuln-update job keeps, and shows the
// new data after the next vuln-update.
func TestServeDashboardVulnDetails(t *testing.T) {
	dir := t.TempDir()
	tracker := filepath.Join(dir, "tracker.json")
	epss := filepath.Join(dir, "epss.csv")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(tracker, `{"web": {"CVE-2099-0101": {"description": "heap overflow in web's request parser", "scope": "remote",
		"releases": {"bookworm": {"status": "open", "urgency": "low", "nodsa": "Minor issue", "nodsa_reason": "postponed", "repositories": {"bookworm": "1.0"}}}}}}`)
	write(epss, "#model_version:v2025.03.14,score_date:2026-01-01T00:00:00Z\ncve,epss,percentile\nCVE-2099-0101,0.4242,0.97\n")
	kev, _ := filepath.Abs("../vuln/testdata/kev.json")
	e := startWith(t, "1000h", func(c *server.Config) {
		c.VulnSources = map[vuln.Kind]string{vuln.Tracker: tracker, vuln.KEVFeed: kev, vuln.EPSSFeed: epss}
		c.Schedule.VulnUpdate = "1s"
	})
	seedFinding(t, e.st, "web:1-bookworm", "CVE-2099-0101", "web")
	c := e.browse(e.read)

	// The vuln-update job runs on start; the page shows its data once
	// it has run.
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for {
		body = e.page(c, "/vulnerabilities")
		if strings.Contains(body, "heap overflow") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	row := rowOf(t, body, "CVE-2099-0101")
	for _, want := range []string{"heap overflow in web&#39;s request parser", "Minor issue", "42.4%"} {
		if !strings.Contains(row, want) {
			t.Errorf("CVE row lacks %q:\n%s\nlogs:\n%s", want, row, e.logs.String())
		}
	}
	if strings.Contains(row, `<span class="none">—</span>`) {
		t.Errorf("EPSS shown as unknown:\n%s", row)
	}

	// New EPSS scores: the page shows them after the next vuln-update.
	write(epss, "cve,epss,percentile\nCVE-2099-0101,0.1234,0.5\n")
	deadline = time.Now().Add(20 * time.Second)
	for !strings.Contains(rowOf(t, e.page(c, "/vulnerabilities"), "CVE-2099-0101"), "12.3%") {
		if time.Now().After(deadline) {
			t.Fatalf("the page kept the old EPSS after a vuln-update; logs:\n%s", e.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rowOf is the table row of id in a page.
func rowOf(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no row %s in:\n%s", id, body)
	}
	j := strings.Index(body[i:], "</tr>")
	return body[i : i+j]
}

// The check job records each stream's verdict, and a stream job under
// --git the commit of its lock: the Overview shows the last check, the
// Stream page the lock's commit.
func TestServeDashboardLastCheckAndLockCommit(t *testing.T) {
	e := startWith(t, "1000h", nil)
	e.waitReleases(1, 30*time.Second)
	head := strings.TrimSpace(git(t, e.dir, "log", "-1", "--format=%H", "--", "tool.lock.yaml"))
	ck, err := store.AsChecks(e.st)
	if err != nil {
		t.Fatal(err)
	}
	var got store.Check
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		m, err := ck.LastChecks(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got = m["tool:1"]; got.Verdict != "" && got.LockCommit != "" {
			break
		}
	}
	if got.Verdict != "up-to-date" || got.CheckedAt.IsZero() || got.LockCommit != head || head == "" {
		t.Fatalf("recorded %+v, want up-to-date and commit %s", got, head)
	}
	c := e.browse(e.read)
	ov := e.page(c, "/")
	i := strings.Index(ov, `data-stream="tool:1"`)
	if i < 0 {
		t.Fatalf("no tool:1 row:\n%s", ov)
	}
	row := ov[i : i+strings.Index(ov[i:], "</tr>")]
	if !strings.Contains(row, `<span class="verdict v-up-to-date"`) || !strings.Contains(row, "ago</span>") {
		t.Errorf("overview row lacks the last check:\n%s", row)
	}
	sp := e.page(c, "/streams/tool/1")
	if !strings.Contains(sp, `<code title="`+head+`" id="lock-commit">`+head[:12]+`</code>`) {
		t.Errorf("stream page lacks the lock commit %s:\n%s", head, sp)
	}
	if !strings.Contains(sp, `id="stream-check">up-to-date</span>`) {
		t.Errorf("stream page lacks the last check")
	}
}
