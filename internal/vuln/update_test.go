package vuln

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/cache"
)

func TestUpdateConditionalAndValidated(t *testing.T) {
	tracker, err := os.ReadFile("testdata/tracker.json")
	if err != nil {
		t.Fatal(err)
	}
	body := tracker
	var gets, conditional int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets++
		if r.Header.Get("If-None-Match") == `"v1"` && bytes.Equal(body, tracker) {
			conditional++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Mon, 24 Nov 2026 10:00:00 GMT")
		w.Write(body)
	}))
	defer srv.Close()
	c, _ := cache.Open(t.TempDir())
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	opt := UpdateOptions{HTTP: srv.Client(), Now: func() time.Time { return now }}
	st, out, err := Update(context.Background(), c, Tracker, srv.URL, opt)
	if err != nil || out != Updated || st.ETag != `"v1"` || st.SHA256 != sum(tracker) {
		t.Fatalf("first update: %+v %q %v", st, out, err)
	}
	if _, err := c.GetRef(indexRef(st.SHA256)); err != nil {
		t.Errorf("update did not cache the compact index: %v", err)
	}
	now = now.Add(time.Hour)
	st2, out, err := Update(context.Background(), c, Tracker, srv.URL, opt)
	if err != nil || out != Unchanged || conditional != 1 || !st2.FetchedAt.Equal(now) {
		t.Fatalf("second update: %+v %q %v (conditional GETs %d)", st2, out, err, conditional)
	}

	// A broken download never replaces the copy kept.
	body = []byte(`{"openssl": {"CVE-1": `)
	if _, _, err := Update(context.Background(), c, Tracker, srv.URL, opt); err == nil || !strings.Contains(err.Error(), "unchanged") {
		t.Fatalf("invalid JSON was accepted: %v", err)
	}
	kept, _, _ := LoadState(c, Tracker)
	if kept.SHA256 != st.SHA256 {
		t.Error("invalid download replaced the kept copy")
	}

	// Warm load: the JSON is not needed, only the cached index.
	if err := c.Remove(st.SHA256); err != nil {
		t.Fatal(err)
	}
	db, err := Load(c, Files{}, now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if db.Data.Tracker.AgeSeconds != 7200 || db.Index.Len() != 20 || db.KEV != nil {
		t.Errorf("warm load: age %d, %d records, kev %v", db.Data.Tracker.AgeSeconds, db.Index.Len(), db.KEV)
	}
}

func TestUpdateSizeLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte(" "), 2048))
	}))
	defer srv.Close()
	old := maxSize[KEVFeed]
	maxSize[KEVFeed] = 1024
	defer func() { maxSize[KEVFeed] = old }()
	c, _ := cache.Open(t.TempDir())
	if _, _, err := Update(context.Background(), c, KEVFeed, srv.URL, UpdateOptions{HTTP: srv.Client()}); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("oversized body: %v", err)
	}
}

func TestNoData(t *testing.T) {
	c, _ := cache.Open(t.TempDir())
	if _, err := Load(c, Files{}, time.Now()); err == nil || !strings.Contains(err.Error(), "temper vuln update") {
		t.Fatalf("no data: %v", err)
	}
}

func TestKEVAndEPSS(t *testing.T) {
	data, _ := os.ReadFile("testdata/kev.json")
	kev, err := ParseKEV(data)
	if err != nil || len(kev) != 4 || kev["CVE-2025-48384"].DueDate != "2025-09-15" {
		t.Fatalf("KEV: %v %v", kev, err)
	}
	if _, err := ParseKEV([]byte(`{"title": "x"}`)); err == nil {
		t.Error("a KEV document without vulnerabilities was accepted")
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z\ncve,epss,percentile\nCVE-2023-4911,0.78134,0.99012\n"))
	zw.Close()
	e, err := ParseEPSS(buf.Bytes())
	if err != nil || e["CVE-2023-4911"].Score != 0.78134 {
		t.Fatalf("EPSS: %v %v", e, err)
	}
}
