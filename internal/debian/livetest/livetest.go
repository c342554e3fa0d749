// Package livetest is test support for tests and benchmarks that read the
// real Debian archive: the mirror named in this machine's apt sources,
// never a host name written in the code. Live tests run when CI=true or
// TEMPER_LIVE=1 and are skipped otherwise; in CI a machine without a
// Debian source in its apt configuration fails them.
package livetest

import (
	"os"
	"testing"

	"github.com/temper-dev/temper/internal/about"
	"github.com/temper-dev/temper/internal/debian/aptsources"
	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/release"
)

// Enabled reports whether live tests should run.
func Enabled() bool { return os.Getenv("CI") == "true" || os.Getenv("TEMPER_LIVE") == "1" }

// Mirrors returns the machine's Debian mirrors, or skips the test.
func Mirrors(t testing.TB) archive.Mirrors {
	t.Helper()
	if !Enabled() {
		t.Skip("live test: set TEMPER_LIVE=1 (CI sets CI=true) to read the real Debian archive")
	}
	a, s, err := aptsources.Find("/")
	if err != nil {
		t.Fatal(err)
	}
	if s == "" {
		t.Fatal("this machine's apt sources name no Debian security archive")
	}
	return archive.Mirrors{Archive: a, Security: s}
}

// Client returns an archive client for the machine's mirrors with the
// embedded Debian keys and a cache in dir.
func Client(t testing.TB, dir string, offline bool) *archive.Client {
	t.Helper()
	m := Mirrors(t)
	kr, err := release.EmbeddedKeyring()
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	client, err := archive.New(archive.Config{
		Mirrors: m, Cache: c, HTTP: fetch.New(about.UserAgent() + " (test)"), Keyring: kr, Offline: offline,
	})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// CacheDir is a cache directory shared by the benchmarks of one process
// (TEMPER_BENCH_CACHE when set), so that they measure warm runs.
func CacheDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("TEMPER_BENCH_CACHE"); d != "" {
		return d
	}
	d, err := os.MkdirTemp("", "temper-live-cache-")
	if err != nil {
		t.Fatal(err)
	}
	return d
}
