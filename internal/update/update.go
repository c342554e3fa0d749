// Package update answers "what changed in Debian for these images, and
// does it matter?": it compares each definition's lock with the archive as
// it is now and plans new locks.
//
// A check first fetches each suite's signed InRelease (once per suite for
// the whole catalog). When every digest equals the one the lock recorded,
// the image is up to date and no index is read. Otherwise the release is
// loaded once per architecture for the whole catalog, each changed
// definition is re-resolved exactly as `temper lock` would, and the new
// closure is compared with the lock: packages upgraded (and from which
// suite: -security means a security update), added, removed or renamed.
// For every upgraded source package it reads the new changelog from one of
// its .debs and collects the CVE IDs and urgency of the entries between the
// locked and the new version. It flags ABI risk (a shared-library SONAME
// that disappears, or a package swapped for a renamed one) and the end of
// the release's security support, from the archive's own distro-info-data.
//
// Apply writes the planned locks, atomically, skipping risky ones unless
// told otherwise.
package update

import (
	"fmt"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/spec"
)

// Verdict is an image's overall state.
type Verdict string

// Verdicts, from best to worst for the exit status (see docs/check.md).
const (
	// UpToDate: the lock is what `temper lock` would write today (possibly
	// with newer suite digests), and the release is supported.
	UpToDate Verdict = "up-to-date"
	// Updates: newer packages are available, none from a -security suite.
	Updates Verdict = "updates"
	// Security: at least one newer package comes from a -security suite.
	Security Verdict = "security"
	// Blocked: a human must act. Either an update carries ABI risk (temper
	// update skips it without --allow-abi-change), or the release is
	// frozen: past the end of its LTS (or of its regular security support
	// when Debian announced no LTS), nothing more will come for it, and the
	// stream must be moved to a newer release by hand. Past the end of
	// regular security support alone, every check says so loudly but the
	// verdict still follows the updates (LTS fixes keep arriving in the
	// -security suite).
	Blocked Verdict = "blocked"
	// NotLocked: the definition has no lock yet (run temper lock).
	NotLocked Verdict = "not-locked"
	// Failed: the check could not be done (see Error).
	Failed Verdict = "error"
)

// Change kinds.
const (
	Upgraded   = "upgraded"
	Downgraded = "downgraded"
	Added      = "added"
	Removed    = "removed"
	Renamed    = "renamed"
	// Rebuilt: the same version with other bytes (a local_debs: .deb
	// rewritten in the catalog, or a repository republishing a version).
	Rebuilt = "rebuilt"
)

// Options configure a check.
type Options struct {
	Client *archive.Client
	// Debs fetches .debs (changelogs, shared libraries, distro-info-data)
	// into the shared cache.
	Debs *pool.Fetcher
	// Cache remembers, per lock and archive state, checks that found nothing
	// to do and the release's lifecycle data, so that the next check of an
	// unchanged state reads no index. nil disables the memory.
	Cache *cache.Cache
	// Now is the clock for end-of-life dates; time.Now when nil.
	Now func() time.Time
	// Parallel bounds the definitions checked at once; GOMAXPROCS when 0.
	Parallel int
	// Progress, when set, is called after each definition is checked.
	Progress func(done, total int)
}

// Report is the result of a check.
type Report struct {
	Images []*Image `json:"images"`
}

// Image is one definition's check.
type Image struct {
	Definition string `json:"definition"`
	Lock       string `json:"lock"`
	Name       string `json:"name,omitempty"`
	Release    string `json:"release,omitempty"`
	// Variant names the variant whose lock this is ("" for the runtime).
	Variant string `json:"variant,omitempty"`
	// Verdict is the stream's: the worst of the runtime's own and its
	// variants' (each variant's is in Variants). Counts, Changes and
	// Sources are this lock's own.
	Verdict Verdict `json:"verdict"`
	// Unchanged is true when the archive state was known to hold nothing
	// new for this lock (equal InRelease digests, or an earlier check of
	// the same state): no index was read for it.
	Unchanged bool `json:"unchanged"`
	// Reasons explain a blocked verdict and anything else worth a human's
	// attention (end of life, definition edited since the lock).
	Reasons []string       `json:"reasons"`
	Counts  Counts         `json:"counts"`
	Changes []Change       `json:"changes"`
	Sources []SourceUpdate `json:"sources"`
	EOL     *EOL           `json:"eol,omitempty"`
	Error   string         `json:"error,omitempty"`
	// Variants are the definition's variants, checked with it against its
	// closure after the update (docs/variants.md): they move together.
	Variants []*Image `json:"variants,omitempty"`

	newLock *spec.Lock
	oldLock []byte
	// relock: files the lock pins (local_debs:, files: src:) changed in
	// the catalog: the new lock must be written even with no package
	// change.
	relock bool
	// refused: the variant cannot follow the runtime (the ABI rule).
	refused string
	// own is the runtime's verdict before its variants' were folded in.
	own Verdict
}

// Counts summarise Changes.
type Counts struct {
	Upgraded int `json:"upgraded"`
	Security int `json:"security"`
	Added    int `json:"added"`
	Removed  int `json:"removed"`
	ABIRisk  int `json:"abi_risk"`
	CVEs     int `json:"cves"`
}

// Change is one package difference for one architecture.
type Change struct {
	Kind    string `json:"kind"` // upgraded, downgraded, added, removed, renamed, rebuilt
	Arch    string `json:"arch"`
	Name    string `json:"name"`
	OldName string `json:"old_name,omitempty"` // renamed: the package it replaces
	Old     string `json:"old_version,omitempty"`
	New     string `json:"new_version,omitempty"`
	// Suite the new version comes from.
	Suite    string `json:"suite,omitempty"`
	Security bool   `json:"security"`
	Source   string `json:"source"`
	// ABIRisk says why applying this change could break binaries built
	// against the old package ("" when none was found).
	ABIRisk string `json:"abi_risk,omitempty"`
	// Note is a non-fatal problem met while checking this change.
	Note string `json:"note,omitempty"`
}

// SourceUpdate is one upgraded source package and what its changelog says
// happened between the locked and the new version.
type SourceUpdate struct {
	Source   string   `json:"source"`
	Old      string   `json:"old_version"`
	New      string   `json:"new_version"`
	Security bool     `json:"security"`
	Urgency  string   `json:"urgency,omitempty"`
	CVEs     []string `json:"cves"`
	// Versions are the changelog entries covered, newest first.
	Versions []string `json:"versions"`
	// ChangelogFrom is the binary package whose changelog was read.
	ChangelogFrom string `json:"changelog_from,omitempty"`
	Note          string `json:"note,omitempty"`
}

// EOL is the release's lifecycle, from distro-info-data's debian.csv.
type EOL struct {
	Release string `json:"release"`
	// Dates as YYYY-MM-DD, "" when Debian has not announced them.
	EOL     string `json:"eol,omitempty"`
	EOLLTS  string `json:"eol_lts,omitempty"`
	EOLELTS string `json:"eol_elts,omitempty"`
	// PastEOL: regular security support has ended.
	PastEOL bool `json:"past_eol"`
	// PastLTS: LTS has ended too; the Debian archive gets no more updates.
	PastLTS bool `json:"past_lts"`
	// From names the distro-info-data version the data came from.
	From string `json:"from"`
	// Repositories are the designated repositories that declare their own
	// end of support (end_of_support: in the definition).
	Repositories []RepositoryEOL `json:"repositories,omitempty"`
}

// RepositoryEOL is a designated repository's own end of support.
type RepositoryEOL struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// EndOfSupport is the last supported day, YYYY-MM-DD.
	EndOfSupport string `json:"end_of_support"`
	// Past: the day is over; the repository publishes nothing more for
	// the stream, which is frozen.
	Past bool `json:"past"`
}

// Frozen says that the Debian archive will publish nothing more for the
// release: past its LTS, or past its EOL when no LTS date is known.
func (e *EOL) Frozen() bool {
	return e != nil && (e.PastLTS || (e.PastEOL && e.EOLLTS == "") || e.repositoryPast())
}

func (e *EOL) repositoryPast() bool {
	for _, r := range e.Repositories {
		if r.Past {
			return true
		}
	}
	return false
}

// Message is the human sentence for an EOL status, "" when supported:
// the Debian release's, then each designated repository's past its own
// end of support.
func (e *EOL) Message() string {
	if e == nil {
		return ""
	}
	var msgs []string
	if m := e.releaseMessage(); m != "" {
		msgs = append(msgs, m)
	}
	for _, r := range e.Repositories {
		if !r.Past {
			continue
		}
		m := fmt.Sprintf("END OF SUPPORT: repository %s (%s) reached its end of support on %s (end_of_support in the definition)", r.Name, r.URL, r.EndOfSupport)
		if end := e.releaseEnd(); end != "" && r.EndOfSupport < end {
			m += fmt.Sprintf(", before Debian %s's own end on %s", e.Release, end)
		}
		msgs = append(msgs, m+"; it publishes nothing more for this stream, which is frozen: move it to a supported repository or release")
	}
	return strings.Join(msgs, "; ")
}

// releaseEnd is the last day the Debian archive publishes for the release:
// its LTS end, or its EOL when no LTS is announced ("" when unknown).
func (e *EOL) releaseEnd() string {
	if e.EOLLTS != "" {
		return e.EOLLTS
	}
	return e.EOL
}

// releaseMessage is the sentence for the Debian release's own status.
func (e *EOL) releaseMessage() string {
	if !e.PastEOL {
		return ""
	}
	msg := fmt.Sprintf("END OF LIFE: Debian %s reached the end of regular security support on %s", e.Release, e.EOL)
	if e.EOLLTS != "" {
		if e.PastLTS {
			msg += fmt.Sprintf("; LTS ended on %s", e.EOLLTS)
		} else {
			msg += fmt.Sprintf("; LTS until %s", e.EOLLTS)
		}
	}
	if e.EOLELTS != "" {
		msg += fmt.Sprintf("; ELTS (outside the Debian archive) until %s", e.EOLELTS)
	}
	return msg + "; move the stream to a newer release"
}

// Exit statuses of temper check, documented in docs/check.md.
const (
	ExitUpToDate = 0
	ExitError    = 1
	ExitUpdates  = 10
)

// ExitStatus is 0 when every image is up to date, 1 when any check
// failed, and 10 when any image has updates, is blocked or is not locked.
func (r *Report) ExitStatus() int {
	st := ExitUpToDate
	for _, img := range r.Images {
		switch img.Verdict {
		case Failed:
			return ExitError
		case UpToDate:
		default:
			st = ExitUpdates
		}
	}
	return st
}
