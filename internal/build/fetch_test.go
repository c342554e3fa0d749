package build_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/lock"
)

// TestFastCopiesServeWarmBuilds: once a build made the .debs' fast copies,
// an offline build is served by the copies alone, the .debs gone from the
// cache, to the same digest (counted as cache hits); a corrupt copy falls
// back to the .deb and is made again; a copy without the recorded .deb
// size falls back too and records it; with neither copy nor .deb the
// offline build fails as it always did; a hand-edited lock size is refused
// even when only the copy is used.
func TestFastCopiesServeWarmBuilds(t *testing.T) {
	f := buildtest.NewFixture(t)
	dir := t.TempDir()
	def := buildtest.WriteDef(t, dir, "tool.yaml", "name: tool\nversion: \"1\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [tool, other]\n")
	outs, err := lock.Run(context.Background(), []string{def}, lock.Options{Client: f.Client(t.TempDir())})
	if err != nil || outs[0].Err != nil {
		t.Fatalf("lock: %v %+v", err, outs)
	}
	pkgs := outs[0].Lock.Architectures["amd64"].Packages
	if len(pkgs) != 3 {
		t.Fatalf("closure %+v, want tool, other and libc6", pkgs)
	}
	ctx := context.Background()
	cacheDir := t.TempDir()
	c, err := cache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	build1 := func(offline bool) (*build.Result, error) {
		t.Helper()
		n++
		fe := f.Fetcher(cacheDir)
		fe.Offline = offline
		return build.Build(ctx, def, build.Options{Fetcher: fe, Output: filepath.Join(dir, "out", string(rune('a'+n)))})
	}
	first, err := build1(false)
	if err != nil {
		t.Fatal(err)
	}
	if first.Fetch.Downloaded != 3 || first.Fetch.Cached != 0 {
		t.Fatalf("first build: stats %+v, want 3 downloaded", first.Fetch)
	}
	debs := map[string][]byte{}
	copies := map[string]string{}
	for _, p := range pkgs {
		b, err := c.Read(p.SHA256)
		if err != nil {
			t.Fatalf("%s: the first build did not cache the .deb: %v", p.Name, err)
		}
		debs[p.SHA256] = b
		sum, err := c.GetRef("deb-zst " + p.SHA256)
		if err != nil || !c.Has(string(sum)) {
			t.Fatalf("%s: no fast copy after the first build: %v", p.Name, err)
		}
		copies[p.SHA256] = string(sum)
	}
	sameDigest := func(what string, r *build.Result) {
		t.Helper()
		if r.IndexDigest != first.IndexDigest || r.Images[0].Digest != first.Images[0].Digest {
			t.Fatalf("%s: digest %s, want %s", what, r.IndexDigest, first.IndexDigest)
		}
	}

	// (a) The copies alone, offline.
	for sha := range debs {
		if err := c.Remove(sha); err != nil {
			t.Fatal(err)
		}
	}
	r, err := build1(true)
	if err != nil {
		t.Fatalf("offline build from the copies alone: %v", err)
	}
	sameDigest("from the copies", r)
	if r.Fetch.Cached != 3 || r.Fetch.Downloaded != 0 {
		t.Errorf("from the copies: stats %+v, want 3 cached", r.Fetch)
	}
	for sha := range debs {
		if c.Has(sha) {
			t.Errorf(".deb %s is back in the cache: it was fetched", sha)
		}
	}

	// (b) Corrupt copies fall back to the .debs, and are made again.
	for sha, b := range debs {
		if err := c.WriteBytes(sha, b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(c.Path(copies[sha]), []byte("corrupt"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err = build1(true)
	if err != nil {
		t.Fatalf("offline build with corrupt copies: %v", err)
	}
	sameDigest("corrupt copies", r)
	if r.Fetch.Cached != 3 || r.Fetch.Downloaded != 0 {
		t.Errorf("corrupt copies: stats %+v, want 3 cached", r.Fetch)
	}
	for sha, sum := range copies {
		if got, err := c.Read(sum); err != nil || len(got) == len("corrupt") {
			t.Errorf("copy of %s not made again: %v", sha, err)
		}
	}

	// A copy whose .deb's size was never recorded (a cache from before
	// the size was) is not used alone: the .deb is read, and the size
	// recorded for the next build.
	tool := pkgs[0]
	for _, p := range pkgs {
		if p.Name == "tool" {
			tool = p
		}
	}
	sizeRef := refPath(cacheDir, "deb-size "+tool.SHA256)
	if err := os.Remove(sizeRef); err != nil {
		t.Fatalf("no size recorded for tool's .deb: %v", err)
	}
	if err := c.Remove(tool.SHA256); err != nil {
		t.Fatal(err)
	}
	_, err = build1(true)
	if err == nil || !strings.Contains(err.Error(), "tool 1.0 (sha256 "+tool.SHA256+"): not in the cache for offline use; run once with network access") {
		t.Fatalf("copy without its .deb's size, .deb gone, offline: %v", err)
	}
	if err := c.WriteBytes(tool.SHA256, debs[tool.SHA256]); err != nil {
		t.Fatal(err)
	}
	r, err = build1(true)
	if err != nil {
		t.Fatal(err)
	}
	sameDigest("size recorded again", r)
	if got, err := os.ReadFile(sizeRef); err != nil || !strings.HasSuffix(string(got), "\n"+strconv.Itoa(len(debs[tool.SHA256]))) {
		t.Fatalf("size not recorded again: %q %v", got, err)
	}

	// (c) Neither copy nor .deb: today's offline error.
	if err := c.Remove(tool.SHA256); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(copies[tool.SHA256]); err != nil {
		t.Fatal(err)
	}
	_, err = build1(true)
	if err == nil || !strings.Contains(err.Error(), "tool 1.0 (sha256 "+tool.SHA256+"): not in the cache for offline use; run once with network access") {
		t.Fatalf("neither copy nor .deb, offline: %v", err)
	}
	// Online, it is downloaded again (only it), and the copy made again.
	r, err = build1(false)
	if err != nil {
		t.Fatal(err)
	}
	sameDigest("downloaded again", r)
	if r.Fetch.Downloaded != 1 || r.Fetch.Cached != 2 {
		t.Errorf("downloaded again: stats %+v, want 1 downloaded, 2 cached", r.Fetch)
	}
	if !c.Has(copies[tool.SHA256]) {
		t.Error("the copy was not made again")
	}

	// A hand-edited size is refused though only the copy is read, and a
	// size past the per-.deb limit before anything is read.
	if err := c.Remove(tool.SHA256); err != nil {
		t.Fatal(err)
	}
	lockFile := filepath.Join(dir, "tool.lock.yaml")
	text, err := os.ReadFile(lockFile)
	if err != nil {
		t.Fatal(err)
	}
	setSize := func(size string) {
		t.Helper()
		re := regexp.MustCompile(`(sha256: ` + tool.SHA256 + `\n\s+size: )\d+`)
		edited := re.ReplaceAll(text, []byte("${1}"+size))
		if string(edited) == string(text) {
			t.Fatalf("tool's size not found in the lock:\n%s", text)
		}
		if err := os.WriteFile(lockFile, edited, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setSize(strconv.Itoa(len(debs[tool.SHA256]) + 1))
	_, err = build1(true)
	if err == nil || !strings.Contains(err.Error(), "the lock was edited by hand") || !strings.Contains(err.Error(), tool.SHA256) {
		t.Fatalf("hand-edited size: %v", err)
	}
	setSize("99999999999999")
	_, err = build1(true)
	if err == nil || !strings.Contains(err.Error(), "per-.deb limit") {
		t.Fatalf("size past the limit: %v", err)
	}
}

func refPath(cacheDir, name string) string {
	h := sha256.Sum256([]byte(name))
	return filepath.Join(cacheDir, "refs", hex.EncodeToString(h[:]))
}
