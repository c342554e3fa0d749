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
