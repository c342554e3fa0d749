package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/server"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/store/storetest"
	"github.com/temper-dev/temper/internal/update"
)

// idle is a running server over a catalog of n locked, released streams
// and an unchanged fixture archive.
type idle struct {
	srv      *server.Server
	archive  *testarchive.Server
	client   func() *archive.Client
	read     string
	rssStart float64 // MB before the server was made
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// rssMB is the process's resident set (Linux /proc).
func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseFloat(string(m[1]), 64)
	return kb / 1024
}

func startIdle(b *testing.B, n int, interval string) *idle {
	b.Helper()
	ctx := context.Background()
	key := releasetest.NewKeyAt(b, "bench fixture", "ed25519", testarchive.KeyCreation, 0)
	pkgs := []testarchive.Package{{Name: "libc6", Version: "2.36-9", Arch: "amd64"}}
	for i := range 30 {
		pkgs = append(pkgs, testarchive.Package{Name: fmt.Sprintf("pkg%02d", i), Version: "1.0-1", Arch: "amd64", Fields: map[string]string{"Depends": "libc6"}})
	}
	a := &testarchive.Archive{Signers: []*openpgp.Entity{key}, Suites: []testarchive.Suite{
		{Name: "bookworm", Architectures: []string{"amd64"}, Packages: pkgs},
		{Name: "bookworm-updates", Architectures: []string{"amd64"}},
		{Name: "bookworm-security", Archive: "debian-security", Architectures: []string{"amd64"}},
	}}
	as := testarchive.Serve(b, a.Files(b))
	cacheDir := b.TempDir()
	cat := b.TempDir()
	for i := range n {
		os.WriteFile(filepath.Join(cat, fmt.Sprintf("s%03d.yaml", i)), fmt.Appendf(nil, "name: s%03d\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [pkg%02d]\n", i, i%30), 0o644)
	}
	outs, err := lock.Run(ctx, []string{cat}, lock.Options{Client: as.Client(b, cacheDir, key)})
	if err != nil {
		b.Fatal(err)
	}
	st := storetest.SQLite(b).Store
	now := testarchive.DefaultDate.Add(time.Hour)
	for _, o := range outs {
		if o.Err != nil {
			b.Fatal(o.Err)
		}
		def, l, err := build.Load(o.Definition)
		if err != nil {
			b.Fatal(err)
		}
		name := build.RefName(def)
		if err := st.PutStream(ctx, store.Stream{Name: name, Definition: o.Definition}); err != nil {
			b.Fatal(err)
		}
		r, _, err := st.ReserveRelease(ctx, store.Release{Stream: name, Day: "20260101", Digest: "sha256:" + strings.Repeat("0", 64), BuildKey: build.BuildKey(def, l), State: store.Pending},
			func(n int) string { return release.ReleaseTag("1", now, n) })
		if err != nil {
			b.Fatal(err)
		}
		if _, err := st.ConfirmRelease(ctx, r.ID, now, store.Move{Stream: name, Channel: "testing", Kind: store.KindPublish, Reason: "bench", At: now}); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	e := &idle{archive: as, rssStart: rssMB(), client: func() *archive.Client { return as.Client(b, cacheDir, key) }}
	c, _ := cache.Open(cacheDir)
	h := fetch.New("bench")
	debs := &pool.Fetcher{Mirrors: as.Mirrors(), Cache: c, HTTP: h}
	e.srv, err = server.New(ctx, server.Config{
		Catalog: cat, Listen: "127.0.0.1:0", Store: st,
		Schedule: server.Schedule{Check: interval, VulnUpdate: "1000h", Snapshot: "1000h", Promote: "1000h"},
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)), Service: &release.Service{Store: st, Tags: release.RemoteTags{Prefix: "127.0.0.1:1/none"}},
		Update: func() (update.Options, error) {
			return update.Options{Client: as.Client(b, cacheDir, key), Debs: debs, Cache: c}, nil
		},
		Cache: c, SkipGate: "benchmark",
	})
	if err != nil {
		b.Fatal(err)
	}
	tk, _ := store.AsTokens(st)
	e.read, _, _ = tk.CreateToken(ctx, store.RoleRead, "", time.Now())
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.srv.Run(rctx) }()
	b.Cleanup(func() { cancel(); <-done })
	<-e.srv.Listening()
	return e
}

var checksOK = regexp.MustCompile(`temper_checks_total\{result="ok"\} (\d+)`)

func (e *idle) get(b *testing.B, path string) []byte {
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.read)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

func (e *idle) checks(b *testing.B) int {
	m := checksOK.FindSubmatch(e.get(b, "/metrics"))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func (e *idle) waitChecks(b *testing.B, n int) {
	deadline := time.Now().Add(2 * time.Minute)
	for e.checks(b) < n {
		if time.Now().After(deadline) {
			b.Fatalf("fewer than %d checks in 2m", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkIdleServer is the budget for an idle server with 300
// streams (bench/serve.sh; docs/performance.md "Service"): the CPU one
// check interval costs with an unchanged archive, GET /api/v1/streams,
// and memory at rest, each next to a baseline measured in the same run.
func BenchmarkIdleServer(b *testing.B) {
	const streams, interval = 300, time.Second
	e := startIdle(b, streams, interval.String())
	e.waitChecks(b, 1) // the first check reads every lock once

	b.Run("check-interval", func(b *testing.B) {
		// Aligned on a check's start (its InRelease requests), then b.N
		// whole intervals; nothing polls the server meanwhile (a /metrics
		// scrape computes every stream's status, and would be measured).
		h := e.archive.TotalHits("InRelease")
		for e.archive.TotalHits("InRelease") == h {
			time.Sleep(time.Millisecond)
		}
		hits0, idx0 := e.archive.TotalHits("InRelease"), e.archive.TotalHits("Packages")
		cpu0 := cpuSeconds()
		b.ResetTimer()
		time.Sleep(time.Duration(b.N) * interval)
		b.StopTimer()
		cpu := cpuSeconds() - cpu0
		b.ReportMetric(cpu/float64(b.N), "cpu-s/interval")
		b.ReportMetric(float64(e.archive.TotalHits("InRelease")-hits0)/float64(b.N), "InRelease/interval")
		b.ReportMetric(float64(e.archive.TotalHits("Packages")-idx0)/float64(b.N), "indexes/interval")
	})
	// Baseline: one InRelease fetched and verified by a fresh client.
	b.Run("baseline-InRelease-fetch", func(b *testing.B) {
		cpu0 := cpuSeconds()
		for b.Loop() {
			if _, err := e.client().Suite(context.Background(), archive.SuiteRef{Name: "bookworm", Base: e.archive.ArchiveURL()}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	})

	body := e.get(b, "/api/v1/streams")
	if got := strings.Count(string(body), `"stream":`); got != streams {
		b.Fatalf("GET /api/v1/streams: %d streams, want %d", got, streams)
	}
	b.Run("GET-streams", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			e.get(b, "/api/v1/streams")
		}
	})
	// Baseline: the same bytes from a bare handler over loopback.
	b.Run("baseline-bare-handler", func(b *testing.B) {
		bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}))
		defer bare.Close()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			resp, err := http.Get(bare.URL)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})

	b.Run("memory-at-rest", func(b *testing.B) {
		for b.Loop() {
			runtime.GC()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss := rssMB()
		b.ReportMetric(rss, "rss-MB")
		b.ReportMetric(e.rssStart, "rss-before-server-MB")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MB")
		b.ReportMetric(float64(ms.Sys)/(1<<20), "go-sys-MB")
	})
}
