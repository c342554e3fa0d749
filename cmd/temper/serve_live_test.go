package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/livetest"
)

// metricsOf reads counters from a node's /metrics (name{labels} value).
func metricsOf(t *testing.T, url, token string) map[string]float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

var adminToken = regexp.MustCompile(`admin token[^\n]*\n\s+(\S+)`)

// The live proof of temper serve (CI=true): the static base of the example
// catalog on the real archive (the mirror in this machine's apt sources),
// checked every 5 s. On a fresh state the first check locks, builds and
// publishes it; later intervals cost only the three InRelease fetches
// (no index, no build, no stream job); a restart on the same state
// builds nothing (the release of the build key exists) and its checks
// again cost only the InRelease fetches.
func TestServeLive(t *testing.T) {
	if !livetest.Enabled() {
		t.Skip("live test: CI=true or TEMPER_LIVE=1")
	}
	cat := t.TempDir()
	def, err := os.ReadFile("../../examples/serve/static.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// amd64 only: the proof is the schedule, not the second architecture.
	os.WriteFile(filepath.Join(cat, "static.yaml"), []byte(strings.Replace(string(def), "architectures: [amd64, arm64]", "architectures: [amd64]", 1)), 0o644)
	os.WriteFile(filepath.Join(cat, "temper.yaml"), []byte("schedule:\n  check: 5s\n  vuln_update: 1000h\n  snapshot: 1000h\n  promote: 1000h\n"), 0o644)
	state := filepath.Join(t.TempDir(), "state.db")
	cache := livetest.CacheDir(t)
	args := []string{"--cache", cache, "serve", cat, "--state", state, "--listen", "127.0.0.1:0", "--no-engine",
		"--skip-gate", "live test: the schedule, not the vulnerability data", "--log-format", "json"}

	home := t.TempDir()
	n := startNode(t, "live", home, args)
	url := n.url(60 * time.Second)
	b, _ := os.ReadFile(n.stdout)
	m := adminToken.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no admin token printed on first start:\n%s", b)
	}
	token := string(m[1])

	deadline := time.Now().Add(5 * time.Minute)
	for metricsOf(t, url, token)["temper_publishes_total"] < 1 {
		if time.Now().After(deadline) {
			t.Fatal("static not published within 5 minutes of the first check")
		}
		time.Sleep(time.Second)
	}
	if v := metricsOf(t, url, token)[`temper_archive_requests_total{file="index"}`]; v == 0 {
		t.Fatal("the first lock read no index: the request counter counts nothing")
	}
	if _, err := os.Stat(filepath.Join(cat, "static.lock.yaml")); err != nil {
		t.Fatalf("the first check wrote no lock: %v", err)
	}
	idle := func(n *node, url string, checks int) {
		t.Helper()
		// Let the check after the publish settle, then count.
		before := metricsOf(t, url, token)
		start := before[`temper_checks_total{result="ok"}`]
		for metricsOf(t, url, token)[`temper_checks_total{result="ok"}`] < start+1 {
			time.Sleep(200 * time.Millisecond)
		}
		before = metricsOf(t, url, token)
		c0 := before[`temper_checks_total{result="ok"}`]
		deadline := time.Now().Add(time.Duration(checks+4) * 5 * time.Second)
		var after map[string]float64
		for {
			after = metricsOf(t, url, token)
			if after[`temper_checks_total{result="ok"}`] >= c0+float64(checks) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: fewer than %d checks in %v", n.name, checks, time.Duration(checks+4)*5*time.Second)
			}
			time.Sleep(200 * time.Millisecond)
		}
		d := func(k string) float64 { return after[k] - before[k] }
		nc := d(`temper_checks_total{result="ok"}`)
		if inr := d("temper_inrelease_fetches_total"); inr != 3*nc {
			t.Errorf("%s: %v InRelease fetches in %v checks, want 3 each (bookworm, -updates, -security)", n.name, inr, nc)
		}
		for _, k := range []string{`temper_archive_requests_total{file="index"}`, `temper_archive_requests_total{file="other"}`, "temper_publishes_total", `temper_builds_total{result="ok"}`, `temper_builds_total{result="failed"}`} {
			if d(k) != 0 {
				t.Errorf("%s: %s grew by %v over %v idle checks", n.name, k, d(k), nc)
			}
		}
		t.Logf("%s: %v checks, %v InRelease fetches, nothing else", n.name, nc, d("temper_inrelease_fetches_total"))
	}
	idle(n, url, 3)

	// A restart on the same state: nothing is current-but-rebuilt.
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(90 * time.Second):
		t.Fatal("no exit within 90s of SIGTERM")
	}
	n2 := startNode(t, "restart", home, args)
	url2 := n2.url(60 * time.Second)
	if b, _ := os.ReadFile(n2.stdout); adminToken.Match(b) {
		t.Error("a second admin token printed on the second start")
	}
	idle(n2, url2, 2)
	if v := metricsOf(t, url2, token)[`temper_builds_total{result="ok"}`]; v != 0 {
		t.Errorf("restart built %v times", v)
	}
	req, _ := http.NewRequest("GET", url2+"/api/v1/jobs?limit=500", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var jobs struct {
		Running, Queued, Recent []struct{ Kind, State string }
	}
	json.NewDecoder(resp.Body).Decode(&jobs)
	resp.Body.Close()
	streams := 0
	for _, j := range append(append(jobs.Running, jobs.Queued...), jobs.Recent...) {
		if j.Kind == "stream" {
			streams++
		}
	}
	if streams != 1 {
		t.Errorf("%d stream jobs over both runs, want the first one only", streams)
	}
}
