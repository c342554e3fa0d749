package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/resolve"
	"github.com/temper-dev/temper/internal/spec"
	"golang.org/x/sync/errgroup"
)

// checker is one check run: what it loaded and fetched is shared by
// every definition it checks.
type checker struct {
	opt Options
	// releases is each release loaded once per architecture for the run.
	releases  resolve.Releases
	debs      memo[string, []byte]
	sonames   memo[string, []string]
	changelog memo[string, *changelogResult]
	lifecycle memo[string, *EOL]
	// repoBases maps the SHA-256 of a designated repository's .deb to
	// the repository's URL (noteRepositoryDebs).
	repoBases sync.Map
	// localDebs maps the SHA-256 of a local_debs: .deb to its path in the
	// catalog (noteLocalDebs).
	localDebs sync.Map
	// debWork bounds the .deb downloads and unpacking of every definition
	// checked at once, however many changes each has.
	debWork limiter
}

// Check checks every definition under paths (files or directories, as
// temper lock finds them). The error is non-nil only when nothing could
// be checked; per-image failures are in the report.
func Check(ctx context.Context, paths []string, opt Options) (*Report, error) {
	if opt.Client == nil || opt.Debs == nil {
		return nil, errors.New("update: no archive client or .deb fetcher")
	}
	files, err := spec.RequireDefinitions(paths)
	if err != nil {
		return nil, err
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	par := opt.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	c := &checker{opt: opt, releases: resolve.LoadOnce(opt.Client), debWork: make(limiter, max(4, runtime.GOMAXPROCS(0)))}
	rep := &Report{Images: make([]*Image, len(files))}
	var mu sync.Mutex
	done := 0
	// Every definition is checked: a failure is its image's error, not the
	// group's, so it stops no other.
	var g errgroup.Group
	g.SetLimit(par)
	for i, f := range files {
		g.Go(func() error {
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
			return nil
		})
	}
	_ = g.Wait() // never an error: see above
	return rep, nil
}

// universe is the release's universe for arch, loaded once per check.
func (c *checker) universe(ctx context.Context, def *spec.Definition, arch string) (*resolve.Universe, error) {
	return c.releases.Universe(ctx, def.Debian.Release, def.Debian.Components, arch)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// checkOne checks one definition. When the archive state is the one the
// lock recorded (or an earlier check of this state found nothing), that
// is the answer; otherwise the definition is re-resolved and the new
// closure compared with the lock.
func (c *checker) checkOne(ctx context.Context, file string) *Image {
	img := &Image{Definition: file, Lock: spec.LockPath(file), Reasons: []string{}, Changes: []Change{}, Sources: []SourceUpdate{}}
	def, old, ok := readInputs(img, file)
	if !ok {
		return img
	}
	st, err := c.archiveState(ctx, def.Debian.Release)
	if err == nil {
		st, err = c.withRepositories(ctx, def, st)
	}
	if err != nil {
		img.Error = fmt.Sprintf("%s: %v", file, err)
		return img
	}
	img.EOL, err = c.lifecycleOf(ctx, def, st.key)
	if err != nil {
		img.Error = fmt.Sprintf("%s: lifecycle data: %v", file, err)
		return img
	}
	matches := old.Matches(def) && old.Release == def.Debian.Release
	memoKey := "temper check v1 " + sha256Hex(img.oldLock) + st.key
	if matches && c.unchanged(old, st, memoKey) {
		img.Unchanged = true
		c.finish(img)
	} else {
		if old.Architectures == nil { // only the header was read
			if old, err = spec.ParseLock(img.Lock, img.oldLock); err != nil {
				img.Error = err.Error()
				return img
			}
		}
		if !matches {
			var reasons []string
			reasons, img.relock = inputReasons(def, old)
			img.Reasons = append(img.Reasons, reasons...)
		}
		if err := c.plan(ctx, img, def, old); err != nil {
			img.Error = fmt.Sprintf("%s: %v", file, err)
			return img
		}
		c.finish(img)
		if len(img.Changes) == 0 && matches && c.opt.Cache != nil {
			_ = c.opt.Cache.PutRef(memoKey, []byte("unchanged")) // only an optimisation
		}
	}
	if len(def.Variants) > 0 {
		c.checkVariants(ctx, img, def, old, st)
	}
	return img
}

// readInputs loads the definition and its lock into img. ok is false when
// the check ends there: an error, or no lock yet (both recorded in img).
// The lock is parsed only as far as its header when it is in canonical
// form: the fast path needs no more, and the whole lock is parsed
// (strictly) when the image has to be re-resolved.
func readInputs(img *Image, file string) (def *spec.Definition, old *spec.Lock, ok bool) {
	def, err := spec.LoadDefinition(file)
	if err != nil {
		img.Error = err.Error()
		return nil, nil, false
	}
	img.Name, img.Release = def.Name, def.Debian.Release
	lockBytes, err := os.ReadFile(img.Lock)
	if errors.Is(err, fs.ErrNotExist) {
		img.Verdict = NotLocked
		img.Reasons = append(img.Reasons, "no lock: run temper lock "+file)
		return nil, nil, false
	}
	if err != nil {
		img.Error = err.Error()
		return nil, nil, false
	}
	old, ok = lockHeader(lockBytes)
	if !ok {
		if old, err = spec.ParseLock(img.Lock, lockBytes); err != nil {
			img.Error = err.Error()
			return nil, nil, false
		}
	}
	img.oldLock = lockBytes
	return def, old, true
}

// archiveState is a release's state in the archive now: the InRelease
// digest of each of its suites.
type archiveState struct {
	suites int
	repos  int               // designated repository suites (withRepositories)
	digest map[string]string // suite name → InRelease SHA-256
	// key names the state in memories (" suite=sha256" per suite, in order).
	key string
}

// archiveState fetches the release's InRelease files (and nothing else).
func (c *checker) archiveState(ctx context.Context, release string) (archiveState, error) {
	st, err := c.opt.Client.Status(ctx, release, nil)
	if err != nil {
		return archiveState{}, err
	}
	as := archiveState{suites: len(st.Suites), digest: map[string]string{}}
	var key strings.Builder
	for _, s := range st.Suites {
		as.digest[s.Ref.Name] = s.InReleaseSHA256
		key.WriteString(" " + s.Ref.Name + "=" + s.InReleaseSHA256)
	}
	as.key = key.String()
	return as, nil
}

// unchanged says whether the archive holds nothing new for a lock that
// still matches its definition: every suite is the one the lock recorded,
// or an earlier check of this lock against this state found nothing.
func (c *checker) unchanged(old *spec.Lock, st archiveState, memoKey string) bool {
	same := len(old.Suites) == st.suites && sameRepositories(old, st)
	for _, s := range old.Suites {
		if st.digest[s.Name] != s.InReleaseSHA256 {
			same = false
		}
	}
	if !same && c.opt.Cache != nil {
		if v, err := c.opt.Cache.GetRef(memoKey); err == nil && string(v) == "unchanged" {
			same = true
		}
	}
	return same
}

// plan re-resolves the definition exactly as temper lock would and
// compares the new closure with the old lock.
func (c *checker) plan(ctx context.Context, img *Image, def *spec.Definition, old *spec.Lock) error {
	nl, err := lock.Resolve(ctx, def, c.releases)
	if err != nil {
		return err
	}
	img.newLock = nl
	c.noteRepositoryDebs(old)
	c.noteRepositoryDebs(nl)
	c.noteLocalDebs(def, old)
	c.noteLocalDebs(def, nl)
	return c.diff(ctx, img, def, old, nl)
}

// finish sets the counts and the verdict.
func (c *checker) finish(img *Image) {
	var risky []string
	seenCVE := map[string]bool{}
	for _, ch := range img.Changes {
		switch ch.Kind {
		case Upgraded, Downgraded, Renamed, Rebuilt:
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
	case len(img.Changes) > 0 || img.relock:
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

// limiter bounds the work running at once.
type limiter chan struct{}

// do runs f when a slot is free.
func (l limiter) do(f func()) {
	l <- struct{}{}
	defer func() { <-l }()
	f()
}
