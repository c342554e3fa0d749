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
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/debian/relation"
	"github.com/temper-dev/temper/internal/debian/version"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/resolve"
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
	Definition string  `json:"definition"`
	Lock       string  `json:"lock"`
	Name       string  `json:"name,omitempty"`
	Release    string  `json:"release,omitempty"`
	Verdict    Verdict `json:"verdict"`
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

	newLock *spec.Lock
	oldLock []byte
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
	Kind    string `json:"kind"` // upgraded, downgraded, added, removed, renamed
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
}

// Frozen says that the Debian archive will publish nothing more for the
// release: past its LTS, or past its EOL when no LTS date is known.
func (e *EOL) Frozen() bool {
	return e != nil && (e.PastLTS || (e.PastEOL && e.EOLLTS == ""))
}

// Message is the human sentence for an EOL status, "" when supported.
func (e *EOL) Message() string {
	if e == nil || !e.PastEOL {
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

type checker struct {
	opt       Options
	universes memo[string, *resolve.Universe]
	debs      memo[string, []byte]
	sonames   memo[string, []string]
	changelog memo[string, *changelogResult]
	lifecycle memo[string, *EOL]
	debSem    chan struct{}
}

// Check checks every definition under paths (files or directories, as
// temper lock finds them). The error is non-nil only when nothing could
// be checked; per-image failures are in the report.
func Check(ctx context.Context, paths []string, opt Options) (*Report, error) {
	if opt.Client == nil || opt.Debs == nil {
		return nil, errors.New("update: no archive client or .deb fetcher")
	}
	files, err := lock.FindDefinitions(paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no definitions found in %s (definitions are *.yaml files other than *.lock.yaml and temper.yaml)", strings.Join(paths, ", "))
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	par := opt.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	c := &checker{opt: opt, debSem: make(chan struct{}, max(4, runtime.GOMAXPROCS(0)))}
	rep := &Report{Images: make([]*Image, len(files))}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			img := c.checkOne(ctx, f)
			if img.Error != "" {
				img.Verdict = Failed
			}
			rep.Images[i] = img
			if opt.Progress != nil {
				mu.Lock()
				done++
				opt.Progress(done, len(files))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return rep, nil
}

func (c *checker) universe(ctx context.Context) func(string, []string, string) (*resolve.Universe, error) {
	return func(release string, comps []string, arch string) (*resolve.Universe, error) {
		return c.universes.do(release+"|"+strings.Join(comps, ",")+"|"+arch, func() (*resolve.Universe, error) {
			rel, err := c.opt.Client.LoadReleaseComponents(ctx, release, arch, comps)
			if err != nil {
				return nil, err
			}
			return resolve.NewUniverse(rel), nil
		})
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (c *checker) checkOne(ctx context.Context, file string) *Image {
	img := &Image{Definition: file, Lock: spec.LockPath(file), Reasons: []string{}, Changes: []Change{}, Sources: []SourceUpdate{}}
	def, err := spec.LoadDefinition(file)
	if err != nil {
		img.Error = err.Error()
		return img
	}
	img.Name, img.Release = def.Name, def.Debian.Release
	lockBytes, err := os.ReadFile(img.Lock)
	if errors.Is(err, fs.ErrNotExist) {
		img.Verdict = NotLocked
		img.Reasons = append(img.Reasons, "no lock: run temper lock "+file)
		return img
	}
	if err != nil {
		img.Error = err.Error()
		return img
	}
	// The fast path needs only the lock's header; the whole lock is parsed
	// (strictly) when the image has to be re-resolved.
	old, ok := lockHeader(lockBytes)
	if !ok {
		if old, err = spec.ParseLock(img.Lock, lockBytes); err != nil {
			img.Error = err.Error()
			return img
		}
	}
	img.oldLock = lockBytes
	st, err := c.opt.Client.Status(ctx, def.Debian.Release, nil)
	if err != nil {
		img.Error = fmt.Sprintf("%s: %v", file, err)
		return img
	}
	current := map[string]string{}
	var state strings.Builder
	for _, s := range st.Suites {
		current[s.Ref.Name] = s.InReleaseSHA256
		state.WriteString(" " + s.Ref.Name + "=" + s.InReleaseSHA256)
	}
	img.EOL, err = c.lifecycleOf(ctx, def, state.String())
	if err != nil {
		img.Error = fmt.Sprintf("%s: lifecycle data: %v", file, err)
		return img
	}
	matches := old.Matches(def) && old.Release == def.Debian.Release
	same := matches && len(old.Suites) == len(st.Suites)
	for _, s := range old.Suites {
		if current[s.Name] != s.InReleaseSHA256 {
			same = false
		}
	}
	memoKey := "temper check v1 " + sha256Hex(lockBytes) + state.String()
	if !same && matches && c.opt.Cache != nil {
		if v, err := c.opt.Cache.GetRef(memoKey); err == nil && string(v) == "unchanged" {
			same = true
		}
	}
	if same {
		img.Unchanged = true
		c.finish(img)
		return img
	}
	if !matches {
		img.Reasons = append(img.Reasons, "the definition changed since its lock was written: the plan includes those changes")
	}
	if old.Architectures == nil {
		if old, err = spec.ParseLock(img.Lock, lockBytes); err != nil {
			img.Error = err.Error()
			return img
		}
	}
	nl, err := lock.Resolve(def, c.universe(ctx))
	if err != nil {
		img.Error = fmt.Sprintf("%s: %v", file, err)
		return img
	}
	img.newLock = nl
	if err := c.diff(ctx, img, def, old, nl); err != nil {
		img.Error = fmt.Sprintf("%s: %v", file, err)
		return img
	}
	c.finish(img)
	if len(img.Changes) == 0 && matches && c.opt.Cache != nil {
		_ = c.opt.Cache.PutRef(memoKey, []byte("unchanged")) // only an optimisation
	}
	return img
}

// finish sets the counts and the verdict.
func (c *checker) finish(img *Image) {
	var risky []string
	seenCVE := map[string]bool{}
	for _, ch := range img.Changes {
		switch ch.Kind {
		case Upgraded, Downgraded, Renamed:
			img.Counts.Upgraded++
		case Added:
			img.Counts.Added++
		case Removed:
			img.Counts.Removed++
		}
		if ch.Security {
			img.Counts.Security++
		}
		if ch.ABIRisk != "" {
			img.Counts.ABIRisk++
			risky = append(risky, fmt.Sprintf("%s (%s): %s", ch.Name, ch.Arch, ch.ABIRisk))
		}
	}
	for _, s := range img.Sources {
		for _, cve := range s.CVEs {
			seenCVE[cve] = true
		}
	}
	img.Counts.CVEs = len(seenCVE)
	switch {
	case len(risky) > 0:
		img.Verdict = Blocked
		img.Reasons = append(img.Reasons, "abi-risk: "+strings.Join(dedupe(risky), "; ")+" (temper update applies it only with --allow-abi-change)")
	case img.Counts.Security > 0:
		img.Verdict = Security
	case len(img.Changes) > 0:
		img.Verdict = Updates
	default:
		img.Verdict = UpToDate
	}
	if msg := img.EOL.Message(); msg != "" {
		img.Reasons = append(img.Reasons, msg)
		// Past LTS (or past EOL when no LTS is announced) the Debian archive
		// publishes nothing more for the release: the stream is frozen.
		if img.EOL.Frozen() && img.Verdict == UpToDate {
			img.Verdict = Blocked
		}
	}
}

func dedupe(s []string) []string {
	sort.Strings(s)
	return compact(s)
}

func compact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

type pkgKey struct{ name, arch string }

// diff compares the old and new closures of every architecture.
func (c *checker) diff(ctx context.Context, img *Image, def *spec.Definition, old, nl *spec.Lock) error {
	archSet := map[string]bool{}
	for a := range old.Architectures {
		archSet[a] = true
	}
	for a := range nl.Architectures {
		archSet[a] = true
	}
	archs := make([]string, 0, len(archSet))
	for a := range archSet {
		archs = append(archs, a)
	}
	sort.Strings(archs)
	type pending struct {
		idx      int
		old, new spec.LockedPackage
	}
	var checks []pending
	for _, arch := range archs {
		om, nm := packagesOf(old, arch), packagesOf(nl, arch)
		var added, removed []spec.LockedPackage
		for k, np := range nm {
			op, ok := om[k]
			if !ok {
				added = append(added, np)
				continue
			}
			cmp := version.CompareStrings(np.Version, op.Version)
			if cmp == 0 {
				continue // same version (maybe now listed in another suite): nothing to apply
			}
			ch := Change{Kind: Upgraded, Arch: arch, Name: np.Name, Old: op.Version, New: np.Version, Suite: np.Suite, Security: isSecurity(np.Suite), Source: np.Source}
			if cmp < 0 {
				ch.Kind = Downgraded
			}
			img.Changes = append(img.Changes, ch)
			checks = append(checks, pending{len(img.Changes) - 1, op, np})
		}
		for k, op := range om {
			if _, ok := nm[k]; !ok {
				removed = append(removed, op)
			}
		}
		sortPkgs(added)
		sortPkgs(removed)
		// A removed package replaced by a renamed one (libssl3 → libssl3t64).
		u, err := c.universe(ctx)(def.Debian.Release, def.Debian.Components, arch)
		if err != nil {
			return err
		}
		usedAdded := map[int]bool{}
		for _, op := range removed {
			j := -1
			for i, np := range added {
				if !usedAdded[i] && renames(u.Release(), np, op) {
					j = i
					break
				}
			}
			if j < 0 {
				img.Changes = append(img.Changes, Change{Kind: Removed, Arch: arch, Name: op.Name, Old: op.Version, Source: op.Source})
				continue
			}
			usedAdded[j] = true
			np := added[j]
			img.Changes = append(img.Changes, Change{Kind: Renamed, Arch: arch, Name: np.Name, OldName: op.Name, Old: op.Version, New: np.Version,
				Suite: np.Suite, Security: isSecurity(np.Suite), Source: np.Source,
				ABIRisk: fmt.Sprintf("%s is replaced by the renamed package %s", op.Name, np.Name)})
			checks = append(checks, pending{len(img.Changes) - 1, op, np})
		}
		for i, np := range added {
			if !usedAdded[i] {
				img.Changes = append(img.Changes, Change{Kind: Added, Arch: arch, Name: np.Name, New: np.Version, Suite: np.Suite, Security: isSecurity(np.Suite), Source: np.Source})
			}
		}
	}
	img.Sources = sourceUpdates(old, nl, img.Changes)
	// ABI: SONAMEs the old package shipped that the new one does not.
	var wg sync.WaitGroup
	for _, p := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			risk, note := c.abiRisk(ctx, p.old, p.new)
			ch := &img.Changes[p.idx]
			if risk != "" {
				if ch.ABIRisk != "" {
					ch.ABIRisk += "; "
				}
				ch.ABIRisk += risk
			}
			ch.Note = note
		}()
	}
	// CVEs: per upgraded source package.
	for i := range img.Sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.explain(ctx, &img.Sources[i], def, nl)
		}()
	}
	wg.Wait()
	sort.SliceStable(img.Changes, func(i, j int) bool {
		a, b := img.Changes[i], img.Changes[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Arch < b.Arch
	})
	return nil
}

func packagesOf(l *spec.Lock, arch string) map[pkgKey]spec.LockedPackage {
	m := map[pkgKey]spec.LockedPackage{}
	if a := l.Architectures[arch]; a != nil {
		for _, p := range a.Packages {
			m[pkgKey{p.Name, p.Architecture}] = p
		}
	}
	return m
}

func sortPkgs(ps []spec.LockedPackage) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
}

func isSecurity(suite string) bool { return strings.HasSuffix(suite, "-security") }

// renames says whether np (added) takes the place of op (removed): its
// Provides or Replaces name op, or it is the same source's library under a
// new name (libfoo1 → libfoo2, libssl3 → libssl3t64).
func renames(rel *archive.Release, np, op spec.LockedPackage) bool {
	for _, p := range rel.Versions(np.Name) {
		if p.Version != np.Version {
			continue
		}
		for _, field := range []string{p.Provides, p.Replaces} {
			if field == "" {
				continue
			}
			rels, err := relation.Parse(field)
			if err != nil {
				continue
			}
			for _, r := range rels {
				for _, alt := range r.Alternatives {
					if alt.Name == op.Name {
						return true
					}
				}
			}
		}
		break
	}
	return np.Source == op.Source && stem(np.Name) == stem(op.Name)
}

// stem strips a library package's ABI suffix: digits, dots, "t64", "-" and
// "+" at the end of the name.
func stem(name string) string {
	name = strings.TrimSuffix(name, "t64")
	return strings.TrimRight(name, "0123456789.-+")
}

func lockItem(p spec.LockedPackage) pool.Item {
	return pool.Item{Name: p.Name, Version: p.Version, Suite: p.Suite, Filename: p.Filename, SHA256: p.SHA256, Size: p.Size}
}

func archiveItem(p *archive.Package) pool.Item {
	return pool.Item{Name: p.Name, Version: p.Version, Suite: p.Suite, Filename: p.Filename, SHA256: strings.ToLower(p.SHA256), Size: p.Size}
}

// deb fetches one .deb (verified, cached), once per check.
func (c *checker) deb(ctx context.Context, it pool.Item) ([]byte, error) {
	return c.debs.do(it.SHA256, func() ([]byte, error) {
		c.debSem <- struct{}{}
		defer func() { <-c.debSem }()
		out, _, err := c.opt.Debs.Fetch(ctx, []pool.Item{it})
		if err != nil {
			return nil, err
		}
		return out[0], nil
	})
}

func debName(it pool.Item) string {
	return it.Name + "_" + it.Version + ".deb"
}

// sonamesOf returns the SONAMEs a locked package ships. Packages that
// declare no shared libraries in their control data (no shlibs or symbols
// file) and are not named lib* are not unpacked.
func (c *checker) sonamesOf(ctx context.Context, p spec.LockedPackage) ([]string, error) {
	return c.sonames.do(p.SHA256, func() ([]string, error) {
		it := lockItem(p)
		data, err := c.deb(ctx, it)
		if err != nil {
			return nil, err
		}
		c.debSem <- struct{}{}
		defer func() { <-c.debSem }()
		return Sonames(it.Name, debName(it), data)
	})
}

// abiRisk compares the SONAMEs of the old and the new package.
func (c *checker) abiRisk(ctx context.Context, op, np spec.LockedPackage) (risk, note string) {
	olds, err := c.sonamesOf(ctx, op)
	if err != nil {
		return "", fmt.Sprintf("shared libraries of %s %s not compared: %v", op.Name, op.Version, err)
	}
	if len(olds) == 0 {
		return "", ""
	}
	news, err := c.sonamesOf(ctx, np)
	if err != nil {
		return "", fmt.Sprintf("shared libraries of %s %s not compared: %v", np.Name, np.Version, err)
	}
	have := map[string]bool{}
	for _, s := range news {
		have[s] = true
	}
	var gone []string
	for _, s := range olds {
		if !have[s] {
			gone = append(gone, s)
		}
	}
	if len(gone) == 0 {
		return "", ""
	}
	return fmt.Sprintf("SONAME %s shipped by %s %s is gone in %s %s", strings.Join(gone, ", "), op.Name, op.Version, np.Name, np.Version), ""
}

// sourceUpdates lists the source packages whose version went up, with
// the lowest locked and highest new source version.
func sourceUpdates(old, nl *spec.Lock, changes []Change) []SourceUpdate {
	srcs := map[string]bool{}
	sec := map[string]bool{}
	for _, ch := range changes {
		if ch.Kind == Upgraded || ch.Kind == Renamed {
			srcs[ch.Source] = true
			sec[ch.Source] = sec[ch.Source] || ch.Security
		}
	}
	lo, hi := map[string]string{}, map[string]string{}
	for _, a := range old.Architectures {
		for _, p := range a.Packages {
			if v, ok := lo[p.Source]; srcs[p.Source] && (!ok || version.CompareStrings(p.SourceVersion, v) < 0) {
				lo[p.Source] = p.SourceVersion
			}
		}
	}
	for _, a := range nl.Architectures {
		for _, p := range a.Packages {
			if v, ok := hi[p.Source]; srcs[p.Source] && (!ok || version.CompareStrings(p.SourceVersion, v) > 0) {
				hi[p.Source] = p.SourceVersion
			}
		}
	}
	var out []SourceUpdate
	for s := range srcs {
		if lo[s] == "" || hi[s] == "" || version.CompareStrings(hi[s], lo[s]) <= 0 {
			continue // a binNMU or a rename within one source version: no new changelog entries
		}
		out = append(out, SourceUpdate{Source: s, Old: lo[s], New: hi[s], Security: sec[s], CVEs: []string{}, Versions: []string{}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

type changelogResult struct {
	entries []ChangelogEntry
	from    string
}

// explain fills in the CVEs and urgency of one source update from the
// changelog of one of its new binary packages: the smallest one of the new
// closure first, then the release's other binaries of that source.
func (c *checker) explain(ctx context.Context, su *SourceUpdate, def *spec.Definition, nl *spec.Lock) {
	res, err := c.changelog.do(su.Source+" "+su.New, func() (*changelogResult, error) {
		var cands []pool.Item
		seen := map[string]bool{}
		var inClosure []spec.LockedPackage
		for _, a := range nl.Architectures {
			for _, p := range a.Packages {
				if p.Source == su.Source && p.SourceVersion == su.New {
					inClosure = append(inClosure, p)
				}
			}
		}
		sort.Slice(inClosure, func(i, j int) bool {
			if inClosure[i].Size != inClosure[j].Size {
				return inClosure[i].Size < inClosure[j].Size
			}
			return inClosure[i].Name < inClosure[j].Name
		})
		for _, p := range inClosure {
			if !seen[p.Name] {
				seen[p.Name] = true
				cands = append(cands, lockItem(p))
			}
		}
		tried := 0
		try := func(it pool.Item) (*changelogResult, error) {
			tried++
			data, err := c.deb(ctx, it)
			if err != nil {
				return nil, err
			}
			c.debSem <- struct{}{}
			entries, err := DebChangelog(it.Name, debName(it), data)
			<-c.debSem
			if err != nil {
				return nil, err
			}
			return &changelogResult{entries: entries, from: it.Name + " " + it.Version}, nil
		}
		var lastErr error
		for _, it := range cands {
			r, err := try(it)
			if err == nil {
				return r, nil
			}
			lastErr = err
		}
		// Other binaries of the same source in the release (shared doc
		// directories point at one of them).
		for _, arch := range def.Architectures {
			u, err := c.universe(ctx)(def.Debian.Release, def.Debian.Components, arch)
			if err != nil {
				return nil, err
			}
			var others []*archive.Package
			for _, name := range u.Release().Names() {
				if seen[name] {
					continue
				}
				for _, p := range u.Release().Versions(name) {
					if p.Source == su.Source && p.SourceVersion == su.New {
						others = append(others, p)
						break
					}
				}
			}
			sort.Slice(others, func(i, j int) bool { return others[i].Size < others[j].Size })
			for _, p := range others {
				if tried >= 6 {
					break
				}
				seen[p.Name] = true
				r, err := try(archiveItem(p))
				if err == nil {
					return r, nil
				}
				lastErr = err
			}
		}
		if errors.Is(lastErr, errNoChangelog) || lastErr == nil {
			return nil, fmt.Errorf("no changelog.Debian.gz found in %d .deb(s) of source %s %s", tried, su.Source, su.New)
		}
		return nil, lastErr
	})
	if err != nil {
		su.Note = err.Error()
		return
	}
	su.ChangelogFrom = res.from
	su.CVEs, su.Urgency, su.Versions = Between(res.entries, su.Old, su.New)
	if su.CVEs == nil {
		su.CVEs = []string{}
	}
	if su.Versions == nil {
		su.Versions = []string{}
	}
}

// memo runs a function once per key, concurrently safe.
type memo[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*memoCall[V]
}

type memoCall[V any] struct {
	once sync.Once
	v    V
	err  error
}

func (m *memo[K, V]) do(k K, f func() (V, error)) (V, error) {
	m.mu.Lock()
	if m.m == nil {
		m.m = map[K]*memoCall[V]{}
	}
	c, ok := m.m[k]
	if !ok {
		c = &memoCall[V]{}
		m.m[k] = c
	}
	m.mu.Unlock()
	c.once.Do(func() { c.v, c.err = f() })
	return c.v, c.err
}

var (
	headerDefRE   = regexp.MustCompile(`^definition: \{file: ([A-Za-z0-9_./+~-]+), sha256: ([0-9a-f]{64})\}$`)
	headerRelRE   = regexp.MustCompile(`^release: ([a-z0-9]+)$`)
	headerSuiteRE = regexp.MustCompile(`^  - \{name: ([a-z0-9-]+), inrelease_sha256: ([0-9a-f]{64}), date: ([0-9TZ:.+-]+)\}$`)
)

// lockHeader reads the header of a lock in the canonical form spec.Lock
// Marshal writes (definition, release, suites), without parsing the
// packages. ok is false for anything else; the caller then parses the
// whole lock. The returned lock has nil Architectures.
func lockHeader(data []byte) (l *spec.Lock, ok bool) {
	l = &spec.Lock{}
	rest := data
	state := 0
	for len(rest) > 0 {
		var line []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, nil
		}
		switch state {
		case 0:
			if string(line) != spec.LockHeader {
				return nil, false
			}
		case 1:
			m := headerDefRE.FindSubmatch(line)
			if m == nil {
				return nil, false
			}
			l.Definition = spec.LockDefinition{File: string(m[1]), SHA256: string(m[2])}
		case 2:
			m := headerRelRE.FindSubmatch(line)
			if m == nil {
				return nil, false
			}
			l.Release = string(m[1])
		case 3:
			if string(line) != "suites:" {
				return nil, false
			}
		default:
			if string(line) == "architectures:" {
				return l, len(l.Suites) > 0
			}
			m := headerSuiteRE.FindSubmatch(line)
			if m == nil {
				return nil, false
			}
			d, err := time.Parse(time.RFC3339Nano, string(m[3]))
			if err != nil {
				return nil, false
			}
			l.Suites = append(l.Suites, spec.LockSuite{Name: string(m[1]), InReleaseSHA256: string(m[2]), Date: d})
		}
		state++
	}
	return nil, false
}
