package spec

import (
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/debian/version"
)

// Syntax of the names a definition holds. The JSON Schema repeats these
// patterns; keep them in step.
var (
	// imageNameRE is one OCI repository path component.
	imageNameRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	// streamVersionRE is a string usable as (the start of) an OCI tag.
	streamVersionRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	// packageNameRE is Debian Policy §5.6.1.
	packageNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	codenameRE    = regexp.MustCompile(`^[a-z]+$`)
	accountNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	uidGIDRE      = regexp.MustCompile(`^[0-9]+:[0-9]+$`)
	envNameRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// annotationKeyRE is reverse-domain notation, e.g. org.opencontainers.image.source.
	annotationKeyRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*\.[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	portRE          = regexp.MustCompile(`^([0-9]{1,5})/(tcp|udp)$`)
	modeRE          = regexp.MustCompile(`^0?[0-7]{3,4}$`)
)

// Architectures are the Debian architecture names a definition may use.
var Architectures = []string{"amd64", "arm64", "armel", "armhf", "i386", "loong64", "mips64el", "ppc64el", "riscv64", "s390x"}

// Components are the archive areas a definition may use.
var Components = []string{"main", "contrib", "non-free", "non-free-firmware"}

// releaseAliases are suite names that move from release to release.
var releaseAliases = []string{"stable", "oldstable", "oldoldstable", "testing", "unstable", "sid", "experimental", "rc-buggy"}

// NologinShells are the shells an account may have: none that can be
// logged in with.
var NologinShells = []string{"/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false"}

// basePasswdUsers are the users Debian's base-passwd defines, which every
// image has; "nonroot" is temper's own.
var basePasswdUsers = []string{"root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data", "backup", "list", "irc", "_apt", "nobody"}

// ReservedRequiredBy is the required_by entry of a root package in a lock.
const ReservedRequiredBy = "definition"

// Validate checks the definition. A definition returned by ParseDefinition
// or LoadDefinition is valid; call Validate after changing one, or on one
// built in Go. Problems are reported with positions when the definition was
// parsed from a file.
func (d *Definition) Validate() error {
	r := &reporter{pos: d.pos}
	d.validate(r)
	return r.errs.err()
}

func (d *Definition) validate(r *reporter) {
	switch {
	case d.Name == "":
		r.errorf("name", "required")
	case len(d.Name) > 128 || !imageNameRE.MatchString(d.Name):
		r.errorf("name", "%q is not a valid image name: use lowercase letters, digits and . _ - between them (at most 128 characters)", d.Name)
	}
	switch {
	case d.Version == "":
		r.errorf("version", "required")
	case !streamVersionRE.MatchString(d.Version):
		r.errorf("version", "%q must be usable in an image tag: letters, digits, . _ - (not starting with . or -), at most 128 characters", d.Version)
	}
	d.validateDebian(r)
	d.validateArchitectures(r)
	d.validatePackages(r)
	d.validateRepositories(r)
	d.Image.validate(r, d.Hardening)
	validatePaths(r, "remove", d.Remove, true)
	validatePaths(r, "keep", d.Keep, true)
	seen := map[string]int{}
	for i, t := range d.Tests {
		p := index("tests", i)
		if t.Name != "" {
			if j, dup := seen[t.Name]; dup {
				r.errorf(join(p, "name"), "duplicate test name %q (also tests[%d])", t.Name, j)
			}
			seen[t.Name] = i
		}
		t.validate(r, p)
	}
	d.validateVariants(r)
}

func (d *Definition) validateDebian(r *reporter) {
	rel := d.Debian.Release
	switch {
	case rel == "":
		r.errorf("debian.release", "required: the release codename, e.g. bookworm or trixie")
	case contains(releaseAliases, rel):
		r.errorf("debian.release", "%q is an alias that moves from release to release; name the codename (e.g. bookworm or trixie) so the stream never changes release on its own", rel)
	case strings.HasSuffix(rel, "-updates") || strings.HasSuffix(rel, "-security") || strings.HasSuffix(rel, "-backports") || strings.HasSuffix(rel, "-proposed-updates"):
		base, _, _ := strings.Cut(rel, "-")
		r.errorf("debian.release", "%q is a suite, not a release; write %q (its -updates and -security suites are implied)", rel, base)
	case !codenameRE.MatchString(rel):
		r.errorf("debian.release", "%q is not a release codename (lowercase letters, e.g. bookworm)", rel)
	}
	if d.Debian.Components != nil && len(d.Debian.Components) == 0 {
		r.errorf("debian.components", "must list at least one component (default [main])")
	}
	seen := map[string]bool{}
	for i, c := range d.Debian.Components {
		p := index("debian.components", i)
		switch {
		case !contains(Components, c):
			r.errorf(p, "unknown component %q (valid: %s)", c, strings.Join(Components, ", "))
		case seen[c]:
			r.errorf(p, "duplicate component %q", c)
		}
		seen[c] = true
	}
	if len(d.Debian.Components) > 0 && !seen["main"] {
		r.errorf("debian.components", "must include main")
	}
}

func (d *Definition) validateArchitectures(r *reporter) {
	if len(d.Architectures) == 0 {
		r.errorf("architectures", "list at least one architecture (%s)", strings.Join(Architectures, ", "))
	}
	seen := map[string]int{}
	for i, a := range d.Architectures {
		p := index("architectures", i)
		if j, dup := seen[a]; dup {
			r.errorf(p, "duplicate architecture %q (also architectures[%d])", a, j)
			continue
		}
		seen[a] = i
		if !contains(Architectures, a) {
			hint := ""
			switch a {
			case "x86_64", "x86-64", "amd":
				hint = `; Debian calls it "amd64"`
			case "aarch64", "arm":
				hint = `; Debian calls it "arm64"`
			case "all":
				hint = `; "all" is not an image architecture`
			}
			r.errorf(p, "unknown Debian architecture %q (valid: %s)%s", a, strings.Join(Architectures, ", "), hint)
		}
	}
}

func validPackageName(r *reporter, p, name string) bool {
	if !packageNameRE.MatchString(name) {
		r.errorf(p, "%q is not a Debian package name (lowercase letters, digits, + - . ; at least two characters, starting with a letter or digit)", name)
		return false
	}
	return true
}

func (d *Definition) validatePackages(r *reporter) {
	excluded := map[string]bool{}
	for i, name := range d.Exclude {
		p := index("exclude", i)
		if validPackageName(r, p, name) {
			if excluded[name] {
				r.errorf(p, "duplicate package %q", name)
			}
			excluded[name] = true
		}
	}
	if len(d.Packages) == 0 {
		r.errorf("packages", "list at least one package")
	}
	roots := map[string]bool{}
	for _, pkg := range d.Packages {
		roots[pkg.Name] = true
	}
	nodeps := map[string]bool{}
	for i, name := range d.NoDependencies {
		p := index("no_dependencies", i)
		if !validPackageName(r, p, name) {
			continue
		}
		if nodeps[name] {
			r.errorf(p, "duplicate package %q", name)
		}
		nodeps[name] = true
		if !roots[name] {
			r.errorf(p, "%q is not one of the packages; no_dependencies applies to root packages only: add it to packages", name)
		}
	}
	seen := map[string]int{}
	for i, pkg := range d.Packages {
		p := index("packages", i)
		if !validPackageName(r, p, pkg.Name) {
			continue
		}
		if pkg.Version != "" {
			if _, err := version.Parse(pkg.Version); err != nil {
				r.errorf(p, "%q: bad version: %v", pkg.String(), err)
			}
		}
		if j, dup := seen[pkg.Name]; dup {
			r.errorf(p, "duplicate package %q (also packages[%d])", pkg.Name, j)
		}
		seen[pkg.Name] = i
		if excluded[pkg.Name] {
			r.errorf(p, "package %q is both a root package and excluded", pkg.Name)
		}
	}
	for _, virt := range sortedKeys(d.Providers) {
		p := join("providers", virt)
		if !packageNameRE.MatchString(virt) {
			r.keyErrorf(p, "%q is not a Debian package name", virt)
		}
		if prov := d.Providers[virt]; validPackageName(r, p, prov) && excluded[prov] {
			r.errorf(p, "provider %q is excluded", prov)
		}
	}
}

// validate checks the image section, reporting every problem to r.
func (img *Image) validate(r *reporter, h Hardening) {
	known := img.validateAccounts(r)
	img.validateUser(r, h, known)
	img.validateConfig(r)
	img.validatePorts(r)
	img.validateFiles(r)
}

// validateAccounts checks image.accounts and returns every user name an
// image may run as: nonroot, base-passwd's and the accounts declared.
func (img *Image) validateAccounts(r *reporter) (known map[string]bool) {
	known = map[string]bool{DefaultUser: true}
	for _, u := range basePasswdUsers {
		known[u] = true
	}
	names := map[string]int{}
	uids := map[int]int{}
	for i, a := range img.Accounts {
		p := index("image.accounts", i)
		switch {
		case a.Name == "":
			r.errorf(join(p, "name"), "required")
		case !accountNameRE.MatchString(a.Name):
			r.errorf(join(p, "name"), "%q is not a valid user name (lowercase letters, digits, _ -; at most 32 characters)", a.Name)
		case known[a.Name] && names[a.Name] == 0:
			r.errorf(join(p, "name"), "%q already exists in every image (base-passwd or nonroot); choose another name", a.Name)
		default:
			if j, dup := names[a.Name]; dup {
				r.errorf(join(p, "name"), "duplicate account %q (also image.accounts[%d])", a.Name, j-1)
			}
			names[a.Name] = i + 1
		}
		for _, f := range []struct {
			key string
			id  int
		}{{"uid", a.UID}, {"gid", a.GID}} {
			if f.id < 100 || f.id > 65533 || f.id == NonrootUID {
				r.errorf(join(p, f.key), "%d is out of range: use 100-65533 except 65532 (0-99 and 65534 belong to base-passwd, 65532 to nonroot)", f.id)
			}
		}
		if j, dup := uids[a.UID]; dup && a.UID != 0 {
			r.errorf(join(p, "uid"), "uid %d is also image.accounts[%d]'s", a.UID, j)
		}
		uids[a.UID] = i
		validateAbs(r, join(p, "home"), a.Home, false)
		if a.Shell != "" && !contains(NologinShells, a.Shell) {
			r.errorf(join(p, "shell"), "%q: accounts cannot log in; leave shell out or use one of %s", a.Shell, strings.Join(NologinShells, ", "))
		}
	}
	for n := range names {
		known[n] = true
	}
	return known
}

// validateUser checks image.user against the known users and the
// definition's hardening (root only when allowed).
func (img *Image) validateUser(r *reporter, h Hardening, known map[string]bool) {
	switch u := img.User; {
	case u == "":
		// Default nonroot.
	case uidGIDRE.MatchString(u):
		uid, gid, _ := strings.Cut(u, ":")
		if !validID(uid) || !validID(gid) {
			r.errorf("image.user", "%q: uid and gid must be 0-4294967294", u)
		} else if strings.TrimLeft(uid, "0") == "" && !h.AllowRoot {
			r.errorf("image.user", "%q runs as root; set hardening.allow_root: true to allow it", u)
		}
	case !known[u]:
		r.errorf("image.user", "unknown user %q: use nonroot, \"uid:gid\", a base-passwd user or one declared in image.accounts", u)
	case u == "root" && !h.AllowRoot:
		r.errorf("image.user", "root: set hardening.allow_root: true to run as root")
	}
}

// validateConfig checks the image configuration's entrypoint,
// environment, working directory and annotations.
func (img *Image) validateConfig(r *reporter) {
	if img.Entrypoint != nil && (len(img.Entrypoint) == 0 || img.Entrypoint[0] == "") {
		r.errorf("image.entrypoint", "must name a program first (leave entrypoint out for none)")
	}
	for _, k := range sortedKeys(img.Env) {
		if !envNameRE.MatchString(k) {
			r.keyErrorf(join("image.env", k), "%q is not a valid environment variable name (letters, digits, _; not starting with a digit)", k)
		}
	}
	if img.Workdir != "" {
		validateAbs(r, "image.workdir", img.Workdir, false)
	}
	for _, k := range sortedKeys(img.Annotations) {
		if !annotationKeyRE.MatchString(k) {
			r.keyErrorf(join("image.annotations", k), "%q is not an annotation key in reverse-domain notation (e.g. org.opencontainers.image.source)", k)
		}
	}
}

// validatePorts checks image.ports: "port/protocol", each once.
func (img *Image) validatePorts(r *reporter) {
	seen := map[string]bool{}
	for i, port := range img.Ports {
		p := index("image.ports", i)
		m := portRE.FindStringSubmatch(port)
		if m == nil {
			r.errorf(p, "%q: write a port and protocol, e.g. \"8080/tcp\" or \"53/udp\"", port)
			continue
		}
		if n, _ := strconv.Atoi(m[1]); n < 1 || n > 65535 {
			r.errorf(p, "%q: port must be 1-65535", port)
		}
		if seen[port] {
			r.errorf(p, "duplicate port %q", port)
		}
		seen[port] = true
	}
}

// validateFiles checks image.files and image.writable.
func (img *Image) validateFiles(r *reporter) {
	seenFiles := map[string]bool{}
	for i, f := range img.Files {
		p := index("image.files", i)
		if validateAbs(r, join(p, "path"), f.Path, false) {
			if f.Path == "/" || strings.HasSuffix(f.Path, "/") {
				r.errorf(join(p, "path"), "%q is a directory; name a file", f.Path)
			}
			if seenFiles[f.Path] {
				r.errorf(join(p, "path"), "duplicate file %q", f.Path)
			}
			seenFiles[f.Path] = true
		}
		if f.Mode != "" && !modeRE.MatchString(f.Mode) {
			r.errorf(join(p, "mode"), "%q is not an octal mode like \"0644\"", f.Mode)
		}
		if f.Owner != "" && (!uidGIDRE.MatchString(f.Owner) || !validID(strings.Split(f.Owner, ":")[0]) || !validID(strings.Split(f.Owner, ":")[1])) {
			r.errorf(join(p, "owner"), "%q: write numeric \"uid:gid\", e.g. \"0:0\"", f.Owner)
		}
	}
	validatePaths(r, "image.writable", img.Writable, false)
	for i, w := range img.Writable {
		if w == "/" {
			r.errorf(index("image.writable", i), "the whole root cannot be writable; name directories")
		}
	}
}

func validID(s string) bool {
	n, err := strconv.ParseUint(s, 10, 32)
	return err == nil && n < 1<<32-1
}

// validateAbs checks that p is an absolute, clean path (a glob when glob).
func validateAbs(r *reporter, field, p string, glob bool) bool {
	switch {
	case p == "":
		r.errorf(field, "required: an absolute path")
	case !strings.HasPrefix(p, "/"):
		r.errorf(field, "%q must be an absolute path (starting with /)", p)
	case path.Clean(p) != p:
		r.errorf(field, "%q is not a clean path; write %q", p, path.Clean(p))
	default:
		if glob {
			if _, err := path.Match(p, ""); err != nil {
				r.errorf(field, "%q is not a valid glob: %v", p, err)
				return false
			}
		}
		return true
	}
	return false
}

func validatePaths(r *reporter, field string, paths []string, glob bool) {
	seen := map[string]bool{}
	for i, p := range paths {
		f := index(field, i)
		if validateAbs(r, f, p, glob) {
			if seen[p] {
				r.errorf(f, "duplicate path %q", p)
			}
			seen[p] = true
		}
	}
}

func (t *Test) validate(r *reporter, p string) {
	if t.Name == "" {
		r.errorf(join(p, "name"), "required: every test has a name")
	}
	n := 0
	for _, set := range []bool{t.Path != nil, t.Config != nil, t.Command != nil, t.Service != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		r.errorf(p, "a test must have exactly one of path, config, command, service")
	}
	if c := t.Path; c != nil {
		q := join(p, "path")
		validateAbs(r, join(q, "path"), c.Path, false)
		if c.Mode != "" && !modeRE.MatchString(c.Mode) {
			r.errorf(join(q, "mode"), "%q is not an octal mode like \"0755\"", c.Mode)
		}
		if c.Owner != "" && (!uidGIDRE.MatchString(c.Owner) || !validID(strings.Split(c.Owner, ":")[0]) || !validID(strings.Split(c.Owner, ":")[1])) {
			r.errorf(join(q, "owner"), "%q: write numeric \"uid:gid\", e.g. \"0:0\"", c.Owner)
		}
		if !c.Exists && (c.Mode != "" || c.Owner != "") {
			r.errorf(q, "mode and owner cannot be checked on a path that must not exist")
		}
	}
	if c := t.Config; c != nil {
		q := join(p, "config")
		if c.User == "" && c.Entrypoint == nil && c.Env == nil {
			r.errorf(q, "check at least one of user, entrypoint, env")
		}
		for _, k := range sortedKeys(c.Env) {
			if !envNameRE.MatchString(k) {
				r.keyErrorf(join(join(q, "env"), k), "%q is not a valid environment variable name", k)
			}
		}
	}
	if c := t.Command; c != nil {
		q := join(p, "command")
		if len(c.Args) == 0 {
			r.errorf(join(q, "args"), "required: the command to run, e.g. [python3, --version]")
		}
		if c.Exit < 0 || c.Exit > 255 {
			r.errorf(join(q, "exit"), "%d: an exit status is 0-255", c.Exit)
		}
		validateMatch(r, join(q, "stdout"), c.Stdout)
		validateMatch(r, join(q, "stderr"), c.Stderr)
	}
	if c := t.Service; c != nil {
		q := join(p, "service")
		if c.Port < 1 || c.Port > 65535 {
			r.errorf(join(q, "port"), "%d: a port is 1-65535", c.Port)
		}
		if c.WaitCommand != nil && len(c.WaitCommand) == 0 {
			r.errorf(join(q, "wait_command"), "must name a command (leave it out for none)")
		}
		if c.Timeout < time.Second || c.Timeout > 10*time.Minute {
			r.errorf(join(q, "timeout"), "%s: must be between 1s and 10m", c.Timeout)
		}
		pr := join(q, "probe")
		switch {
		case (c.Probe.Args != nil) == (c.Probe.HTTP != nil):
			r.errorf(pr, "must have exactly one of args, http")
		case c.Probe.Args != nil && len(c.Probe.Args) == 0:
			r.errorf(join(pr, "args"), "must name a command")
		case c.Probe.HTTP != nil:
			h := c.Probe.HTTP
			if !strings.HasPrefix(h.Path, "/") {
				r.errorf(join(pr, "http.path"), "%q must start with /", h.Path)
			}
			if h.Status < 100 || h.Status > 599 {
				r.errorf(join(pr, "http.status"), "%d is not an HTTP status (100-599)", h.Status)
			}
		}
	}
}

func validateMatch(r *reporter, p string, m *Match) {
	if m == nil {
		return
	}
	if (m.Contains == "") == (m.Regex == "") {
		r.errorf(p, "must have exactly one of contains, regex")
		return
	}
	if m.Regex != "" {
		if _, err := regexp.Compile(m.Regex); err != nil {
			r.errorf(join(p, "regex"), "bad regular expression: %v", err)
		}
	}
}
