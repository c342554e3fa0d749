package spec

import (
	"net/url"
	"path"
	"regexp"
	"strings"
)

var (
	repoNameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	fingerprintRE = regexp.MustCompile(`^[0-9A-F]{40}$`)
	suiteNameRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	flatDirRE     = regexp.MustCompile(`^(\./|([A-Za-z0-9][A-Za-z0-9._-]*/)+)$`)
	componentRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]*$`)
	// pinPackageRE is a package name, a glob over names, or a /regex/.
	pinPackageRE = regexp.MustCompile(`^([a-z0-9*?\[][a-z0-9+.*?\[\]!-]*|/.+/)$`)
)

func (d *Definition) validateRepositories(r *reporter) {
	names := map[string]int{}
	for i, repo := range d.Repositories {
		p := index("repositories", i)
		switch {
		case repo.Name == "":
			r.errorf(join(p, "name"), "required")
		case !repoNameRE.MatchString(repo.Name):
			r.errorf(join(p, "name"), "%q: use lowercase letters, digits and -, e.g. php or pgdg", repo.Name)
		case repo.Name == "debian":
			r.errorf(join(p, "name"), "\"debian\" is Debian's own archive (debian.release); name the repository after its publisher, e.g. php")
		default:
			if j, dup := names[repo.Name]; dup {
				r.errorf(join(p, "name"), "duplicate repository %q (also repositories[%d])", repo.Name, j)
			}
			names[repo.Name] = i
		}
		validateRepoURL(r, join(p, "url"), repo.URL)
		validateRepoSuites(r, p, repo)
		switch k := repo.Key; {
		case k == "":
			r.errorf(join(p, "key"), "required: the repository's public key file, relative to the definition (e.g. keys/%s.asc)", repo.Name)
		case strings.HasPrefix(k, "/") || path.Clean(k) != k:
			r.errorf(join(p, "key"), "%q must be a clean path relative to the definition, e.g. keys/%s.asc", k, repo.Name)
		}
		switch fp := repo.Fingerprint; {
		case fp == "":
			r.errorf(join(p, "fingerprint"), "required: pin the key's full fingerprint (40 hex digits, gpg --show-keys %s); an unpinned key is never trusted", repo.Key)
		case !fingerprintRE.MatchString(fp):
			hint := ""
			if norm := strings.ToUpper(strings.Join(strings.Fields(fp), "")); fingerprintRE.MatchString(norm) {
				hint = "; write " + norm
			}
			r.errorf(join(p, "fingerprint"), "%q is not a full key fingerprint: 40 upper-case hex digits without spaces%s", fp, hint)
		}
		if repo.DefaultPriority != 0 {
			validatePriority(r, join(p, "default_priority"), repo.DefaultPriority)
		}
		for j, pin := range repo.Pins {
			pp := index(join(p, "pins"), j)
			if len(pin.Packages) == 0 {
				r.errorf(join(pp, "packages"), "list at least one package name or glob")
			}
			for k, pkg := range pin.Packages {
				if !pinPackageRE.MatchString(pkg) {
					r.errorf(index(join(pp, "packages"), k), "%q is not a package name, a glob such as php8.3* or a /regular expression/", pkg)
				}
			}
			validatePriority(r, join(pp, "priority"), pin.Priority)
		}
	}
}

func validatePriority(r *reporter, p string, prio int) {
	switch {
	case prio == 0:
		r.errorf(p, "0 is not a valid apt priority; use a negative number to never install, 1..999 to prefer less or more, 1000 and above to allow downgrades")
	case prio < -32768 || prio > 32767:
		r.errorf(p, "%d is out of apt's range (-32768..32767)", prio)
	}
}

func validateRepoURL(r *reporter, p, raw string) {
	if raw == "" {
		r.errorf(p, "required: the repository's base URL, e.g. http://<host>/php")
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		r.errorf(p, "%q: %v", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		r.errorf(p, "%q: use an http:// or https:// URL (the InRelease signature, not the transport, is what is trusted)", raw)
	case u.Host == "":
		r.errorf(p, "%q: no host", raw)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		r.errorf(p, "%q: a base URL has no query, fragment or credentials", raw)
	case strings.HasSuffix(raw, "/"):
		r.errorf(p, "%q: write it without the trailing slash", raw)
	}
}

func validateRepoSuites(r *reporter, p string, repo Repository) {
	if len(repo.Suites) == 0 {
		r.errorf(join(p, "suites"), "list at least one suite (e.g. [%s]), or a flat repository's directory [\"./\"]", "bookworm")
		return
	}
	flat := 0
	seen := map[string]bool{}
	for i, s := range repo.Suites {
		sp := index(join(p, "suites"), i)
		switch {
		case strings.HasSuffix(s, "/"):
			flat++
			if !flatDirRE.MatchString(s) {
				r.errorf(sp, "%q: a flat repository's directory is ./ or a relative path ending in /", s)
			}
		case !suiteNameRE.MatchString(s):
			r.errorf(sp, "%q is not a suite name", s)
		}
		if seen[s] {
			r.errorf(sp, "duplicate suite %q", s)
		}
		seen[s] = true
	}
	if flat > 0 && len(repo.Suites) > 1 {
		r.errorf(join(p, "suites"), "a flat repository has exactly one directory (e.g. [\"./\"]); declare another repository for another one")
	}
	if flat > 0 && len(repo.Components) > 0 {
		r.errorf(join(p, "components"), "a flat repository (suite %q) has no components; remove them", repo.Suites[0])
	}
	cs := map[string]bool{}
	for i, c := range repo.Components {
		cp := index(join(p, "components"), i)
		if !componentRE.MatchString(c) {
			r.errorf(cp, "%q is not a component name", c)
		}
		if cs[c] {
			r.errorf(cp, "duplicate component %q", c)
		}
		cs[c] = true
	}
}

// FieldError reports a problem found after loading (a key that does not
// match its pin, a pin its repository cannot satisfy) at the definition's
// field path, as file:line:column like the loader's own errors.
func (d *Definition) FieldError(path, format string, args ...any) error {
	r := &reporter{pos: newPositions(d.File)}
	if d.pos != nil {
		r.pos.vals, r.pos.keys = d.pos.vals, d.pos.keys
	}
	r.errorf(path, format, args...)
	return r.errs.err()
}
