package assemble

import (
	"slices"
	"testing"

	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// TestConffiles: the conffiles postinsts install with ucf are in the image
// with the pristine file's content, a file a package ships is kept, and
// image.files has the last word.
func TestConffiles(t *testing.T) {
	prod := "; production\ndisplay_errors = Off\n"
	common := pk{name: "php8.2-common", files: []debtest.File{
		file("./usr/lib/php/php-maintscript-helper", "helper"),
		file("./usr/share/php8.2-common/common/ctype.ini", "extension=ctype.so\n"),
		file("./usr/share/php8.2-common/common/posix.ini", "extension=posix.so\n"),
		// Shipped by the package: ucf must not replace it.
		file("./etc/php/8.2/mods-available/posix.ini", "; local\n"),
	}, scripts: map[string]string{"postinst": postinst(t, "php8.2-common")}}
	cli := pk{name: "php8.2-cli", files: []debtest.File{
		{Path: "./usr/bin/php8.2", Data: []byte("php"), Mode: 0o755},
		file("./usr/lib/php/8.2/php.ini-production.cli", prod),
	}, scripts: map[string]string{"postinst": postinst(t, "php8.2-cli")}}

	tree, rep := assemble(t, nil, common, cli)
	ini := get(t, tree, "etc/php/8.2/cli/php.ini")
	if ini.Kind != rootfs.File || string(ini.Data) != prod || ini.Mode.Perm() != 0o644 || ini.UID != 0 {
		t.Errorf("php.ini = %s %v uid %d %q", ini.Kind, ini.Mode, ini.UID, ini.Data)
	}
	if e := get(t, tree, "etc/php/8.2/mods-available/ctype.ini"); string(e.Data) != "extension=ctype.so\n" {
		t.Errorf("ctype.ini = %q", e.Data)
	}
	if e := get(t, tree, "etc/php/8.2/mods-available/posix.ini"); string(e.Data) != "; local\n" {
		t.Errorf("the shipped posix.ini was replaced: %q", e.Data)
	}
	for _, want := range []string{
		"etc/php/8.2/cli/php.ini from /usr/lib/php/8.2/php.ini-production.cli (php8.2-cli)",
		"etc/php/8.2/mods-available/ctype.ini from /usr/share/php8.2-common/common/ctype.ini (php8.2-common)",
	} {
		if !slices.Contains(rep.Conffiles, want) {
			t.Errorf("Conffiles lacks %q: %q", want, rep.Conffiles)
		}
	}
	if len(rep.Conffiles) != 2 {
		t.Errorf("Conffiles = %q, want 2", rep.Conffiles)
	}

	d := def()
	d.Image.Files = []spec.File{{Path: "/etc/php/8.2/cli/php.ini", Content: "memory_limit = 64M\n"}}
	tree, _ = assemble(t, d, common, cli)
	if e := get(t, tree, "etc/php/8.2/cli/php.ini"); string(e.Data) != "memory_limit = 64M\n" {
		t.Errorf("image.files did not replace php.ini: %q", e.Data)
	}
}
