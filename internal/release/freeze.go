package release

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/store"
)

// EOLDate parses a stream's end-of-life date; ok is false when unknown.
func EOLDate(st store.Stream) (time.Time, bool) {
	d, err := time.Parse(time.DateOnly, st.EOL)
	return d, err == nil
}

// Frozen reports whether a stream is frozen at now: it was frozen
// before, or now is past the day its Debian support ends.
func Frozen(st store.Stream, now time.Time) bool {
	if !st.FrozenAt.IsZero() {
		return true
	}
	d, ok := EOLDate(st)
	return ok && !now.Before(d.AddDate(0, 0, 1))
}

// checkFrozen refuses when the stream is frozen, recording the freeze the
// first time it is seen, and names the streams of the same image that are
// not frozen (a stream never moves to a newer Debian release on its own).
func (s *Service) checkFrozen(ctx context.Context, st store.Stream, channel string) error {
	now := s.now()
	if !Frozen(st, now) {
		return nil
	}
	if st.FrozenAt.IsZero() {
		if err := s.Store.Freeze(ctx, st.Name, now); err != nil {
			return err
		}
		if err := s.markEndOfLife(ctx, st); err != nil {
			return err
		}
	}
	reason := "end of life"
	if st.EOL != "" {
		reason = "Debian support for its release ended " + st.EOL
	}
	if alt := s.newerStreams(ctx, st, now); len(alt) > 0 {
		reason += "; streams of the same image still supported: " + strings.Join(alt, ", ")
	}
	return &Refusal{Stream: st.Name, Channel: channel, Rule: "frozen", Reason: reason}
}

func (s *Service) newerStreams(ctx context.Context, st store.Stream, now time.Time) []string {
	name, _, err := SplitStream(st.Name)
	if err != nil {
		return nil
	}
	all, err := s.Store.Streams(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, o := range all {
		if n, _, _ := SplitStream(o.Name); n == name && o.Name != st.Name && !Frozen(o, now) {
			out = append(out, o.Name)
		}
	}
	return out
}

// FreezeMessage is the line `temper status` prints for a frozen stream.
func FreezeMessage(st store.Stream) string {
	if st.EOL == "" {
		return "frozen"
	}
	return fmt.Sprintf("frozen: end of life %s", st.EOL)
}

// EndOfLifeAnnotation marks the release a frozen stream's production tag
// keeps, with the date its Debian support ended.
const EndOfLifeAnnotation = "dev.temper.end-of-life"

// Annotator sets an annotation on what a tag names without changing the
// image (LayoutTags: the index.json entry). A registry cannot do that
// without a new digest, so there the mark is the status line only.
type Annotator interface {
	Annotate(ctx context.Context, repo, tag, key, value string) error
}

// markEndOfLife annotates the production tag of a stream being frozen.
func (s *Service) markEndOfLife(ctx context.Context, st store.Stream) error {
	a, ok := s.Tags.(Annotator)
	if !ok {
		return nil
	}
	name, version, err := SplitStream(st.Name)
	if err != nil {
		return err
	}
	chs := s.channels()
	heads, err := s.heads(ctx, st.Name)
	if err != nil {
		return err
	}
	last := chs[len(chs)-1]
	if _, ok := heads[last.Name]; !ok {
		return nil
	}
	value := st.EOL
	if value == "" {
		value = "frozen " + s.now().Format(time.DateOnly)
	}
	return a.Annotate(ctx, name, last.Tag(version), EndOfLifeAnnotation, value)
}
