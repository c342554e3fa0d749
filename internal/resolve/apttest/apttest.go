// Package apttest runs the real apt-get in a private, throwaway apt root so
// that tests can compare temper's resolver with what
// "apt-get -s --no-install-recommends install <roots>" does on a system with
// an empty dpkg status. New builds the root (own apt.conf passed as
// APT_CONFIG, sources, lists, caches, empty status) and runs apt-get update;
// Install simulates an installation and parses the Inst lines.
//
// # What apt does (observed with apt 2.6.1 on bookworm and trixie, amd64)
//
// A reimplementation must copy these, in this order of importance. Traces
// come from -o Debug::pkgDepCache::Marker=1 -o Debug::pkgDepCache::AutoInstall=1
// (Env.Command passes any extra -o).
//
//  1. No implicit Essential packages. With an empty status, apt-get install
//     adds only the closure of the roots: "install hello" installs exactly
//     hello, libc6, libgcc-s1, gcc-12-base. Essential packages appear only
//     as dependencies (dpkg, tar, perl-base arrive via python3-minimal,
//     usrmerge, ...). Only dist-upgrade adds every Essential package (89
//     packages with an empty status on bookworm).
//
//  2. Two phases for the roots. apt first marks every root for install
//     without looking at dependencies, then walks the roots' dependencies
//     root by root in command-line order (not sorted: "hello bsd-mailx" and
//     "bsd-mailx hello" walk in the order given). Consequence: an or-group
//     satisfied by any root is never resolved otherwise, whatever the
//     order: "bsd-mailx postfix" and "postfix bsd-mailx" both satisfy
//     bsd-mailx's "default-mta | mail-transport-agent" with postfix and
//     install no exim4.
//
//  3. Depth-first, in field order, first satisfiable alternative. For each
//     package apt marks it, then walks its Pre-Depends then Depends groups
//     in the order written in the control file, recursing immediately into
//     each chosen package (pre-order DFS). Or-groups are NOT deferred until
//     after plain dependencies: bsd-mailx (Depends: default-mta |
//     mail-transport-agent, libbsd0, ...) installs exim4-daemon-light and its
//     whole subtree before libbsd0; exim4-base (Depends: adduser, cron |
//     cron-daemon | anacron | systemd-sysv, exim4-config ..., netbase, ...)
//     marks adduser, cron, exim4-config, netbase in that order. A group is
//     skipped when anything already marked for install (a root, or a
//     package marked earlier in the walk) satisfies any of its
//     alternatives, e.g. "postfix-pcre bsd-mailx": postfix arrives as a
//     dependency of the earlier root postfix-pcre and then satisfies
//     bsd-mailx's MTA group. Otherwise the alternatives are tried in order;
//     for each, the candidate of a real package, then its providers; the
//     first one whose install succeeds wins ("a | b" with a installable
//     always gives a: php8.2 Depends libapache2-mod-php8.2 | php8.2-fpm |
//     php8.2-cgi installs libapache2-mod-php8.2).
//
//  4. Order matters, and apt leaves orphans. When a later package conflicts
//     with an earlier automatic choice, apt un-marks that choice but not
//     what it already pulled in. "bsd-mailx postfix-pcre": bsd-mailx comes
//     first and pulls exim4-daemon-light, exim4-base, cron, ...; then
//     postfix (via postfix-pcre) Conflicts: mail-transport-agent, so exim4-*
//     are un-marked, yet cron, cron-daemon-common, libidn2-0, libunistring2,
//     sensible-utils, libpam-runtime stay (74 packages against 68 for
//     "postfix-pcre bsd-mailx"). On trixie the same entry keeps 22 orphans
//     including systemd and perl (76 against 54). What stays is decided by
//     apt-get's removal of new "garbage" at the end: a new package not
//     reachable from the roots is dropped unless kept by the
//     APT::AutoRemove rules, which with apt's defaults follow Recommends
//     AND Suggests of kept packages (adduser Suggests: cron keeps cron; with
//     -o APT::AutoRemove::SuggestsImportant=false cron goes, and libidn2-0,
//     libunistring2, sensible-utils stay as Recommends). Env uses apt's
//     defaults; the host's docker apt.conf.d sets SuggestsImportant=false,
//     which is one reason the host configuration must not leak in.
//
//  5. Virtual packages. As a root, a virtual package with one provider is
//     replaced by it (libgcc1 installs libgcc-s1, provided with a version);
//     with several providers apt fails: "Package awk is a virtual package
//     provided by: original-awk ..., mawk ..., gawk ..." then "E: Package
//     'awk' has no installation candidate" (exit 100), same for
//     mail-transport-agent, java-runtime, systemd-sysusers. As a dependency,
//     apt never fails on several providers: it sorts them (apt's
//     CompareProviders: protected first, then same name group as the
//     virtual, Essential, Important, native architecture, then Priority
//     required < important < standard < optional < extra, and last an
//     internal cache id that is not reproducible from the indices) and
//     takes the first that installs. Observed: awk → mawk (required beats
//     gawk, original-awk: optional) for base-files' Pre-Depends;
//     systemd-sysusers → systemd (important) for fwupd;
//     exim4-localscanapi-6.0 → exim4-daemon-light (not heavy) for sa-exim;
//     mailx → bsd-mailx (not mailutils) for tua/uucp; ctags →
//     exuberant-ctags (not universal-ctags); homer-api-datastore →
//     homer-api-postgresql (not -mysql); telepathy-connection-manager →
//     telepathy-idle (not haze, rakia). The last four are ties on every
//     readable key (all optional), so a resolver must be told the choice:
//     see Providers.
//
//  6. Versioned Provides. A versioned dependency on a name can be met by a
//     versioned Provides (name (= v)), checked against v; an unversioned
//     Provides never meets a versioned dependency (Policy 7.5, apt's
//     rule). Observed: python3-cryptography Depends
//     python3-cffi-backend-api-min (<= 9729) and
//     python3-cffi-backend-api-max (>= 9729), both met by
//     python3-cffi-backend (Provides ...-api-min (= 9729), ...-api-max (=
//     10495)), which apt installs. Real packages still come first in an
//     or-group: libreoffice-script-provider-bsh's "default-jre (>= 2:1.8) |
//     java-runtime (>= 8) | java8-runtime | jre" gives default-jre.
//
//  7. Multi-Arch. Every "X:any" dependency in bookworm main targets a
//     Multi-Arch: allowed package (perl:any, python3:any, python3.11:any:
//     10294 of them, none other); with one configured architecture it is
//     satisfied by the native package (apache2's perl:any by perl:amd64).
//     Multi-Arch: foreign only matters for other architectures. With a
//     single architecture apt prints no ":arch" suffix on Inst lines and
//     the bracket holds the package's Architecture (amd64 or all).
//
//  8. Candidates come from the highest version across the release's suites
//     (release, -updates, -security); Inst lines name every suite that has
//     that version ("Debian:12.15/oldstable, Debian-Security:12/
//     oldstable-security").
//
//  9. Roots are "protected": a dependency with exactly one possible
//     solution under a protected package is itself protected (the trace
//     shows "p" in "@un puN"), and protected providers sort first among
//     several providers. Packages under an or-group choice are not
//     protected; if one of them cannot be installed apt discards it and
//     tries the next alternative, but keeps what it already marked beneath
//     it (subject to point 4's garbage removal).
//
// Timings on this machine: apt-get update of one release (3 suites, main,
// amd64, no Contents, no translations) 2–4 s; one Install 0.7–0.9 s
// (binary cache kept in Dir/cache).
package apttest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Keyring is the keyring named in the generated sources' signed-by option.
const Keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

// Env is a private apt configuration for one release and one architecture:
// its own apt.conf, sources.list, lists, cache and an empty dpkg status.
// Nothing of the host's apt state is read (no /etc/apt/apt.conf.d, no
// preferences, no sources.list.d, no trusted.gpg) or written (no
// /var/lib/apt, /var/cache/apt).
type Env struct {
	// Dir is the root of the private tree.
	Dir string
	// Release is the codename (bookworm, trixie).
	Release string
	// Arch is the one configured architecture (amd64).
	Arch string
	// Archive and Security are the mirror base URLs the sources name.
	Archive, Security string
	// Config is the private apt.conf, passed to apt as APT_CONFIG.
	Config string
}

// Installed is one package apt would install, parsed from an
// "Inst name (version suites [arch])" line of apt-get -s.
type Installed struct {
	Name, Version string
	// Arch is the architecture apt printed in brackets ("amd64", "all");
	// empty when apt printed none.
	Arch string
	// Suites is the release list as printed, e.g.
	// "Debian:12.11/stable, Debian-Security:12/stable-security".
	Suites string
}

// New creates the tree under dir (which need not exist), writes the
// sources for release, release-updates (archive) and release-security
// (security, skipped when security is ""), and runs apt-get update.
// archive and security are base URLs such as http://<mirror>/debian; read
// them from the machine with aptsources.Find("/").
func New(ctx context.Context, dir, archive, security, release, arch string) (*Env, error) {
	return NewWith(ctx, dir, Options{Archive: archive, Security: security, Release: release, Arch: arch})
}

// Source is one extra apt source: a designated repository.
type Source struct {
	// URI is the repository's base URL.
	URI string
	// Suite is the suite, or a flat repository's directory ending in "/".
	Suite string
	// Components; none for a flat repository, [main] when empty otherwise.
	Components []string
	// SignedBy is the keyring file that alone may verify it (apt's
	// signed-by option).
	SignedBy string
	// Trusted marks an unsigned local repository (apt's trusted=yes, no
	// signed-by), e.g. a file: directory of .debs with a Packages file
	// made by dpkg-scanpackages: what a definition's local_debs: are to
	// apt.
	Trusted bool
}

// Options configure NewWith.
type Options struct {
	// Archive and Security are Debian's base URLs; Security may be "".
	Archive, Security string
	Release, Arch     string
	// Keyring signs Debian's suites (signed-by); the system's
	// debian-archive-keyring when "".
	Keyring string
	// Sources are designated repositories beside Debian's suites.
	Sources []Source
	// Preferences is the apt preferences file (apt_preferences(5)).
	Preferences string
}

// NewWith is New with designated repositories, a Debian keyring of the
// test's own and an apt preferences file.
func NewWith(ctx context.Context, dir string, o Options) (*Env, error) {
	archive, security, release, arch := o.Archive, o.Security, o.Release, o.Arch
	if archive == "" || release == "" || arch == "" {
		return nil, errors.New("apttest: archive, release and arch are required")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("apttest: %w", err)
	}
	if strings.ContainsAny(abs, "\"\n{};") {
		return nil, fmt.Errorf("apttest: directory %q contains characters apt.conf cannot quote", abs)
	}
	e := &Env{Dir: abs, Release: release, Arch: arch, Archive: strings.TrimRight(archive, "/"),
		Security: strings.TrimRight(security, "/"), Config: filepath.Join(abs, "apt.conf")}
	for _, d := range []string{
		"etc/apt.conf.d", "etc/sources.list.d", "etc/preferences.d", "etc/trusted.gpg.d",
		"etc/auth.conf.d", "state/lists/partial", "cache/archives/partial", "log",
	} {
		if err := os.MkdirAll(filepath.Join(abs, d), 0o755); err != nil {
			return nil, fmt.Errorf("apttest: %w", err)
		}
	}
	keyring := o.Keyring
	if keyring == "" {
		keyring = Keyring
	}
	opts := fmt.Sprintf("[arch=%s signed-by=%s]", arch, keyring)
	src := fmt.Sprintf("deb %s %s %s main\ndeb %s %s %s-updates main\n", opts, e.Archive, release, opts, e.Archive, release)
	if e.Security != "" {
		src += fmt.Sprintf("deb %s %s %s-security main\n", opts, e.Security, release)
	}
	for _, s := range o.Sources {
		if (s.SignedBy == "") == !s.Trusted || s.URI == "" || s.Suite == "" {
			return nil, fmt.Errorf("apttest: source %+v: URI, Suite and either SignedBy or Trusted are required", s)
		}
		comps := s.Components
		if len(comps) == 0 && !strings.HasSuffix(s.Suite, "/") {
			comps = []string{"main"}
		}
		trust := "signed-by=" + s.SignedBy
		if s.Trusted {
			trust = "trusted=yes"
		}
		src += strings.TrimSpace(fmt.Sprintf("deb [arch=%s %s] %s %s %s", arch, trust, strings.TrimRight(s.URI, "/"), s.Suite, strings.Join(comps, " "))) + "\n"
	}
	files := map[string]string{
		"etc/sources.list":      src,
		"etc/preferences":       o.Preferences,
		"etc/apt.conf":          "",
		"state/status":          "",
		"state/extended_states": "",
		"apt.conf":              e.conf(),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(abs, name), []byte(body), 0o644); err != nil {
			return nil, fmt.Errorf("apttest: %w", err)
		}
	}
	if _, err := e.run(ctx, "update", "--error-on=any"); err != nil {
		return nil, err
	}
	return e, nil
}

// SetPreferences replaces the apt preferences file; the next Install uses
// it (pins are read on every run, no update needed).
func (e *Env) SetPreferences(text string) error {
	return os.WriteFile(filepath.Join(e.Dir, "etc/preferences"), []byte(text), 0o644)
}

// Update runs apt-get update again, e.g. after a repository published.
func (e *Env) Update(ctx context.Context) error {
	_, err := e.run(ctx, "update", "--error-on=any")
	return err
}

// settings returns the configuration that isolates apt, in order. Every
// path is absolute so that nothing depends on Dir's default of "/".
func (e *Env) settings() [][2]string {
	p := func(rel string) string { return filepath.Join(e.Dir, rel) }
	s := [][2]string{
		{"Dir", e.Dir + "/"},
		{"Dir::Etc", p("etc") + "/"},
		{"Dir::Etc::Main", p("etc/apt.conf")},
		{"Dir::Etc::Parts", p("etc/apt.conf.d") + "/"},
		{"Dir::Etc::SourceList", p("etc/sources.list")},
		{"Dir::Etc::SourceParts", p("etc/sources.list.d") + "/"},
		{"Dir::Etc::Preferences", p("etc/preferences")},
		{"Dir::Etc::PreferencesParts", p("etc/preferences.d") + "/"},
		{"Dir::Etc::Trusted", p("etc/trusted.gpg")},
		{"Dir::Etc::TrustedParts", p("etc/trusted.gpg.d") + "/"},
		{"Dir::Etc::netrc", p("etc/auth.conf")},
		{"Dir::Etc::netrcparts", p("etc/auth.conf.d") + "/"},
		{"Dir::State", p("state") + "/"},
		{"Dir::State::Lists", p("state/lists") + "/"},
		{"Dir::State::status", p("state/status")},
		{"Dir::State::extended_states", p("state/extended_states")},
		{"Dir::Cache", p("cache") + "/"},
		{"Dir::Cache::archives", p("cache/archives") + "/"},
		{"Dir::Cache::pkgcache", p("cache/pkgcache.bin")},
		{"Dir::Cache::srcpkgcache", p("cache/srcpkgcache.bin")},
		{"Dir::Log", p("log") + "/"},
		{"APT::Architecture", e.Arch},
		{"APT::Architectures", e.Arch},
		{"Debug::NoLocking", "1"},
		{"APT::Get::List-Cleanup", "0"},
		{"Acquire::Languages", "none"},
		{"Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled", "false"},
		{"APT::Install-Recommends", "false"},
		{"APT::Install-Suggests", "false"},
		// Mirrors may serve a fixed snapshot whose Release files carry an
		// expired Valid-Until; the signature is still checked.
		{"Acquire::Check-Valid-Until", "false"},
	}
	if os.Geteuid() == 0 {
		// As root, apt's download methods drop to the _apt user, which
		// cannot enter a private temporary directory (t.TempDir is 0700).
		s = append(s, [2]string{"APT::Sandbox::User", "root"})
	}
	return s
}

// conf renders settings as apt.conf. APT_CONFIG is read before
// Dir::Etc::Parts and Dir::Etc::Main, so setting those here keeps the
// host's /etc/apt/apt.conf.d and /etc/apt/apt.conf out.
func (e *Env) conf() string {
	var b strings.Builder
	b.WriteString("// Generated by temper's apttest: a private apt root.\n")
	for _, kv := range e.settings() {
		if kv[0] == "APT::Architectures" {
			fmt.Fprintf(&b, "#clear APT::Architectures;\nAPT::Architectures { %q; };\n", kv[1])
			continue
		}
		fmt.Fprintf(&b, "%s %q;\n", kv[0], kv[1])
	}
	return b.String()
}

// Command returns an apt-get command (or another apt tool when name is not
// "apt-get", e.g. "apt-cache") configured for the environment, for
// exploration beyond Install.
func (e *Env) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	var full []string
	for _, kv := range e.settings() {
		full = append(full, "-o", kv[0]+"="+kv[1])
	}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, name, full...)
	env := []string{"APT_CONFIG=" + e.Config, "LC_ALL=C", "LANG=C", "DEBIAN_FRONTEND=noninteractive"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "APT_CONFIG", k == "LANG", k == "LANGUAGE", strings.HasPrefix(k, "LC_"), k == "DEBIAN_FRONTEND":
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = env
	return cmd
}

func (e *Env) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := e.Command(ctx, "apt-get", args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("apttest: apt-get %s (%s %s/%s): %w\n%s",
			strings.Join(args, " "), e.Release, e.Arch, e.Dir, err, out.Bytes())
	}
	return out.Bytes(), nil
}

// Install simulates apt-get -s --no-install-recommends install pkgs... and
// returns what apt would install, by package name. apt errors (unmet
// dependencies, unknown packages, a virtual package with several
// providers) are returned with apt's output. pkgs may carry apt's own
// syntax (name=version, name/suite, name:arch).
func (e *Env) Install(ctx context.Context, pkgs ...string) (map[string]Installed, error) {
	if len(pkgs) == 0 {
		return nil, errors.New("apttest: Install needs at least one package")
	}
	args := append([]string{"-s", "--no-install-recommends", "install", "--"}, pkgs...)
	out, err := e.run(ctx, args...)
	if err != nil {
		return nil, err
	}
	got, err := ParseSimulation(out)
	if err != nil {
		return nil, fmt.Errorf("apttest: apt-get install %s (%s %s): %w\n%s", strings.Join(pkgs, " "), e.Release, e.Arch, err, out)
	}
	// apt exits 0 when it warns, e.g. "E:"-less notes, but an "E:" line
	// with exit 0 would be a surprise worth failing on.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "E: ") {
			return nil, fmt.Errorf("apttest: apt-get install %s (%s %s): %s\n%s", strings.Join(pkgs, " "), e.Release, e.Arch, line, out)
		}
	}
	return got, nil
}

// ParseSimulation parses the "Inst" lines of apt-get -s output:
//
//	Inst name [oldversion] (version suites [arch])
//
// Conf, Remv and other lines are ignored. A name printed with an
// architecture qualifier (name:arch) is kept as printed.
func ParseSimulation(out []byte) (map[string]Installed, error) {
	got := map[string]Installed{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "Inst ")
		if !ok {
			continue
		}
		name, rest, _ := strings.Cut(rest, " ")
		if strings.HasPrefix(rest, "[") { // an installed version being replaced
			if i := strings.Index(rest, "] "); i >= 0 {
				rest = rest[i+2:]
			}
		}
		if !strings.HasPrefix(rest, "(") {
			return nil, fmt.Errorf("unexpected Inst line %q", line)
		}
		// Only the first parenthesised group: apt may append " [...]"
		// (dependencies not yet configured in its simulated order).
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return nil, fmt.Errorf("unexpected Inst line %q", line)
		}
		inner := rest[1:end]
		ver, inner, _ := strings.Cut(inner, " ")
		in := Installed{Name: name, Version: ver}
		if i := strings.LastIndex(inner, " ["); i >= 0 && strings.HasSuffix(inner, "]") {
			in.Arch = inner[i+2 : len(inner)-1]
			inner = inner[:i]
		} else if strings.HasPrefix(inner, "[") && strings.HasSuffix(inner, "]") {
			in.Arch, inner = inner[1:len(inner)-1], ""
		}
		in.Suites = inner
		if ver == "" {
			return nil, fmt.Errorf("no version in Inst line %q", line)
		}
		if _, dup := got[name]; dup {
			return nil, fmt.Errorf("package %s listed twice", name)
		}
		got[name] = in
	}
	return got, sc.Err()
}
