package archive

import (
	"fmt"
	"strings"

	"github.com/temper-dev/temper/internal/debian/release"
)

// Mirrors are the base URLs of the two Debian archives a release lives in:
// the main archive (http://<mirror>/debian) and the security archive
// (http://<mirror>/debian-security).
type Mirrors struct {
	Archive  string
	Security string
}

// SuiteRef names one suite of a release and the archive it lives in.
type SuiteRef struct {
	Name string // e.g. "bookworm-security"; a flat repository's directory ("./", "sub/")
	Base string // the archive base URL, without trailing slash
	// Flat is a flat repository (apt's "deb URL dir/"): InRelease and
	// Packages sit in Base/Name, there are no dists/ and no components.
	Flat bool
	// Keyring verifies this suite's InRelease instead of the client's
	// (Debian's) keyring: a designated repository's own pinned key. Only
	// that keyring is used, so Debian's keys never validate a third-party
	// repository and a third-party key never validates Debian's suites.
	Keyring *release.Keyring
	// Repository names the designated repository the suite belongs to; ""
	// for Debian's own suites.
	Repository string
}

// dir is the URL of the suite's directory, with a trailing slash.
func (s SuiteRef) dir() string {
	if s.Flat {
		d := strings.Trim(s.Name, "/")
		if d == "" || d == "." {
			return s.Base + "/"
		}
		return s.Base + "/" + strings.TrimPrefix(d, "./") + "/"
	}
	return s.Base + "/dists/" + s.Name + "/"
}

// InReleaseURL is where the suite's signed metadata lives.
func (s SuiteRef) InReleaseURL() string { return s.dir() + "InRelease" }

// SuitesOf returns the suites that make up a release, in apt's order of
// preference for equal versions: the release itself, its -updates suite
// (both in the main archive) and its -security suite (in the security
// archive). A release is never mixed with another one: that is what keeps a
// stream's ABI stable.
func SuitesOf(release string, m Mirrors) ([]SuiteRef, error) {
	if err := validRelease(release); err != nil {
		return nil, err
	}
	if m.Archive == "" {
		return nil, fmt.Errorf("release %s: no Debian archive configured; pass --archive http://<mirror>/debian or add one to the machine's apt sources", release)
	}
	refs := []SuiteRef{
		{Name: release, Base: trimSlash(m.Archive)},
		{Name: release + "-updates", Base: trimSlash(m.Archive)},
	}
	if m.Security == "" {
		return nil, fmt.Errorf("release %s: no Debian security archive configured; pass --security-archive http://<mirror>/debian-security or add a %s-security source to the machine's apt sources", release, release)
	}
	refs = append(refs, SuiteRef{Name: release + "-security", Base: trimSlash(m.Security)})
	return refs, nil
}

func validRelease(r string) error {
	if r == "" {
		return fmt.Errorf("no Debian release named (e.g. --release bookworm)")
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return fmt.Errorf("release %q: a Debian release is a codename such as bookworm or trixie (lower-case letters and digits), not a suite like %q", r, r)
		}
	}
	switch r {
	case "stable", "testing", "unstable", "oldstable", "sid", "experimental":
		return fmt.Errorf("release %q: name a codename (bookworm, trixie, ...), not an alias that moves: a stream must never change release on its own", r)
	}
	return nil
}

func trimSlash(s string) string { return strings.TrimRight(s, "/") }
