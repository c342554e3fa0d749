package archive_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/ulikunitz/xz"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/index"
	"github.com/temper-dev/temper/internal/debian/release"
	"github.com/temper-dev/temper/internal/debian/testarchive"
)

// The benchmarks below read the real archive (the mirror in this machine's
// apt sources) and are skipped unless TEMPER_LIVE=1 or CI=true. They share
// one warm cache per process, in TEMPER_BENCH_CACHE when set.

var (
	benchOnce sync.Once
	benchDir  string
	benchErr  error
)

func warmCache(b *testing.B) string {
	b.Helper()
	liveMirrors(b)
	benchOnce.Do(func() {
		benchDir = os.Getenv("TEMPER_BENCH_CACHE")
		if benchDir == "" {
			benchDir, benchErr = os.MkdirTemp("", "temper-bench-")
		}
		if benchErr != nil {
			return
		}
		c := liveClient(b, benchDir, false)
		_, benchErr = c.LoadRelease(context.Background(), "bookworm", "amd64")
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchDir
}

// BenchmarkLoadReleaseCached loads bookworm (3 suites) main amd64 from an
// already-downloaded cache: InRelease verification, cache reads with
// SHA-256 verification, parsing, merging. Target ≤ 0.5 s.
func BenchmarkLoadReleaseCached(b *testing.B) {
	dir := warmCache(b)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		rel, err := liveClient(b, dir, true).LoadRelease(context.Background(), "bookworm", "amd64")
		if err != nil {
			b.Fatal(err)
		}
		n = rel.Len()
	}
	b.ReportMetric(float64(n), "packages")
}

// realInReleases fetches bookworm's three real InRelease files once and
// returns them keyed by the URL path they were served at.
func realInReleases(b *testing.B) map[string][]byte {
	m := liveMirrors(b)
	refs, err := archive.SuitesOf("bookworm", m)
	if err != nil {
		b.Fatal(err)
	}
	files := map[string][]byte{}
	h := fetch.New("temper-bench")
	for _, ref := range refs {
		data, err := h.GetBytes(context.Background(), ref.InReleaseURL(), 32<<20)
		if err != nil {
			b.Fatal(err)
		}
		base := "/debian"
		if strings.HasSuffix(ref.Name, "-security") {
			base = "/debian-security"
		}
		files[base+"/dists/"+ref.Name+"/InRelease"] = data
	}
	return files
}

// BenchmarkStatusUnchangedLoopback is a periodic check when nothing
// changed: three InRelease fetches (real files, served on loopback so the
// network round trip is ~0), signature and Valid-Until checks, and a cache
// lookup of every index. This is temper's own cost; target ≤ 50 ms.
func BenchmarkStatusUnchangedLoopback(b *testing.B) {
	dir := warmCache(b)
	srv := testarchive.Serve(b, realInReleases(b))
	benchStatus(b, dir, archive.Mirrors{Archive: srv.ArchiveURL(), Security: srv.SecurityURL()})
}

// BenchmarkStatusUnchangedLive is the same against the real mirror: our
// cost plus one round trip per suite (the three run concurrently).
func BenchmarkStatusUnchangedLive(b *testing.B) {
	dir := warmCache(b)
	benchStatus(b, dir, liveMirrors(b))
}

func benchStatus(b *testing.B, dir string, m archive.Mirrors) {
	kr, err := release.EmbeddedKeyring()
	if err != nil {
		b.Fatal(err)
	}
	c, err := cache.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	h := fetch.New("temper-bench")
	b.ReportAllocs()
	for b.Loop() {
		client, err := archive.New(archive.Config{Mirrors: m, Cache: c, HTTP: h, Keyring: kr})
		if err != nil {
			b.Fatal(err)
		}
		st, err := client.Status(context.Background(), "bookworm", []string{"amd64"})
		if err != nil {
			b.Fatal(err)
		}
		if len(st.Missing) != 0 {
			b.Fatalf("indices missing from a warm cache: %v", st.Missing)
		}
	}
}

// benchIndexFile downloads bookworm's main amd64 Packages.<ext> once per
// benchmark into dir and returns its path.
func benchIndexFile(b *testing.B, ext string) []byte {
	b.Helper()
	m := liveMirrors(b)
	url := m.Archive + "/dists/bookworm/main/binary-amd64/Packages." + ext
	path := filepath.Join(os.TempDir(), "temper-bench-Packages."+ext)
	if data, err := os.ReadFile(path); err == nil && time.Since(fileTime(path)) < time.Hour {
		return data
	}
	data, err := fetch.New("temper-bench").GetBytes(context.Background(), url, 1<<30)
	if err != nil {
		b.Fatal(err)
	}
	os.WriteFile(path, data, 0o644)
	return data
}

func fileTime(p string) time.Time {
	fi, err := os.Stat(p)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// BenchmarkDownloadIndex measures downloading bookworm main amd64
// Packages.xz and Packages.gz from the mirror.
func BenchmarkDownloadIndex(b *testing.B) {
	m := liveMirrors(b)
	for _, ext := range []string{"xz", "gz"} {
		b.Run(ext, func(b *testing.B) {
			url := m.Archive + "/dists/bookworm/main/binary-amd64/Packages." + ext
			h := fetch.New("temper-bench")
			for b.Loop() {
				var n int64
				err := h.Get(context.Background(), url, func() (io.Writer, error) {
					n = 0
					return writerFunc(func(p []byte) (int, error) { n += int64(len(p)); return len(p), nil }), nil
				})
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(n)
			}
		})
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// BenchmarkDecompressIndex measures decompressing the real index with the
// pure-Go decoders temper uses; bench/archive.sh prints `xz -dc` and
// `gzip -dc` on the same files as the baseline.
func BenchmarkDecompressIndex(b *testing.B) {
	for _, ext := range []string{"xz", "gz"} {
		b.Run(ext, func(b *testing.B) {
			data := benchIndexFile(b, ext)
			var out int64
			for b.Loop() {
				var r io.Reader
				if ext == "xz" {
					xr, err := xz.NewReader(bytes.NewReader(data))
					if err != nil {
						b.Fatal(err)
					}
					r = xr
				} else {
					gr, err := gzip.NewReader(bytes.NewReader(data))
					if err != nil {
						b.Fatal(err)
					}
					r = gr
				}
				n, err := io.Copy(io.Discard, r)
				if err != nil {
					b.Fatal(err)
				}
				out = n
			}
			b.SetBytes(out)
		})
	}
}

// BenchmarkParseIndex parses the real decompressed bookworm main amd64
// index (~50 MB, ~63,000 stanzas). Target ≤ 0.25 s.
func BenchmarkParseIndex(b *testing.B) {
	data := benchIndexFile(b, "gz")
	gr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	plain, err := io.ReadAll(gr)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(plain)))
	b.ReportAllocs()
	var n int
	for b.Loop() {
		pkgs, err := index.Parse(plain)
		if err != nil {
			b.Fatal(err)
		}
		n = len(pkgs)
	}
	b.ReportMetric(float64(n), "stanzas")
}
