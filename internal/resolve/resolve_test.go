package resolve_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/temper-dev/temper/internal/debian/release/releasetest"
	"github.com/temper-dev/temper/internal/debian/testarchive"
	"github.com/temper-dev/temper/internal/resolve"
)

type pkg = testarchive.Package

func p(name, ver string, fields ...string) pkg {
	f := map[string]string{}
	for i := 0; i+1 < len(fields); i += 2 {
		f[fields[i]] = fields[i+1]
	}
	return pkg{Name: name, Version: ver, Arch: "amd64", Fields: f}
}

var (
	keyOnce sync.Once
	key     *openpgp.Entity
)

// universe serves a fixture bookworm with the given packages in the
// release suite (and sec in -security) and loads it for amd64.
func universe(t *testing.T, main []pkg, sec ...pkg) *resolve.Universe {
	t.Helper()
	keyOnce.Do(func() { key = releasetest.NewKeyAt(t, "resolve fixture", "ed25519", testarchive.KeyCreation, 0) })
	a := &testarchive.Archive{Signers: []*openpgp.Entity{key}, Suites: []testarchive.Suite{
		{Name: "bookworm", Architectures: []string{"amd64"}, Packages: main},
		{Name: "bookworm-updates", Architectures: []string{"amd64"}},
		{Name: "bookworm-security", Archive: "debian-security", Architectures: []string{"amd64"}, Packages: sec},
	}}
	srv := testarchive.Serve(t, a.Files(t))
	cl := srv.Client(t, t.TempDir(), key)
	rel, err := cl.LoadRelease(context.Background(), "bookworm", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	return resolve.NewUniverse(rel)
}

func names(r *resolve.Result) string {
	if r == nil {
		return "<nil>"
	}
	var out []string
	for _, p := range r.Packages {
		out = append(out, p.Name+"="+p.Version)
	}
	return strings.Join(out, " ")
}

func TestResolve(t *testing.T) {
	u := universe(t, []pkg{
		p("app", "1.0", "Pre-Depends", "libc6 (>= 2.36)", "Depends", "awk | mawk, libssl3 (>= 3.0.2), mta, python3:any, zlib1g [amd64], libwin [i386]", "Recommends", "docs"),
		p("libc6", "2.36-9", "Depends", "libgcc-s1"),
		p("libgcc-s1", "12.2.0-14", "Depends", "libc6 (>= 2.35)"),
		p("mawk", "1.3.4", "Provides", "awk"),
		p("gawk", "1:5.2.1-2", "Provides", "awk"),
		p("libssl3", "3.0.11-1~deb12u1"),
		p("exim4", "4.96", "Provides", "mta, mail-transport-agent"),
		p("python3", "3.11.2-1", "Multi-Arch", "allowed"),
		p("zlib1g", "1:1.2.13"),
		p("libwin", "1.0"),
		p("docs", "1.0"),
		p("unused", "1.0", "Essential", "yes"),
	}, p("libssl3", "3.0.15-1~deb12u1"))

	res, err := u.Resolve(resolve.Request{Roots: []string{"app"}, Providers: map[string]string{"awk": "mawk"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "app=1.0 exim4=4.96 libc6=2.36-9 libgcc-s1=12.2.0-14 libssl3=3.0.15-1~deb12u1 mawk=1.3.4 python3=3.11.2-1 zlib1g=1:1.2.13"
	if got := names(res); got != want {
		t.Errorf("closure\n got %s\nwant %s", got, want)
	}
	if got := strings.Join(res.RequiredBy["libc6"], " "); got != "app libgcc-s1" {
		t.Errorf("libc6 required by %q", got)
	}
	if got := strings.Join(res.RequiredBy["app"], " "); got != resolve.RootReason {
		t.Errorf("app required by %q", got)
	}
	for _, p := range res.Packages {
		if p.Name == "libssl3" && p.Suite != "bookworm-security" {
			t.Errorf("libssl3 from %s", p.Suite)
		}
	}
	// Recommends on request.
	res, err = u.Resolve(resolve.Request{Roots: []string{"app"}, Recommends: true, Providers: map[string]string{"awk": "mawk"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(names(res), "docs=1.0") {
		t.Errorf("recommends not installed: %s", names(res))
	}
}

func TestAlternatives(t *testing.T) {
	u := universe(t, []pkg{
		p("a", "1", "Depends", "b | d"),
		p("b", "1"),
		p("c", "1", "Depends", "d | b"),
		p("d", "1"),
		p("e", "1", "Depends", "missing | d (>= 2) | b"),
		p("f", "1", "Depends", "broken | d"),
		p("broken", "1", "Depends", "nowhere"),
	})
	for _, tc := range []struct {
		roots []string
		want  string
	}{
		{[]string{"a", "c"}, "a=1 b=1 c=1"},      // c's "d | b" is satisfied by b, already chosen for a
		{[]string{"c", "a"}, "a=1 c=1 d=1"},      // and the other way round
		{[]string{"a", "d", "c"}, "a=1 c=1 d=1"}, // roots are marked first: d, a root, satisfies a's "b | d"
		{[]string{"e"}, "b=1 e=1"},               // first satisfiable alternative
		{[]string{"f"}, "d=1 f=1"},               // an alternative whose own dependencies fail is skipped
	} {
		res, err := u.Resolve(resolve.Request{Roots: tc.roots})
		if err != nil {
			t.Fatalf("%v: %v", tc.roots, err)
		}
		if got := names(res); got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.roots, got, tc.want)
		}
	}
}

func TestVirtualPackages(t *testing.T) {
	u := universe(t, []pkg{
		p("app", "1", "Depends", "mta"),
		p("exim4", "4.96", "Provides", "mta"),
		p("postfix", "3.7", "Provides", "mta"),
		p("web", "1", "Depends", "httpd (>= 2)"),
		p("nginx", "1.22", "Provides", "httpd (= 2.0)"),
		p("lighttpd", "1.4", "Provides", "httpd"),
		p("one", "1", "Depends", "single"),
		p("only", "1", "Provides", "single"),
		p("both", "1", "Depends", "postfix, mta"),
	})
	_, err := u.Resolve(resolve.Request{Roots: []string{"app"}})
	var ve *resolve.VirtualError
	if !errors.As(err, &ve) || strings.Join(ve.Providers, " ") != "exim4 postfix" || ve.Chain != "app" || !strings.Contains(err.Error(), "providers:") {
		t.Fatalf("err = %v, want a virtual-package error listing exim4 and postfix", err)
	}
	res, err := u.Resolve(resolve.Request{Roots: []string{"app"}, Providers: map[string]string{"mta": "postfix"}})
	if err != nil || names(res) != "app=1 postfix=3.7" {
		t.Fatalf("named provider: %v %v", names(res), err)
	}
	if _, err := u.Resolve(resolve.Request{Roots: []string{"app"}, Providers: map[string]string{"mta": "nginx"}}); err == nil {
		t.Error("a named provider that does not provide the name was accepted")
	}
	// Versioned dependency: only the versioned Provides satisfies it.
	if res, err := u.Resolve(resolve.Request{Roots: []string{"web"}}); err != nil || names(res) != "nginx=1.22 web=1" {
		t.Errorf("versioned provides: %v %v", names(res), err)
	}
	if res, err := u.Resolve(resolve.Request{Roots: []string{"one"}}); err != nil || names(res) != "one=1 only=1" {
		t.Errorf("single provider: %v %v", names(res), err)
	}
	// A provider already in the closure satisfies the virtual: no choice needed.
	if res, err := u.Resolve(resolve.Request{Roots: []string{"both"}}); err != nil || names(res) != "both=1 postfix=3.7" {
		t.Errorf("provider already chosen: %v %v", names(res), err)
	}
	// A virtual root with one provider selects it, as apt-get does.
	if res, err := u.Resolve(resolve.Request{Roots: []string{"single"}}); err != nil || names(res) != "only=1" {
		t.Errorf("virtual root: %v %v", names(res), err)
	}
}

func TestMultiArchAny(t *testing.T) {
	u := universe(t, []pkg{
		p("tool", "1", "Depends", "perl:any"),
		p("perl", "5.36", "Multi-Arch", "allowed"),
		p("bad", "1", "Depends", "plain:any"),
		p("plain", "1"),
	})
	if res, err := u.Resolve(resolve.Request{Roots: []string{"tool"}}); err != nil || names(res) != "perl=5.36 tool=1" {
		t.Errorf(":any on M-A allowed: %v %v", names(res), err)
	}
	_, err := u.Resolve(resolve.Request{Roots: []string{"bad"}})
	if err == nil || !strings.Contains(err.Error(), "Multi-Arch") {
		t.Errorf(":any on M-A none: %v", err)
	}
}

func TestErrors(t *testing.T) {
	u := universe(t, []pkg{
		p("python3", "3.11", "Depends", "python3.11"),
		p("python3.11", "3.11.2", "Depends", "libpython3.11 (>= 3.11.4)"),
		p("libpython3.11", "3.11.2"),
		p("server", "1", "Depends", "liba, libb"),
		p("liba", "1", "Depends", "libcommon"),
		p("libb", "1", "Depends", "libother"),
		p("libcommon", "1"),
		p("libother", "1", "Conflicts", "libcommon"),
		p("breaker", "1", "Depends", "libcommon", "Breaks", "libcommon (<< 2)"),
		p("selfish", "1", "Provides", "thing", "Conflicts", "thing"),
	})
	_, err := u.Resolve(resolve.Request{Roots: []string{"pyhton3"}})
	if err == nil || !strings.Contains(err.Error(), "did you mean: python3") || !strings.Contains(err.Error(), "bookworm") {
		t.Errorf("unknown root: %v", err)
	}
	_, err = u.Resolve(resolve.Request{Roots: []string{"python3"}})
	var ue *resolve.UnsatisfiableError
	if !errors.As(err, &ue) || ue.Chain != "python3 → python3.11" || ue.Dependency != "libpython3.11 (>= 3.11.4)" || !strings.Contains(err.Error(), "libpython3.11's candidate is 3.11.2") {
		t.Errorf("unsatisfiable: %v", err)
	}
	_, err = u.Resolve(resolve.Request{Roots: []string{"server"}})
	var ce *resolve.ConflictError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "server → libb → libother") || !strings.Contains(err.Error(), "server → liba → libcommon") {
		t.Errorf("conflict: %v", err)
	}
	_, err = u.Resolve(resolve.Request{Roots: []string{"breaker"}})
	if !errors.As(err, &ce) || ce.Kind != "Breaks" {
		t.Errorf("breaks: %v", err)
	}
	// A package may conflict with a virtual name it provides itself.
	if _, err := u.Resolve(resolve.Request{Roots: []string{"selfish"}}); err != nil {
		t.Errorf("self-conflict via Provides: %v", err)
	}
	_, err = u.Resolve(resolve.Request{Roots: []string{"server"}, Exclude: []string{"libcommon"}})
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "excluded") {
		t.Errorf("exclude: %v", err)
	}
}

func TestNoDependencies(t *testing.T) {
	u := universe(t, []pkg{
		p("ca-certificates", "20230311", "Depends", "openssl, debconf (>= 0.5) | debconf-2.0"),
		p("openssl", "3.0.11", "Depends", "libc6"),
		p("libc6", "2.36-9"),
		p("tzdata", "2025b", "Depends", "debconf"),
		p("debconf", "1.5.82"),
	})
	res, err := u.Resolve(resolve.Request{Roots: []string{"ca-certificates", "tzdata"}, NoDependencies: []string{"ca-certificates", "tzdata"}})
	if err != nil || names(res) != "ca-certificates=20230311 tzdata=2025b" {
		t.Errorf("data-only roots: %v %v", names(res), err)
	}
	// Only the named root skips its dependencies.
	res, err = u.Resolve(resolve.Request{Roots: []string{"ca-certificates", "tzdata"}, NoDependencies: []string{"ca-certificates"}})
	if err != nil || names(res) != "ca-certificates=20230311 debconf=1.5.82 tzdata=2025b" {
		t.Errorf("one data-only root: %v %v", names(res), err)
	}
}

func TestPinnedRoot(t *testing.T) {
	u := universe(t, []pkg{p("libssl3", "3.0.11-1~deb12u1")}, p("libssl3", "3.0.15-1~deb12u1"))
	res, err := u.Resolve(resolve.Request{Roots: []string{"libssl3=3.0.11-1~deb12u1"}})
	if err != nil || names(res) != "libssl3=3.0.11-1~deb12u1" {
		t.Errorf("pinned: %v %v", names(res), err)
	}
	_, err = u.Resolve(resolve.Request{Roots: []string{"libssl3=9"}})
	if err == nil || !strings.Contains(err.Error(), "3.0.15-1~deb12u1 (bookworm-security)") {
		t.Errorf("missing pin: %v", err)
	}
}
