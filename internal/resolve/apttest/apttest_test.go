package apttest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/aptsources"
)

func TestParseSimulation(t *testing.T) {
	out := []byte(`Reading package lists...
Inst gcc-12-base (12.2.0-14+deb12u1 Debian:12.15/oldstable [amd64])
Inst libgcc-s1 (12.2.0-14+deb12u1 Debian:12.15/oldstable [amd64]) []
Inst libkrb5-3 (1.20.1-2+deb12u5 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
Inst media-types (10.0.0 Debian:12.15/oldstable [all])
Inst foo [1.0] (2.0 Debian:12.15/oldstable [amd64])
Conf gcc-12-base (12.2.0-14+deb12u1 Debian:12.15/oldstable [amd64])
`)
	got, err := ParseSimulation(out)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Installed{
		"gcc-12-base": {"gcc-12-base", "12.2.0-14+deb12u1", "amd64", "Debian:12.15/oldstable"},
		"libgcc-s1":   {"libgcc-s1", "12.2.0-14+deb12u1", "amd64", "Debian:12.15/oldstable"},
		"libkrb5-3":   {"libkrb5-3", "1.20.1-2+deb12u5", "amd64", "Debian:12.15/oldstable, Debian-Security:12/oldstable-security"},
		"media-types": {"media-types", "10.0.0", "all", "Debian:12.15/oldstable"},
		"foo":         {"foo", "2.0", "amd64", "Debian:12.15/oldstable"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d packages, want %d: %v", len(got), len(want), got)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %+v, want %+v", k, got[k], w)
		}
	}
	if _, err := ParseSimulation([]byte("Inst broken\n")); err == nil {
		t.Error("malformed Inst line: no error")
	}
}

func TestConfIsolates(t *testing.T) {
	e := &Env{Dir: "/x/y", Release: "bookworm", Arch: "amd64"}
	c := e.conf()
	for _, s := range []string{
		`Dir::Etc::Parts "/x/y/etc/apt.conf.d/";`, `Dir::State::status "/x/y/state/status";`,
		`Dir::Etc::SourceParts "/x/y/etc/sources.list.d/";`, `APT::Architectures { "amd64"; };`,
		`APT::Install-Recommends "false";`, `Debug::NoLocking "1";`,
	} {
		if !strings.Contains(c, s) {
			t.Errorf("apt.conf lacks %s:\n%s", s, c)
		}
	}
}

// TestAptResolves builds a private apt root for bookworm and trixie (amd64)
// from this machine's mirror and simulates every entry of Roots. It needs
// the network and apt-get; skipped unless TEMPER_LIVE=1 or CI=true.
func TestAptResolves(t *testing.T) {
	if os.Getenv("CI") != "true" && os.Getenv("TEMPER_LIVE") != "1" {
		t.Skip("live test: set TEMPER_LIVE=1 (CI sets CI=true) to run apt-get against the real archive")
	}
	archive, security, err := aptsources.Find("/")
	if err != nil {
		t.Fatal(err)
	}
	if security == "" {
		t.Fatal("this machine's apt sources name no security archive")
	}
	for _, rel := range []string{"bookworm", "trixie"} {
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			start := time.Now()
			e, err := New(ctx, t.TempDir(), archive, security, rel, "amd64")
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("apt-get update: %v", time.Since(start).Round(time.Millisecond))
			var total time.Duration
			seen := map[string]bool{}
			for _, pkgs := range Roots[rel] {
				start := time.Now()
				got, err := e.Install(ctx, pkgs...)
				d := time.Since(start)
				total += d
				if err != nil {
					t.Errorf("%v: %v", pkgs, err)
					continue
				}
				if len(got) == 0 {
					t.Errorf("%v: apt installs nothing", pkgs)
				}
				for _, p := range pkgs {
					if _, ok := got[p]; !ok && p != "libgcc1" { // libgcc1 is virtual: apt installs libgcc-s1
						t.Errorf("%v: root %s not in apt's result", pkgs, p)
					}
				}
				for n := range got {
					seen[n] = true
				}
				t.Logf("%-50s %3d packages  %v", strings.Join(pkgs, " "), len(got), d.Round(time.Millisecond))
			}
			for v, p := range Providers[rel] {
				if !seen[p] {
					t.Errorf("Providers[%s][%s] = %s, but no entry installs %s", rel, v, p, p)
				}
			}
			if n := len(Roots[rel]); n > 0 {
				t.Logf("%d entries, mean Install %v", n, (total / time.Duration(n)).Round(time.Millisecond))
			}
			if _, err := e.Install(ctx, "awk"); err == nil || !strings.Contains(err.Error(), "virtual package") {
				t.Errorf("install awk (virtual, several providers): want apt's virtual-package error, got %v", err)
			}
		})
	}
}
