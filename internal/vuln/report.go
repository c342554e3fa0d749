package vuln

// Status is a finding's status (or, for Verdict, the not-a-finding
// outcomes fixed and not_affected).
type Status string

// Finding statuses, per docs/scan.md's matching table.
const (
	Fixable      Status = "fixable"      // Debian ships a fixed version; `temper update` removes it
	Unimportant  Status = "unimportant"  // Debian rates it unimportant
	EndOfLife    Status = "end-of-life"  // Debian no longer supports the package in this release
	NoDSA        Status = "no-dsa"       // minor: fixed in a point release, if at all
	Postponed    Status = "postponed"    // no-dsa, to be fixed later
	Ignored      Status = "ignored"      // no-dsa, Debian will not fix it
	Open         Status = "open"         // no fix yet
	Undetermined Status = "undetermined" // Debian has not yet decided whether it is affected
)

// Verdicts that are not findings, for OpenVEX.
const (
	Fixed       Status = "fixed"        // the locked version includes Debian's fix
	NotAffected Status = "not_affected" // Debian never shipped the vulnerable code (fixed_version "0")
)

// NotCoveredStatus is the status of a locked package that Debian's
// security data does not cover: one taken from a designated repository
// (the lock's repository:), whose versions Debian's tracker knows nothing
// of. Such a package is never matched against the tracker, and never
// reported clean: it is listed in Image.NotCovered.
const NotCoveredStatus Status = "not-covered"

// NotCovered is one source version of an image whose binary packages come
// from a designated repository, not from Debian.
type NotCovered struct {
	Source        string   `json:"source"`
	SourceVersion string   `json:"source_version"`
	Packages      []string `json:"packages"`
	Repository    string   `json:"repository"`
	Status        Status   `json:"status"` // always NotCoveredStatus
	Reason        string   `json:"reason"`
}

// NotCoveredReason is what a report says of a NotCovered package.
const NotCoveredReason = "not covered by Debian's security data (from designated repository %s)"

// Binary is one locked binary package built from a finding's source.
type Binary struct {
	Name, Version, Architecture string
}

// Finding is one vulnerability of one source version in an image.
type Finding struct {
	ID             string   `json:"id"`
	Source         string   `json:"source"`
	SourceVersion  string   `json:"source_version"`
	Packages       []string `json:"packages"`
	Status         Status   `json:"status"`
	FixedVersion   string   `json:"fixed_version"`
	Urgency        string   `json:"urgency"`
	UrgencyFromNVD bool     `json:"urgency_from_nvd"`
	KEV            *KEV     `json:"kev"`
	EPSS           *EPSS    `json:"epss"`
	Description    string   `json:"description"`
	// Comment is Debian's no-dsa note, e.g. "Minor issue".
	Comment string `json:"comment,omitempty"`

	// Binaries are the locked packages behind Packages, for OpenVEX purls.
	Binaries []Binary `json:"-"`
}

// Image is the scan of one lock: a definition, its release, all its
// architectures (a finding lists the binaries of every architecture).
type Image struct {
	Definition    string    `json:"definition"`
	Release       string    `json:"release"`
	Architectures []string  `json:"architectures"`
	Findings      []Finding `json:"findings"`
	// NotCovered lists the packages from designated repositories, which
	// Debian's security data does not cover (omitted when there are none).
	NotCovered []NotCovered `json:"not_covered,omitempty"`

	// Verdicts are the fixed and not_affected outcomes (no finding), which
	// only OpenVEX reports.
	Verdicts []Finding `json:"-"`
}

// urgencyRank orders Debian's urgencies for policy thresholds. "not yet
// assigned" ranks below low: the tracker marks most new entries so, and a
// threshold that blocked on it would block nearly everything.
var urgencyRank = map[string]int{
	"unimportant":      0,
	"end-of-life":      0,
	"not yet assigned": 1,
	"":                 1,
	"low":              2,
	"medium":           3,
	"high":             4,
}

// UrgencyRank returns the rank of an urgency (higher is more urgent) and
// whether it is one temper knows.
func UrgencyRank(u string) (int, bool) {
	r, ok := urgencyRank[u]
	return r, ok
}
