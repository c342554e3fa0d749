package update

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// ApplyOptions configure Apply.
type ApplyOptions struct {
	// AllowABIChange applies updates flagged abi-risk too.
	AllowABIChange bool
	// DryRun plans without writing.
	DryRun bool
}

// Applied is what Apply did (or would do) with one image and its
// variants (one stream: their locks are written together or not at all).
type Applied struct {
	Image *Image `json:"-"`
	// Action is one of the Action constants.
	Action string `json:"action"`
	Reason string `json:"reason,omitempty"`
	// Locks are the lock files written (or, in a dry run, to be written):
	// the runtime's and its variants' that have changes.
	Locks []string `json:"locks,omitempty"`
}

// What Apply did with an image's lock.
const (
	ActionWritten    = "written"     // the new lock was written
	ActionUnchanged  = "unchanged"   // the new lock has the bytes of the old one
	ActionWouldWrite = "would write" // dry run
	ActionSkipped    = "skipped"     // updates with ABI risk, not allowed
	ActionError      = "error"       // the lock could not be written (Reason)
	ActionNone       = "none"        // nothing to apply (Reason says why)
)

// Apply writes the new lock of every image that has updates, atomically
// and only when its bytes change, and touches nothing else. An image's
// variants move with it: the locks of the runtime and of its variants
// that have changes are written together, or none of them (a variant the
// runtime's update would refuse on the ABI rule skips the whole stream,
// whatever the options). Images whose updates carry ABI risk are skipped
// unless opt.AllowABIChange is set; a lock is always rewritten as a whole,
// so its closure stays consistent.
func Apply(r *Report, opt ApplyOptions) ([]Applied, error) {
	var out []Applied
	var errs []string
	for _, img := range r.Images {
		a := Applied{Image: img, Action: ActionNone}
		switch {
		case img.Verdict == Failed || img.Verdict == NotLocked:
			a.Reason = string(img.Verdict)
		case img.refusal() != "":
			a.Action, a.Reason = ActionSkipped, img.refusal()
		case !img.hasChanges():
			a.Reason = "no updates"
		case img.streamABIRisk() > 0 && !opt.AllowABIChange:
			a.Action, a.Reason = ActionSkipped, "abi-risk (use --allow-abi-change to apply)"
		case opt.DryRun:
			a.Action = ActionWouldWrite
			for _, m := range img.stream() {
				if m.toWrite() {
					a.Locks = append(a.Locks, m.Lock)
				}
			}
		default:
			written, err := writeStream(img)
			a.Action, a.Locks = ActionWritten, written
			if len(written) == 0 {
				a.Action = ActionUnchanged
			}
			if err != nil {
				a.Action, a.Reason, a.Locks = ActionError, err.Error(), nil
				errs = append(errs, err.Error())
			}
		}
		out = append(out, a)
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%d lock(s) could not be written: %s", len(errs), strings.Join(errs, "; "))
	}
	return out, nil
}

// grouped is one package change across the architectures it applies to.
type grouped struct {
	Change
	Archs []string
}

func groupChanges(changes []Change) []grouped {
	var out []grouped
	idx := map[string]int{}
	for _, ch := range changes {
		k := strings.Join([]string{ch.Kind, ch.Name, ch.OldName, ch.Old, ch.New, ch.Suite, ch.ABIRisk}, "\x00")
		if i, ok := idx[k]; ok {
			out[i].Archs = append(out[i].Archs, ch.Arch)
			continue
		}
		idx[k] = len(out)
		c := ch
		c.Arch = ""
		out = append(out, grouped{Change: c, Archs: []string{ch.Arch}})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (g grouped) line() string {
	archs := strings.Join(g.Archs, ", ")
	var s string
	switch g.Kind {
	case Added:
		s = fmt.Sprintf("%s %s added (%s)", g.Name, g.New, g.Suite)
	case Removed:
		s = fmt.Sprintf("%s %s removed", g.Name, g.Old)
	case Renamed:
		s = fmt.Sprintf("%s %s → %s %s (%s)", g.OldName, g.Old, g.Name, g.New, g.Suite)
	case Rebuilt:
		s = fmt.Sprintf("%s %s rebuilt (%s)", g.Name, g.New, g.Suite)
	default:
		s = fmt.Sprintf("%s %s → %s (%s)", g.Name, g.Old, g.New, g.Suite)
	}
	s += " [" + archs + "]"
	if g.Security {
		s += " security"
	}
	if g.ABIRisk != "" {
		s += " ABI RISK: " + g.ABIRisk
	}
	return s
}

// WriteChangelog writes one image's changes as a commit message or PR
// body: a subject line, the packages old → new, and the CVEs fixed; then
// the same for each of its variants that has changes.
func WriteChangelog(w io.Writer, img *Image) {
	name := img.Name
	if name == "" {
		name = img.Definition
	}
	// The subject counts the stream: packages changed in any of its locks
	// (once each), CVEs fixed in any.
	pkgs, cves, security := map[string]bool{}, map[string]bool{}, false
	for _, m := range img.stream() {
		for _, ch := range m.Changes {
			pkgs[ch.Name] = true
			security = security || ch.Security
		}
		for _, s := range m.Sources {
			for _, c := range s.CVEs {
				cves[c] = true
			}
		}
	}
	subject := fmt.Sprintf("%s: update %d package(s)", name, len(pkgs))
	if len(cves) > 0 {
		subject += fmt.Sprintf(", fix %d CVE(s)", len(cves))
	}
	if security {
		subject += " (security)"
	}
	fmt.Fprintf(w, "%s\n", subject)
	for _, m := range img.stream() {
		if m != img && len(m.Changes) == 0 {
			continue
		}
		writeLockChanges(w, m)
	}
	for _, r := range img.Reasons {
		fmt.Fprintf(w, "\nNote: %s\n", r)
	}
}

// writeLockChanges writes one lock's part of a changelog.
func writeLockChanges(w io.Writer, img *Image) {
	fmt.Fprintf(w, "\n%s (%s)\n\nPackages:\n", img.Lock, img.Release)
	for _, g := range groupChanges(img.Changes) {
		fmt.Fprintf(w, "- %s\n", g.line())
	}
	fixed := false
	for _, s := range img.Sources {
		if len(s.CVEs) == 0 {
			continue
		}
		if !fixed {
			fmt.Fprintf(w, "\nCVEs fixed:\n")
			fixed = true
		}
		u := ""
		if s.Urgency != "" {
			u = ", urgency " + s.Urgency
		}
		fmt.Fprintf(w, "- %s %s → %s%s: %s\n", s.Source, s.Old, s.New, u, strings.Join(s.CVEs, ", "))
	}
}

// WriteTable writes the report for people: a table with one row per image
// and one per variant (NAME.yaml [VARIANT]: its own verdict and counts),
// then the details of every image that has any.
func WriteTable(w io.Writer, r *Report) {
	fmt.Fprintf(w, "%-40s %-10s %-11s %8s %8s %5s %7s %5s\n", "IMAGE", "RELEASE", "VERDICT", "UPGRADED", "SECURITY", "CVES", "ADD/RM", "ABI")
	for _, img := range r.Images {
		for _, m := range img.stream() {
			verdict := m.Verdict
			if m == img && img.own != "" {
				verdict = img.own // the stream's is the worst of the rows
			}
			fmt.Fprintf(w, "%-40s %-10s %-11s %8d %8d %5d %7s %5d\n", m.label(), m.Release, verdict,
				m.Counts.Upgraded, m.Counts.Security, m.Counts.CVEs,
				fmt.Sprintf("%d/%d", m.Counts.Added, m.Counts.Removed), m.Counts.ABIRisk)
		}
	}
	for _, img := range r.Images {
		for _, m := range img.stream() {
			writeDetails(w, m, m == img)
		}
	}
}

// label is the image's name in tables: the definition, and the variant.
func (img *Image) label() string {
	if img.Variant != "" {
		return img.Definition + " [" + img.Variant + "]"
	}
	return img.Definition
}

// writeDetails writes one lock's changes, reasons and sources (a variant's
// reasons are the stream's too: they are written with the runtime).
func writeDetails(w io.Writer, img *Image, runtime bool) {
	reasons := img.Reasons
	if !runtime {
		reasons = nil
	}
	if len(img.Changes) == 0 && len(reasons) == 0 && img.Error == "" {
		return
	}
	fmt.Fprintf(w, "\n%s (%s): %s\n", img.label(), img.Release, img.Verdict)
	if img.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", img.Error)
	}
	for _, reason := range reasons {
		fmt.Fprintf(w, "  ! %s\n", reason)
	}
	for _, g := range groupChanges(img.Changes) {
		fmt.Fprintf(w, "  %s\n", g.line())
		if g.Note != "" {
			fmt.Fprintf(w, "    note: %s\n", g.Note)
		}
	}
	for _, s := range img.Sources {
		switch {
		case s.Note != "":
			fmt.Fprintf(w, "  source %s %s → %s: %s\n", s.Source, s.Old, s.New, s.Note)
		case len(s.CVEs) > 0:
			fmt.Fprintf(w, "  source %s %s → %s (urgency %s): %s\n", s.Source, s.Old, s.New, s.Urgency, strings.Join(s.CVEs, ", "))
		default:
			fmt.Fprintf(w, "  source %s %s → %s (urgency %s): no CVE named\n", s.Source, s.Old, s.New, s.Urgency)
		}
	}
}
