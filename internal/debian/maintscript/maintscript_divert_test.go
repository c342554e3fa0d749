package maintscript_test

import (
	"reflect"
	"testing"

	"github.com/temper-dev/temper/internal/debian/maintscript"
)

// postgresql-common's preinst, as bookworm ships it (abridged).
const pgCommonPreinst = `#!/bin/sh
set -e
case "$1" in
    install|upgrade)
	dpkg-divert --package postgresql-common --rename --divert /usr/bin/pg_config.libpq-dev --add /usr/bin/pg_config
        ;;
    abort-upgrade)
        ;;
    *)
        echo "$0 called with unknown argument \` + "`" + `$1'" 1>&2
        exit 1
        ;;
esac
`

func TestDiversions(t *testing.T) {
	env := func(args ...string) maintscript.Env {
		return maintscript.Env{Args: args, Vars: map[string]string{"DPKG_MAINTSCRIPT_PACKAGE": "self"}}
	}
	for _, tc := range []struct {
		name, script string
		args         []string
		want         []maintscript.Diversion
	}{
		{"postgresql-common on install", pgCommonPreinst, []string{"install"},
			[]maintscript.Diversion{{Path: "/usr/bin/pg_config", To: "/usr/bin/pg_config.libpq-dev", Package: "postgresql-common"}}},
		{"not on abort-upgrade", pgCommonPreinst, []string{"abort-upgrade"}, nil},
		{"defaults: .distrib and the script's package", "dpkg-divert /usr/bin/x\n", []string{"install"},
			[]maintscript.Diversion{{Path: "/usr/bin/x", To: "/usr/bin/x.distrib", Package: "self"}}},
		{"--local diverts every package", "dpkg-divert --local --divert /a.real --add /a\n", []string{"install"},
			[]maintscript.Diversion{{Path: "/a", To: "/a.real", Package: ""}}},
		{"removals are recorded, queries are not", "dpkg-divert --package base-files --remove --no-rename --divert /.lib64.usr-is-merged /lib64\ndpkg-divert --list\ndpkg-divert --truename /a\n", []string{"install"},
			[]maintscript.Diversion{{Path: "/lib64", To: "/.lib64.usr-is-merged", Package: "base-files", Remove: true}}},
		{"unknown values are skipped", "dpkg-divert --divert \"$(mktemp)\" /a\n", []string{"install"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := maintscript.Evaluate(tc.script, env(tc.args...)).Diversions
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("diversions %+v, want %+v", got, tc.want)
			}
		})
	}
}
