package assemble

import (
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/debtest"
)

// postgresql-common's preinst diverts libpq-dev's pg_config: both
// install, in either package order, as with dpkg. Without the diversion
// the second pg_config is a conflict.
func TestDiversion(t *testing.T) {
	preinst := "#!/bin/sh\nset -e\ncase \"$1\" in\n  install|upgrade)\n" +
		"\tdpkg-divert --package postgresql-common --rename --divert /usr/bin/pg_config.libpq-dev --add /usr/bin/pg_config\n  ;;\nesac\n"
	common := pk{name: "postgresql-common", files: []debtest.File{file("./usr/bin/pg_config", "common wrapper")}, scripts: map[string]string{"preinst": preinst}}
	libpq := pk{name: "libpq-dev", files: []debtest.File{file("./usr/bin/pg_config", "libpq's pg_config")}}
	for _, order := range [][]pk{{common, libpq}, {libpq, common}} {
		tree, _ := assemble(t, nil, order...)
		if got := string(get(t, tree, "usr/bin/pg_config").Data); got != "common wrapper" {
			t.Errorf("order %s first: /usr/bin/pg_config holds %q, want the diverting package's", order[0].name, got)
		}
		if got := string(get(t, tree, "usr/bin/pg_config.libpq-dev").Data); got != "libpq's pg_config" {
			t.Errorf("order %s first: the diverted copy holds %q", order[0].name, got)
		}
	}
	// A diversion the postinst removes again (trixie's /usr-merge dance)
	// is not in place after the install: the files conflict again.
	removing := common
	removing.scripts = map[string]string{"preinst": preinst,
		"postinst": "#!/bin/sh\ndpkg-divert --package postgresql-common --remove --rename --divert /usr/bin/pg_config.libpq-dev /usr/bin/pg_config\n"}
	if err := assembleErr(t, nil, removing, libpq); err == nil || !strings.Contains(err.Error(), "pg_config") {
		t.Errorf("diversion removed by the postinst: err %v, want a conflict on pg_config", err)
	}
	// Without the preinst the two files conflict: the diversion is what
	// makes them install.
	common.scripts = nil
	if err := assembleErr(t, nil, common, libpq); err == nil || !strings.Contains(err.Error(), "pg_config") {
		t.Errorf("without the diversion: err %v, want a conflict on pg_config", err)
	}
}
