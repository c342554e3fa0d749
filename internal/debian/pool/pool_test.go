package pool_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/pool"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func setup(t *testing.T, files map[string][]byte) (*pool.Fetcher, *int64, *cache.Cache) {
	var hits int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		atomic.AddInt64(&hits, 1)
		data, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	c, err := cache.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := fetch.New("test")
	h.Backoff = time.Millisecond
	return &pool.Fetcher{Mirrors: archive.Mirrors{Archive: srv.URL + "/debian", Security: srv.URL + "/debian-security"}, Cache: c, HTTP: h}, &hits, c
}

func TestFetch(t *testing.T) {
	a, b := []byte("deb a"), []byte("deb b from security")
	f, hits, _ := setup(t, map[string][]byte{
		"/debian/pool/main/a/a/a_1_amd64.deb":                  a,
		"/debian-security/pool/updates/main/b/b/b_2_amd64.deb": b,
	})
	items := []pool.Item{
		{Name: "a", Version: "1", Suite: "bookworm", Filename: "pool/main/a/a/a_1_amd64.deb", SHA256: sum(a), Size: int64(len(a))},
		{Name: "b", Version: "2", Suite: "bookworm-security", Filename: "pool/updates/main/b/b/b_2_amd64.deb", SHA256: sum(b), Size: int64(len(b))},
	}
	var progress bytes.Buffer
	f.Progress = &progress
	got, st, err := f.Fetch(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[0], a) || !bytes.Equal(got[1], b) || st.Downloaded != 2 {
		t.Fatalf("got %q %+v", got, st)
	}
	if !strings.Contains(progress.String(), "fetched b 2") {
		t.Errorf("progress: %q", progress.String())
	}
	// Second run: all from the cache, no request.
	*hits = 0
	_, st, err = f.Fetch(context.Background(), items)
	if err != nil || st.Cached != 2 || *hits != 0 {
		t.Errorf("second run: %+v %v, %d requests", st, err, *hits)
	}
}

func TestFetchRefusesMismatch(t *testing.T) {
	good, evil := []byte("the real deb"), []byte("something else")
	f, _, c := setup(t, map[string][]byte{"/debian/pool/main/x/x/x_1_amd64.deb": evil})
	item := pool.Item{Name: "x", Version: "1", Suite: "bookworm", Filename: "pool/main/x/x/x_1_amd64.deb", SHA256: sum(good), Size: int64(len(evil))}
	_, _, err := f.Fetch(context.Background(), []pool.Item{item})
	if err == nil || !strings.Contains(err.Error(), "x 1 from ") || !strings.Contains(err.Error(), "/debian/pool/main/x/x/x_1_amd64.deb") {
		t.Fatalf("err = %v, want the package and URL", err)
	}
	// Nothing cached, no temp files.
	var files []string
	filepath.Walk(c.Dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Errorf("cache holds %v after a refused download", files)
	}
	// A corrupt cache entry is detected, removed and fetched again.
	f2, _, c2 := setup(t, map[string][]byte{"/debian/pool/main/x/x/x_1_amd64.deb": good})
	item.Size = int64(len(good))
	os.MkdirAll(filepath.Dir(c2.Path(item.SHA256)), 0o755)
	os.WriteFile(c2.Path(item.SHA256), []byte("poisoned"), 0o644)
	got, st, err := f2.Fetch(context.Background(), []pool.Item{item})
	if err != nil || !bytes.Equal(got[0], good) || st.Downloaded != 1 {
		t.Errorf("poisoned cache: %v %+v", err, st)
	}
}

// TestFetchOffline: offline, cached .debs are served and a missing one is
// an error naming it; the archive is never asked.
func TestFetchOffline(t *testing.T) {
	a, b := []byte("deb a"), []byte("deb b")
	f, hits, c := setup(t, map[string][]byte{
		"/debian/pool/main/a/a/a_1_amd64.deb": a,
		"/debian/pool/main/b/b/b_1_amd64.deb": b,
	})
	if err := c.WriteBytes(sum(a), a); err != nil {
		t.Fatal(err)
	}
	f.Offline = true
	ia := pool.Item{Name: "a", Version: "1", Suite: "bookworm", Filename: "pool/main/a/a/a_1_amd64.deb", SHA256: sum(a), Size: int64(len(a))}
	ib := pool.Item{Name: "b", Version: "1", Suite: "bookworm", Filename: "pool/main/b/b/b_1_amd64.deb", SHA256: sum(b), Size: int64(len(b))}
	got, st, err := f.Fetch(context.Background(), []pool.Item{ia})
	if err != nil || !bytes.Equal(got[0], a) || st.Cached != 1 {
		t.Fatalf("cached item offline: %v, %+v", err, st)
	}
	_, _, err = f.Fetch(context.Background(), []pool.Item{ia, ib})
	if err == nil || !strings.Contains(err.Error(), "b 1 (sha256 "+sum(b)+"): not in the cache for offline use") {
		t.Fatalf("missing item offline: %v", err)
	}
	if *hits != 0 {
		t.Errorf("offline fetch made %d requests", *hits)
	}
	if _, err := c.Read(sum(b)); err == nil {
		t.Error("b was cached offline")
	}
}

// A designated repository's .deb is below the item's base URL, whatever
// its suite; Debian's follow the suite.
func TestURLBase(t *testing.T) {
	f := &pool.Fetcher{}
	f.Mirrors.Archive, f.Mirrors.Security = "http://m/debian", "http://m/debian-security"
	for _, c := range []struct {
		it   pool.Item
		want string
	}{
		{pool.Item{Suite: "bookworm", Filename: "pool/main/a/a.deb"}, "http://m/debian/pool/main/a/a.deb"},
		{pool.Item{Suite: "bookworm-security", Filename: "pool/main/a/a.deb"}, "http://m/debian-security/pool/main/a/a.deb"},
		{pool.Item{Suite: "bookworm", Filename: "pool/main/p/php.deb", Base: "http://r/php"}, "http://r/php/pool/main/p/php.deb"},
		{pool.Item{Suite: "bookworm-security", Filename: "pool/main/p/php.deb", Base: "http://r/php/"}, "http://r/php/pool/main/p/php.deb"},
	} {
		if got := f.URL(c.it); got != c.want {
			t.Errorf("URL(%+v) = %s, want %s", c.it, got, c.want)
		}
	}
}
