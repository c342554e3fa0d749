package dashboard

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/temper-dev/temper/internal/pipeline"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
)

// Urgencies in the order pages show them (Debian's words).
var Urgencies = []string{"critical", "high", "medium", "low", "unimportant", "not yet assigned"}

func urgencyRank(u string) int {
	if i := slices.Index(Urgencies, u); i >= 0 {
		return i
	}
	return len(Urgencies)
}

// Stream states, worst first.
const (
	StateFrozen   = "frozen"
	StateBlocked  = "blocked"
	StatePending  = "pending"
	StateUpToDate = "up to date"
)

// catalog is one read of every stream: the status rows and the newest
// releases (with their scans), from two store reads.
type catalog struct {
	status   []release.StreamStatus
	overview map[string]store.Overview
	key      string // changes whenever a release is published or a channel moves
}

func (d *Dashboard) catalog(ctx context.Context) (*catalog, error) {
	ov, err := d.cfg.Service.Store.Overview(ctx)
	if err != nil {
		return nil, err
	}
	// The status rows are release's own (channels, next promotion),
	// computed from the overview just read rather than a second read.
	svc := *d.cfg.Service
	svc.Store = overviewOnce{Store: svc.Store, ov: ov}
	st, err := svc.Status(ctx)
	if err != nil {
		return nil, err
	}
	c := &catalog{status: st, overview: make(map[string]store.Overview, len(ov))}
	h := sha256.New()
	var b [8]byte
	num := func(v int64) { binary.LittleEndian.PutUint64(b[:], uint64(v)); h.Write(b[:]) }
	for _, o := range ov {
		c.overview[o.Stream.Name] = o
		h.Write([]byte(o.Stream.Name + "\x00" + o.Stream.EOL + "\x00"))
		num(o.Stream.FrozenAt.UnixNano())
		num(o.Newest.ID)
		num(o.Newest.RolledBack.UnixNano())
		for _, hd := range o.Heads {
			h.Write([]byte(hd.Channel))
			num(hd.Release.ID)
			num(hd.Since.UnixNano())
		}
	}
	c.key = hex.EncodeToString(h.Sum(nil))
	return c, nil
}

// overviewOnce is a store whose Overview is one already read.
type overviewOnce struct {
	store.Store
	ov []store.Overview
}

func (o overviewOnce) Overview(context.Context) ([]store.Overview, error) { return o.ov, nil }

// state is a stream's state: frozen (end of life), blocked (its newest
// release was refused by the gate or rolled back), pending (a promotion
// is due), up to date.
func stateOf(s release.StreamStatus, o store.Overview) (string, string) {
	n := o.Newest
	switch {
	case s.Frozen:
		return StateFrozen, release.FreezeMessage(o.Stream)
	case n.ID != 0 && !n.RolledBack.IsZero():
		return StateBlocked, "newest release rolled back: " + n.RollbackReason
	case n.ID != 0 && !n.Gate.Passed:
		return StateBlocked, "gate: " + n.Gate.Summary
	case s.Next != nil:
		w := "promotion to " + s.Next.To + " due"
		if s.Next.Waiting != "" {
			w += ", waiting for " + s.Next.Waiting
		}
		return StatePending, w
	}
	return StateUpToDate, ""
}

// debianOf is the Debian release a stream's version names ("3.11-bookworm").
func debianOf(stream string) string {
	_, v, _ := release.SplitStream(stream)
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return v[i+1:]
	}
	return ""
}

func runtimeOf(stream string) string {
	n, _, _ := release.SplitStream(stream)
	return n
}

// history is every stream's releases and moves, with what the latency
// page derives from them; rebuilt when the catalog key changes.
type history struct {
	key     string
	streams []release.History
	built   time.Time

	// page is the latency page computed from streams, for the week it
	// was computed in.
	mu   sync.Mutex
	page *latencyPage
	week time.Time
}

// histories returns every stream's history, from the cache while the
// catalog's key holds; one build at a time (callers during a build wait
// for it).
func (d *Dashboard) histories(ctx context.Context, c *catalog) (*history, error) {
	d.building.Lock()
	defer d.building.Unlock()
	d.mu.Lock()
	h := d.cache
	d.mu.Unlock()
	if h != nil && h.key == c.key {
		return h, nil
	}
	h = &history{key: c.key, built: d.now()}
	for _, s := range c.status {
		sh, err := d.cfg.Service.History(ctx, s.Stream)
		if err != nil {
			return nil, err
		}
		h.streams = append(h.streams, sh)
	}
	d.mu.Lock()
	d.cache = h
	d.mu.Unlock()
	return h, nil
}

// warm rebuilds the history cache in the background when the catalog
// moved, so the latency page finds it ready.
func (d *Dashboard) warm(c *catalog) {
	d.mu.Lock()
	stale := d.cache == nil || d.cache.key != c.key
	if !stale || d.warming {
		d.mu.Unlock()
		return
	}
	d.warming = true
	d.mu.Unlock()
	go func() {
		defer func() {
			d.mu.Lock()
			d.warming = false
			d.mu.Unlock()
		}()
		if _, err := d.histories(context.Background(), c); err != nil {
			d.cfg.Logger.Warn("dashboard: history cache", "error", err)
		}
	}()
}

// finding is one open finding of a stream's newest release.
type finding struct {
	Stream  string
	Release string
	pipeline.FindingDetail
}

func newestFindings(c *catalog) []finding {
	var out []finding
	for _, s := range c.status {
		n := c.overview[s.Stream].Newest
		if n.ID == 0 {
			continue
		}
		for _, f := range pipeline.Findings(n.Scan) {
			out = append(out, finding{Stream: s.Stream, Release: n.Tag, FindingDetail: f})
		}
	}
	return out
}

// quantile is the q-quantile (nearest rank) of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
