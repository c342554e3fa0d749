package update

// Variants (docs/variants.md) move with their stream: a definition's
// variants are checked with its runtime, each against the runtime's
// closure as it would be after the update (every shared package pinned at
// the runtime's version, as temper lock resolves them), and Apply writes
// the runtime's lock and its variants' together or none of them.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/resolve"
	"github.com/temper-dev/temper/internal/spec"
)

// verdictRank orders verdicts for a stream: the worst of its images wins.
var verdictRank = map[Verdict]int{UpToDate: 0, Updates: 1, Security: 2, NotLocked: 3, Blocked: 4, Failed: 5}

func worse(a, b Verdict) Verdict {
	if verdictRank[b] > verdictRank[a] {
		return b
	}
	return a
}

// checkVariants checks every variant of def after its runtime (img,
// finished) and folds their verdicts into the stream's. old is the
// runtime's lock as read (maybe only its header).
func (c *checker) checkVariants(ctx context.Context, img *Image, def *spec.Definition, old *spec.Lock, st archiveState) {
	var runtime *spec.Lock // the closure the variants are pinned to
	pins := func() (*spec.Lock, error) {
		if runtime != nil {
			return runtime, nil
		}
		switch {
		case img.newLock != nil:
			runtime = img.newLock
		case old.Architectures != nil:
			runtime = old
		default:
			l, err := spec.ParseLock(img.Lock, img.oldLock)
			if err != nil {
				return nil, err
			}
			runtime = l
		}
		return runtime, nil
	}
	// The runtime moves: every variant is re-resolved against its new
	// closure. Otherwise a variant whose lock matches the archive state is
	// unchanged like any lock.
	runtimeMoves := len(img.Changes) > 0 || img.relock
	img.own = img.Verdict
	allUnchanged := img.Unchanged
	for _, name := range def.VariantNames() {
		v := c.checkVariant(ctx, img, def, name, st, runtimeMoves, pins)
		img.Variants = append(img.Variants, v)
		allUnchanged = allUnchanged && v.Unchanged
		if v.Error != "" && img.Error == "" {
			img.Error = v.Error
		}
		if v.Verdict == Blocked || v.Verdict == NotLocked {
			for _, r := range v.Reasons {
				img.Reasons = append(img.Reasons, "variant "+name+": "+r)
			}
		}
		img.Verdict = worse(img.Verdict, v.Verdict)
	}
	img.Unchanged = allUnchanged
}

// checkVariant checks one variant's lock: the variant re-resolved with
// the runtime's closure (pins) pinned, compared with its lock.
func (c *checker) checkVariant(ctx context.Context, img *Image, def *spec.Definition, name string, st archiveState, runtimeMoves bool, pins func() (*spec.Lock, error)) *Image {
	vd, err := def.ForVariant(name)
	v := &Image{Definition: img.Definition, Name: img.Name, Release: img.Release, Variant: name,
		Reasons: []string{}, Changes: []Change{}, Sources: []SourceUpdate{}}
	if err != nil {
		v.Error, v.Verdict = err.Error(), Failed
		return v
	}
	v.Lock = vd.LockPath()
	data, err := os.ReadFile(v.Lock)
	if errors.Is(err, fs.ErrNotExist) {
		v.Verdict = NotLocked
		v.Reasons = append(v.Reasons, "no lock "+v.Lock+": run temper lock "+img.Definition)
		return v
	}
	if err != nil {
		v.Error, v.Verdict = err.Error(), Failed
		return v
	}
	v.oldLock = data
	old, ok := lockHeader(data)
	if !ok {
		if old, err = spec.ParseLock(v.Lock, data); err != nil {
			v.Error, v.Verdict = err.Error(), Failed
			return v
		}
	}
	matches := old.Matches(vd) && old.Release == vd.Debian.Release
	memoKey := "temper check variant v1 " + sha256Hex(data) + " runtime " + sha256Hex(img.oldLock) + st.key
	if !runtimeMoves && matches && c.unchanged(old, st, memoKey) {
		v.Unchanged = true
		c.finish(v)
		return v
	}
	if old.Architectures == nil {
		if old, err = spec.ParseLock(v.Lock, data); err != nil {
			v.Error, v.Verdict = err.Error(), Failed
			return v
		}
	}
	if !matches {
		var reasons []string
		reasons, v.relock = inputReasons(vd, old)
		v.Reasons = append(v.Reasons, reasons...)
	}
	runtime, err := pins()
	if err != nil {
		v.Error, v.Verdict = err.Error(), Failed
		return v
	}
	nl, err := lock.ResolveVariant(ctx, vd, runtime, c.releases)
	if err != nil {
		if refusedABI(err) {
			// The runtime's new closure (or the archive) breaks the
			// variant's ABI promise: neither moves until a human decides.
			v.refused = err.Error()
			v.Verdict = Blocked
			v.Reasons = append(v.Reasons, err.Error()+" (the stream's locks are left as they are)")
			return v
		}
		v.Error, v.Verdict = fmt.Sprintf("%s: variant %s: %v", img.Definition, name, err), Failed
		return v
	}
	v.newLock = nl
	c.noteRepositoryDebs(old)
	c.noteRepositoryDebs(nl)
	c.noteLocalDebs(vd, old)
	c.noteLocalDebs(vd, nl)
	if err := c.diff(ctx, v, vd, old, nl); err != nil {
		v.Error, v.Verdict = fmt.Sprintf("%s: variant %s: %v", img.Definition, name, err), Failed
		return v
	}
	c.finish(v)
	if len(v.Changes) == 0 && matches && !runtimeMoves && c.opt.Cache != nil {
		_ = c.opt.Cache.PutRef(memoKey, []byte("unchanged")) // only an optimisation
	}
	return v
}

// refusedABI says whether a variant's resolution failed on the ABI rule:
// its packages need other versions of packages the runtime pins.
func refusedABI(err error) bool {
	var abi *lock.ABIError
	var ue *resolve.UnsatisfiableError
	return errors.As(err, &abi) || (errors.As(err, &ue) && len(ue.Pinned) > 0)
}

// stream is an image and its variants, runtime first.
func (img *Image) stream() []*Image {
	return append([]*Image{img}, img.Variants...)
}

// toWrite says whether this lock has a new one to write: package changes,
// or catalog files it pins that changed (relock).
func (img *Image) toWrite() bool {
	return img.newLock != nil && (len(img.Changes) > 0 || img.relock)
}

// hasChanges says whether any lock of the stream has something to apply.
func (img *Image) hasChanges() bool {
	for _, m := range img.stream() {
		if m.toWrite() {
			return true
		}
	}
	return false
}

// streamABIRisk counts the stream's changes flagged abi-risk.
func (img *Image) streamABIRisk() int {
	n := 0
	for _, m := range img.stream() {
		n += m.Counts.ABIRisk
	}
	return n
}

// refusal is the first variant refused on the ABI rule ("" when none).
func (img *Image) refusal() string {
	for _, v := range img.Variants {
		if v.refused != "" {
			return "variant " + v.Variant + " refused: " + v.refused
		}
	}
	return ""
}

// writeStream writes every lock of the stream that has changes, all or
// nothing: when one write fails, those already written get their old
// bytes back. It returns the locks whose bytes changed.
func writeStream(img *Image) ([]string, error) {
	type pending struct {
		m    *Image
		data []byte
	}
	var todo []pending
	for _, m := range img.stream() {
		if !m.toWrite() {
			continue
		}
		data, err := m.newLock.Marshal()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.Lock, err)
		}
		todo = append(todo, pending{m, data})
	}
	var written []string
	for i, p := range todo {
		changed, err := spec.WriteFileAtomic(p.m.Lock, p.data, 0o644)
		if err != nil {
			for _, q := range todo[:i] {
				_, _ = spec.WriteFileAtomic(q.m.Lock, q.m.oldLock, 0o644) // best effort: restore the stream
			}
			return nil, fmt.Errorf("%s: %w (the stream's other locks were restored)", p.m.Lock, err)
		}
		if changed {
			written = append(written, p.m.Lock)
		}
	}
	return written, nil
}
