package resolve_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/livetest"
	"github.com/temper-dev/temper/internal/resolve"
	"github.com/temper-dev/temper/internal/resolve/apttest"
)

// TestMatchesApt is the proof that temper resolves what apt installs: for
// every root package set in apttest.Roots (runtimes, servers, libraries and
// tools, with alternatives and virtual packages), on bookworm and trixie,
// temper's closure must equal `apt-get -s --no-install-recommends install`
// in a private apt root with an empty dpkg status, package for package and
// version for version. Where apt breaks a tie between providers of a
// virtual package, the choice is named as the definition would name it
// (apttest.Providers), never hidden in the resolver.
func TestMatchesApt(t *testing.T) {
	m := livetest.Mirrors(t)
	for _, release := range []string{"bookworm", "trixie"} {
		t.Run(release, func(t *testing.T) {
			roots := apttest.Roots[release]
			if len(roots) < 30 {
				t.Fatalf("only %d root sets for %s; the proof needs at least 30", len(roots), release)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			env, err := apttest.New(ctx, t.TempDir(), m.Archive, m.Security, release, "amd64")
			if err != nil {
				t.Fatal(err)
			}
			rel, err := livetest.Client(t, t.TempDir(), false).LoadRelease(ctx, release, "amd64")
			if err != nil {
				t.Fatal(err)
			}
			u := resolve.NewUniverse(rel)
			failed := 0
			for _, set := range roots {
				want, err := env.Install(ctx, set...)
				if err != nil {
					t.Errorf("%v: apt itself fails: %v", set, err)
					continue
				}
				res, err := u.Resolve(resolve.Request{Roots: set, Providers: apttest.Providers[release]})
				if err != nil {
					t.Errorf("%v: temper fails where apt installs %d packages: %v", set, len(want), err)
					failed++
					continue
				}
				if diff := compare(want, res); diff != "" {
					t.Errorf("%v: temper and apt differ:\n%s", set, diff)
					failed++
					continue
				}
				t.Logf("%v: %d packages, identical", set, len(want))
			}
			t.Logf("%s: %d of %d root sets identical to apt", release, len(roots)-failed, len(roots))
			for _, set := range apttest.Refused[release] {
				_, err := u.Resolve(resolve.Request{Roots: set, Providers: apttest.Providers[release]})
				var ce *resolve.ConflictError
				if !errors.As(err, &ce) {
					t.Errorf("%v: want a Conflicts error showing both chains, got %v", set, err)
					continue
				}
				t.Logf("%v: refused as documented: %v", set, err)
			}
		})
	}
}

func compare(apt map[string]apttest.Installed, res *resolve.Result) string {
	ours := map[string]string{}
	for _, p := range res.Packages {
		ours[p.Name] = p.Version
	}
	var lines []string
	for name, in := range apt {
		v, ok := ours[name]
		switch {
		case !ok:
			lines = append(lines, fmt.Sprintf("  only apt:    %s %s", name, in.Version))
		case v != in.Version:
			lines = append(lines, fmt.Sprintf("  version:     %s apt %s, temper %s", name, in.Version, v))
		}
	}
	for name, v := range ours {
		if _, ok := apt[name]; !ok {
			lines = append(lines, fmt.Sprintf("  only temper: %s %s", name, v))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
