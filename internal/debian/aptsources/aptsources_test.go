package aptsources

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeRoot creates a fake root with the given files (paths relative to
// the root) and returns it.
func writeRoot(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const debianSources = `# Debian, modernised
Types: deb
# http://old.mirror.example/debian
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`

func TestDeb822TwoStanzas(t *testing.T) {
	root := writeRoot(t, map[string]string{"etc/apt/sources.list.d/debian.sources": debianSources})
	srcs, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 2 {
		t.Fatalf("got %d sources, want 2: %+v", len(srcs), srcs)
	}
	s := srcs[0]
	want := Source{
		Types:      []string{"deb"},
		URIs:       []string{"http://mirror.example/debian/"},
		Suites:     []string{"bookworm", "bookworm-updates"},
		Components: []string{"main", "contrib"},
		SignedBy:   "/usr/share/keyrings/debian-archive-keyring.gpg",
		Enabled:    true,
		File:       filepath.Join(root, "etc/apt/sources.list.d/debian.sources"),
		Line:       2,
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("source 0 =\n%+v\nwant\n%+v", s, want)
	}
	if srcs[1].Line != 9 || !reflect.DeepEqual(srcs[1].Types, []string{"deb", "deb-src"}) {
		t.Errorf("source 1 = %+v", srcs[1])
	}
	a, sec, err := Mirrors(srcs)
	if err != nil {
		t.Fatal(err)
	}
	if a != "http://mirror.example/debian" || sec != "http://mirror.example/debian-security" {
		t.Errorf("Mirrors = %q, %q", a, sec)
	}
	fa, fs, err := Find(root)
	if err != nil || fa != a || fs != sec {
		t.Errorf("Find = %q, %q, %v", fa, fs, err)
	}
}

func TestOneLine(t *testing.T) {
	root := writeRoot(t, map[string]string{"etc/apt/sources.list": `
# deb http://commented.mirror.example/debian bookworm main
deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] https://mirror.example/debian/ bookworm main non-free-firmware # trailing comment
deb-src https://mirror.example/debian bookworm main
deb	[ arch=amd64 ]	https://security.mirror.example/debian-security bookworm-security main
deb http://flat.example/repo ./
`})
	srcs, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 4 {
		t.Fatalf("got %d sources, want 4: %+v", len(srcs), srcs)
	}
	s := srcs[0]
	if s.Line != 3 || s.SignedBy != "/usr/share/keyrings/debian-archive-keyring.gpg" ||
		!reflect.DeepEqual(s.Components, []string{"main", "non-free-firmware"}) ||
		!reflect.DeepEqual(s.URIs, []string{"https://mirror.example/debian/"}) || !s.Enabled {
		t.Errorf("source 0 = %+v", s)
	}
	if srcs[2].URIs[0] != "https://security.mirror.example/debian-security" || srcs[2].Suites[0] != "bookworm-security" {
		t.Errorf("source 2 = %+v", srcs[2])
	}
	if len(srcs[3].Components) != 0 || srcs[3].Suites[0] != "./" {
		t.Errorf("flat source = %+v", srcs[3])
	}
	a, sec, err := Mirrors(srcs)
	if err != nil {
		t.Fatal(err)
	}
	if a != "https://mirror.example/debian" || sec != "https://security.mirror.example/debian-security" {
		t.Errorf("Mirrors = %q, %q", a, sec)
	}
}

func TestDisabledStanza(t *testing.T) {
	root := writeRoot(t, map[string]string{"etc/apt/sources.list.d/debian.sources": `Types: deb
URIs: http://disabled.mirror.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb
URIs: http://mirror.example/debian
Suites: trixie trixie-updates
Components: main
`})
	srcs, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 2 || srcs[0].Enabled || !srcs[1].Enabled {
		t.Fatalf("sources = %+v", srcs)
	}
	a, sec, err := Mirrors(srcs)
	if err != nil {
		t.Fatal(err)
	}
	if a != "http://mirror.example/debian" || sec != "" {
		t.Errorf("Mirrors = %q, %q; want the enabled archive and no security", a, sec)
	}
}

func TestThirdPartyIgnored(t *testing.T) {
	root := writeRoot(t, map[string]string{
		// Sorted before debian.sources, so it would win if not filtered.
		"etc/apt/sources.list.d/a-nodesource.sources": `Types: deb
URIs: https://deb.nodesource.example/node_20.x
Suites: nodistro
Components: main
Signed-By: /etc/apt/keyrings/nodesource.gpg
`,
		"etc/apt/sources.list.d/b-docker.list": "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.example/linux/debian bookworm stable\n",
		"etc/apt/sources.list.d/c-embedded.sources": `Types: deb
URIs: https://vendor.example/apt
Suites: bookworm
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGN0...
 -----END PGP PUBLIC KEY BLOCK-----
`,
		"etc/apt/sources.list.d/d-pgdg.list":    "deb http://apt.postgresql.example/pub/repos/apt bookworm-pgdg main\n",
		"etc/apt/sources.list.d/debian.sources": debianSources,
	})
	srcs, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 6 {
		t.Fatalf("got %d sources, want 6", len(srcs))
	}
	if !strings.Contains(srcs[2].SignedBy, "BEGIN PGP PUBLIC KEY BLOCK") {
		t.Errorf("embedded Signed-By = %q", srcs[2].SignedBy)
	}
	a, sec, err := Mirrors(srcs)
	if err != nil {
		t.Fatal(err)
	}
	if a != "http://mirror.example/debian" || sec != "http://mirror.example/debian-security" {
		t.Errorf("Mirrors = %q, %q", a, sec)
	}
}

func TestOtherSuffixesIgnored(t *testing.T) {
	root := writeRoot(t, map[string]string{
		"etc/apt/sources.list.d/debian.sources":                 debianSources,
		"etc/apt/sources.list.d/old.sources.disabled-by-x":      "this is not even valid\n",
		"etc/apt/sources.list.d/old.list.disabled-by-x":         "deb http://other.example/debian sid main\n",
		"etc/apt/sources.list.d/debian.sources.dpkg-old":        "garbage\n",
		"etc/apt/sources.list.d/.hidden.list":                   "garbage\n",
		"etc/apt/sources.list.d/notes.txt":                      "garbage\n",
		"etc/apt/sources.list.d/subdir.list/nested.list":        "garbage\n",
		"etc/apt/sources.list.d/zz-empty-with-comments.sources": "# nothing here\n\n",
	})
	srcs, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 2 {
		t.Fatalf("got %d sources, want 2: %+v", len(srcs), srcs)
	}
	for _, s := range srcs {
		if !strings.HasSuffix(s.File, "debian.sources") {
			t.Errorf("source from %s", s.File)
		}
	}
}

func TestNothingFound(t *testing.T) {
	root := writeRoot(t, map[string]string{
		"etc/apt/sources.list":                         "# all commented out\n# deb http://mirror.example/debian bookworm main\n",
		"etc/apt/sources.list.d/nodesource.sources":    "Types: deb\nURIs: https://deb.nodesource.example/node_20.x\nSuites: nodistro\nComponents: main\n",
		"etc/apt/sources.list.d/x.sources.disabled-by": "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n",
	})
	srcs, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Mirrors(srcs)
	if err == nil {
		t.Fatal("Mirrors succeeded")
	}
	ns := filepath.Join(root, "etc/apt/sources.list.d/nodesource.sources")
	for _, want := range []string{
		"no Debian archive found in apt sources (read: " + ns + ")",
		"pass --archive http://<mirror>/debian and --security-archive http://<mirror>/debian-security, or set them in the catalog configuration",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\ndoes not contain %q", err, want)
		}
	}
	// Find also lists files that contributed no entries.
	_, _, err = Find(root)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "etc/apt/sources.list")+", "+ns) {
		t.Errorf("Find error = %v", err)
	}
	if strings.Contains(err.Error(), "disabled-by") {
		t.Errorf("Find error lists an ignored file: %v", err)
	}

	// An empty root.
	_, _, err = Find(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "read: no apt source files") {
		t.Errorf("empty root: %v", err)
	}
	if _, _, err := Mirrors(nil); err == nil {
		t.Error("Mirrors(nil) succeeded")
	}
}

func TestSecurityOnlyIsNotEnough(t *testing.T) {
	srcs := []Source{{Types: []string{"deb"}, URIs: []string{"http://mirror.example/debian-security"}, Suites: []string{"bookworm-security"}, Enabled: true}}
	if _, _, err := Mirrors(srcs); err == nil {
		t.Error("Mirrors with only a security source succeeded")
	}
}

func TestPreferDebianLooking(t *testing.T) {
	srcs := []Source{
		// Unsigned, unusual path: still a candidate, but ranked lower.
		{Types: []string{"deb"}, URIs: []string{"http://vendor.example/apt"}, Suites: []string{"stable"}, Components: []string{"main"}, Enabled: true},
		{Types: []string{"deb"}, URIs: []string{"http://mirror.example/debian"}, Suites: []string{"bookworm"}, Components: []string{"main"}, Enabled: true},
		{Types: []string{"deb"}, URIs: []string{"tor+http://onion.example/debian", "http://mirror.example/debian-security"}, Suites: []string{"bookworm-security"}, Enabled: true},
		{Types: []string{"deb-src"}, URIs: []string{"http://src.example/debian"}, Suites: []string{"bookworm"}, Enabled: true},
	}
	a, sec, err := Mirrors(srcs)
	if err != nil {
		t.Fatal(err)
	}
	if a != "http://mirror.example/debian" || sec != "http://mirror.example/debian-security" {
		t.Errorf("Mirrors = %q, %q", a, sec)
	}
}

func TestSuiteKind(t *testing.T) {
	for suite, want := range map[string]kind{
		"bookworm":                  kindArchive,
		"bookworm-updates":          kindArchive,
		"sid":                       kindArchive,
		"stable":                    kindArchive,
		"bookworm-security":         kindSecurity,
		"buster/updates":            kindSecurity,
		"bookworm-backports":        kindOther,
		"bookworm-proposed-updates": kindOther,
		"bookworm-pgdg":             kindOther,
		"nodistro":                  kindOther,
		"./":                        kindOther,
		"":                          kindOther,
	} {
		if got := suiteKind(suite); got != want {
			t.Errorf("suiteKind(%q) = %v, want %v", suite, got, want)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	for name, tc := range map[string]struct{ file, content, want string }{
		"unknown type":     {"etc/apt/sources.list", "\ndebx http://mirror.example/debian bookworm main\n", "sources.list:2: unknown type"},
		"unterminated opt": {"etc/apt/sources.list", "deb [arch=amd64 http://mirror.example/debian bookworm main\n", "sources.list:1: unterminated"},
		"bad option":       {"etc/apt/sources.list", "deb [arch] http://mirror.example/debian bookworm main\n", "sources.list:1: malformed option"},
		"missing suite":    {"etc/apt/sources.list", "deb http://mirror.example/debian\n", "sources.list:1: want deb URI SUITE"},
		"no component":     {"etc/apt/sources.list.d/x.list", "deb http://mirror.example/debian bookworm\n", "x.list:1: suite \"bookworm\" needs"},
		"no colon":         {"etc/apt/sources.list.d/x.sources", "Types: deb\nURIs http://mirror.example/debian\n", "x.sources:2: want Field: value"},
		"stray cont":       {"etc/apt/sources.list.d/x.sources", "# c\n continued\n", "x.sources:2: continuation"},
		"no URIs":          {"etc/apt/sources.list.d/x.sources", "\n\nTypes: deb\nSuites: bookworm\n", "x.sources:3: stanza has no URIs"},
		"bad type":         {"etc/apt/sources.list.d/x.sources", "Types: rpm\nURIs: http://mirror.example/debian\nSuites: bookworm\n", "x.sources:1: unknown type \"rpm\""},
	} {
		t.Run(name, func(t *testing.T) {
			root := writeRoot(t, map[string]string{tc.file: tc.content})
			_, err := Load(root)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), filepath.Join(root, tc.file)) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want file name and %q", err, tc.want)
			}
		})
	}
}

// TestMachineSources reads this machine's apt configuration. It only checks
// that whatever is found is a usable http(s) base URL; it never names a host.
func TestMachineSources(t *testing.T) {
	srcs, err := Load("/")
	if err != nil {
		t.Fatalf("Load(/): %v", err)
	}
	archive, security, err := Mirrors(srcs)
	if err != nil {
		t.Skipf("no Debian archive in this machine's apt sources: %v", err)
	}
	for _, u := range []string{archive, security} {
		if u == "" {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil {
			t.Errorf("%q: %v", u, err)
			continue
		}
		if (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || strings.HasSuffix(u, "/") {
			t.Errorf("%q is not an http(s) base URL without trailing slash", u)
		}
	}
}
