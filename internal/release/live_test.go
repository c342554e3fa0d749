package release_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/build/buildtest"
	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/store/storetest"
	"github.com/temper-dev/temper/internal/vuln/vulntest"
)

// live drives the temper binary against a real registry.
type live struct {
	t        *testing.T
	ctx      context.Context
	bin, dir string
	prefix   string
	state    string // --state: a SQLite file or a postgres:// URL
	common   []string
	env      []string
	noEngine bool
}

// run runs temper; release commands get the state file and the registry,
// those that run tests --no-engine when there is no engine.
func (l *live) run(args ...string) (string, error) {
	all := append(append([]string{}, args...), l.common...)
	switch args[0] {
	case "publish", "snapshot", "fast-track":
		if l.noEngine {
			all = append(all, "--no-engine")
		}
		fallthrough
	case "promote", "rollback", "status", "history":
		all = append(all, "--state", l.state, "--registry", l.prefix)
	}
	cmd := exec.CommandContext(l.ctx, l.bin, all...)
	cmd.Dir, cmd.Env = l.dir, append(os.Environ(), l.env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (l *live) must(args ...string) string {
	l.t.Helper()
	start := time.Now()
	out, err := l.run(args...)
	if err != nil {
		l.t.Fatalf("temper %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	l.t.Logf("temper %s (%s):\n%s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), out)
	return out
}

// checkTags reads every channel tag of the record back from the registry
// with go-containerregistry: each names the recorded digest.
func (l *live) checkTags(step string) []release.StreamStatus {
	l.t.Helper()
	var rows []release.StreamStatus
	if err := json.Unmarshal([]byte(l.must("status", "--json")), &rows); err != nil {
		l.t.Fatalf("%s: status --json: %v", step, err)
	}
	for _, r := range rows {
		repo, _, _ := release.SplitStream(r.Stream)
		for _, c := range r.Channels {
			for _, tag := range []string{c.Tag, c.Release} {
				ref, err := name.ParseReference(l.prefix + "/" + repo + ":" + tag)
				if err != nil {
					l.t.Fatal(err)
				}
				d, err := remote.Head(ref, remote.WithContext(l.ctx))
				if err != nil || d.Digest.String() != c.Digest {
					l.t.Fatalf("%s: %s names %v (%v), the record says %s", step, ref, d, err, c.Digest)
				}
			}
		}
	}
	return rows
}

func channelDigest(rows []release.StreamStatus, stream, channel string) (tag, digest string) {
	for _, r := range rows {
		for _, c := range r.Channels {
			if r.Stream == stream && c.Channel == channel {
				return c.Release, c.Digest
			}
		}
	}
	return "", ""
}

// TestLivePublishPromote is the proof against Debian's docker-registry
// (CI=true or TEMPER_LIVE=1): publish base and static, publish a changed
// base, promote with soak 0, snapshot, fast-track a KEV fix, roll back;
// after each step the registry's tags name the recorded digests; cosign
// verify-attestation and temper verify --channel check the signed
// promotion chain. It runs once per store back end (storetest.Each):
// on SQLite always, on a fresh PostgreSQL database when
// TEMPER_TEST_POSTGRES is set.
func TestLivePublishPromote(t *testing.T) {
	livetest.Mirrors(t)
	buildtest.Need(t, "docker-registry", "cosign")
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		// The temper binary opens the store itself.
		b.Store.Close()
		t.Logf("store: %s", b.Name)
		livePublishPromote(t, b.State)

		// What temper recorded is in this back end.
		s, err := store.Open(context.Background(), b.State)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		streams, err := s.Streams(context.Background())
		if err != nil || len(streams) != 2 {
			t.Fatalf("%s store after the run: %d streams (%v), want 2", b.Name, len(streams), err)
		}
		rels, err := s.Releases(context.Background(), "base:12-bookworm")
		if err != nil || len(rels) != 2 {
			t.Fatalf("%s store after the run: %d releases of base (%v), want 2", b.Name, len(rels), err)
		}
	})
}

func livePublishPromote(t *testing.T, state string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	l := setupLive(t, ctx, state)
	const base = "base:12-bookworm"
	baseLock := filepath.Join(l.dir, "catalog/base/12-bookworm.lock.yaml")

	// No vulnerability data: the gate says so and nothing is pushed.
	out, err := l.run("publish", "catalog", "--sign-key", "cosign.key")
	if err == nil || !strings.Contains(out, "no data") {
		t.Fatalf("publish without vulnerability data: %v\n%s", err, out)
	}
	if ref, _ := name.ParseReference(l.prefix + "/base:12-bookworm-testing"); ref != nil {
		if _, err := remote.Head(ref); err == nil {
			t.Fatal("a refused publish pushed a tag")
		}
	}

	// Data naming base's real sources: one fixable (low: the policy lets
	// it through), and in KEV.
	l.vulnData(baseLock, false)
	l.must("publish", "catalog", "--sign-key", "cosign.key")
	if out := l.must("publish", "catalog"); strings.Count(out, "already released") != 2 {
		t.Fatalf("publishing the same builds again:\n%s", out)
	}
	l.checkTags("publish")
	l.must("promote", "catalog", "--to", "staging", "--sign-key", "cosign.key")
	l.checkTags("promote to staging")
	l.must("snapshot", "--sign-key", "cosign.key")
	l.must("promote", "catalog", "--to", "production", "--sign-key", "cosign.key")
	rows := l.checkTags("promote to production")
	first, firstDigest := channelDigest(rows, base, "production")

	// A new release of base: its definition changes (an env variable),
	// and the tracker now says the fixable CVE is fixed in what is locked.
	def := filepath.Join(l.dir, "catalog/base/12-bookworm.yaml")
	data, _ := os.ReadFile(def)
	os.WriteFile(def, bytes.Replace(data, []byte("    TZ: UTC\n"), []byte("    TZ: UTC\n    RELEASE_TEST: \"2\"\n"), 1), 0o644)
	l.must("lock", "catalog/base/12-bookworm.yaml")
	l.vulnData(baseLock, true)
	l.must("publish", "catalog", "--sign-key", "cosign.key")
	rows = l.checkTags("second publish")
	second, _ := channelDigest(rows, base, "testing")
	if second == first {
		t.Fatalf("the changed definition made no new release (%s)", second)
	}
	hist := l.must("history", base)
	if !strings.Contains(hist, vulntest.FixableID) {
		t.Errorf("history does not list %s as fixed by %s:\n%s", vulntest.FixableID, second, hist)
	}

	// Fast track: the KEV fix goes through every channel at once.
	out = l.must("fast-track", "--sign-key", "cosign.key")
	if !strings.Contains(out, second+" → production") {
		t.Fatalf("fast track did not move %s to production:\n%s", second, out)
	}
	rows = l.checkTags("fast track")
	if got, _ := channelDigest(rows, base, "production"); got != second {
		t.Fatalf("production holds %s after the fast track, want %s", got, second)
	}

	// The promotion chain, verified by cosign and by temper.
	prod := l.prefix + "/base:12-bookworm"
	insecure := []string{"--insecure-ignore-tlog", "--allow-http-registry", "--allow-insecure-registry"}
	cosign := exec.CommandContext(ctx, "cosign", append([]string{"verify-attestation", "--key", "cosign.pub", "--type", release.PromotionPredicate, prod}, insecure...)...)
	cosign.Dir = l.dir
	cout, err := cosign.CombinedOutput()
	if err != nil || !strings.Contains(string(cout), `"payloadType":"application/vnd.in-toto+json"`) {
		t.Fatalf("cosign verify-attestation --type %s: %v\n%.2000s", release.PromotionPredicate, err, cout)
	}
	t.Logf("cosign verify-attestation --type %s %s: ok (%d bytes)", release.PromotionPredicate, prod, len(cout))
	l.must("verify", prod, "--key", "cosign.pub", "--channel", "production")
	_, otherPub, _ := attest.GenerateKeyPair([]byte("other"))
	os.WriteFile(filepath.Join(l.dir, "other.pub"), otherPub, 0o644)
	if out, err := l.run("verify", prod, "--key", "other.pub", "--channel", "production"); err == nil {
		t.Errorf("temper verify --channel accepted another key:\n%s", out)
	}

	// Roll production back: the first release again.
	l.must("rollback", base, "--channel", "production", "--reason", "live test", "--sign-key", "cosign.key")
	rows = l.checkTags("rollback")
	if got, d := channelDigest(rows, base, "production"); got != first || d != firstDigest {
		t.Fatalf("production after rollback: %s %s, want %s %s", got, d, first, firstDigest)
	}
	t.Logf("\n%s", l.must("status"))
}

// setupLive builds the temper binary, copies base and static into a
// catalog with a temper.yaml (soak 0 everywhere), makes a key and starts
// the registry; the release commands use the store at state.
func setupLive(t *testing.T, ctx context.Context, state string) *live {
	dir := t.TempDir()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(dir, "temper")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, filepath.Join(root, "cmd", "temper")).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, img := range []string{"base", "static"} {
		os.MkdirAll(filepath.Join(dir, "catalog", img), 0o755)
		for _, f := range []string{"12-bookworm.yaml", "12-bookworm.lock.yaml"} {
			data, err := os.ReadFile(filepath.Join(root, "examples", "catalog", img, f))
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "catalog", img, f), data, 0o644)
		}
	}
	os.WriteFile(filepath.Join(dir, "temper.yaml"), []byte(`channels:
  - {name: testing}
  - {name: staging}
  - {name: production, full_tests: true}
policy:
  kev: false
`), 0o644)
	priv, pub, err := attest.GenerateKeyPair([]byte("live-test"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "cosign.key"), priv, 0o600)
	os.WriteFile(filepath.Join(dir, "cosign.pub"), pub, 0o644)
	reg := buildtest.StartRegistry(t)
	l := &live{t: t, ctx: ctx, bin: bin, dir: dir, prefix: reg + "/temper", state: state,
		common: []string{"--cache", livetest.CacheDir(t)},
		env:    []string{"TEMPER_PASSWORD=live-test", "COSIGN_PASSWORD=live-test", "XDG_DATA_HOME=" + filepath.Join(dir, "data")},
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Log("podman is not installed: structure tests only (--no-engine)")
		l.noEngine = true
	}
	return l
}

// vulnData writes a tracker naming the lock's real sources (the fixable
// entry fixed in what is locked when fixed is true) and a KEV catalog
// listing the fixable CVE, and loads them with temper vuln update.
func (l *live) vulnData(lockPath string, fixed bool) {
	l.t.Helper()
	lk, err := spec.LoadLock(lockPath)
	if err != nil {
		l.t.Fatal(err)
	}
	tracker, _ := vulntest.Tracker(lk)
	if fixed {
		tracker = bytes.ReplaceAll(tracker, []byte("+temper1"), nil)
	}
	kev := fmt.Sprintf(`{"catalogVersion": "test", "dateReleased": "2026-01-01T00:00:00Z", "count": 1,
  "vulnerabilities": [{"cveID": %q, "dateAdded": "2026-01-01", "dueDate": "2026-01-22", "knownRansomwareCampaignUse": "Unknown"}]}`, vulntest.FixableID)
	os.WriteFile(filepath.Join(l.dir, "tracker.json"), tracker, 0o644)
	os.WriteFile(filepath.Join(l.dir, "kev.json"), []byte(kev), 0o644)
	l.must("vuln", "update", "--tracker", "tracker.json", "--kev", "kev.json")
}
