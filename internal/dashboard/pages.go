package dashboard

import (
	"errors"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/pipeline"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
)

type totals struct {
	Streams, UpToDate, Pending, Blocked, Frozen, KEV, Open int
}

type chanCell struct {
	Channel string
	Tag     string // the channel's moving tag
	Release string // "" when the channel holds nothing
	Age     time.Duration
}

type count struct {
	Urgency string
	N       int
}

type row struct {
	Stream, Runtime, Debian string
	Channels                []chanCell
	Findings                []count
	Open, KEV               int
	State, StateNote        string
	EOL                     string
	EOLState                string // past, soon, ok
	Next                    *release.Next
	// Check is the server's last check of the stream and the lock's
	// commit (zero when not recorded); CheckAge is how long ago.
	Check    store.Check
	CheckAge time.Duration
}

// lastChecks are the server's records of each stream's last check (nil
// when the store keeps none).
func (d *Dashboard) lastChecks(r *http.Request) map[string]store.Check {
	ck, err := store.AsChecks(d.cfg.Service.Store)
	if err != nil {
		return nil
	}
	m, err := ck.LastChecks(r.Context())
	if err != nil {
		d.cfg.Logger.Warn("dashboard: last checks", "error", err)
		return nil
	}
	return m
}

func (rw *row) setCheck(checks map[string]store.Check, now time.Time) {
	rw.Check = checks[rw.Stream]
	if !rw.Check.CheckedAt.IsZero() {
		rw.CheckAge = now.Sub(rw.Check.CheckedAt)
	}
}

type group struct {
	Name string
	Rows []row
}

type overviewPage struct {
	base
	Totals   totals
	Groups   []group
	Shown    int
	Channels []string
	Debians  []string
	States   []string
	Filter   struct{ Debian, State, Group string }
}

func (d *Dashboard) channelNames() []string {
	chs := d.cfg.Service.Channels
	if len(chs) == 0 {
		chs = release.DefaultChannels()
	}
	out := make([]string, len(chs))
	for i, c := range chs {
		out[i] = c.Name
	}
	return out
}

func eolState(eol string, now time.Time) string {
	t, err := time.Parse(time.DateOnly, eol)
	switch {
	case err != nil:
		return ""
	case !now.Before(t.AddDate(0, 0, 1)):
		return "past"
	case now.AddDate(0, 6, 0).After(t):
		return "soon"
	}
	return "ok"
}

func (d *Dashboard) rowOf(s release.StreamStatus, o store.Overview, chans []string, now time.Time) row {
	r := row{Stream: s.Stream, Runtime: runtimeOf(s.Stream), Debian: debianOf(s.Stream), KEV: s.KEV, EOL: s.EOL, EOLState: eolState(s.EOL, now), Next: s.Next}
	r.State, r.StateNote = stateOf(s, o)
	held := map[string]release.ChannelStatus{}
	for _, c := range s.Channels {
		held[c.Channel] = c
	}
	_, version, _ := release.SplitStream(s.Stream)
	for i, ch := range chans {
		c := held[ch]
		tag := version + "-" + ch
		if i == len(chans)-1 {
			tag = version
		}
		r.Channels = append(r.Channels, chanCell{Channel: ch, Tag: tag, Release: c.Release, Age: c.Age})
	}
	for _, u := range Urgencies {
		if n := s.Findings[u]; n > 0 {
			r.Findings = append(r.Findings, count{u, n})
			if u != "unimportant" {
				r.Open += n
			}
		}
	}
	return r
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request, s *session) {
	c, err := d.catalog(r.Context())
	if err != nil {
		d.fail(w, r, s, http.StatusInternalServerError, err.Error())
		return
	}
	if d.cfg.WarmHistory {
		d.warm(c)
	}
	p := overviewPage{base: d.base(s, "Overview", "overview"), Channels: d.channelNames(),
		States: []string{StateUpToDate, StatePending, StateBlocked, StateFrozen}}
	q := r.URL.Query()
	p.Filter.Debian, p.Filter.State, p.Filter.Group = q.Get("release"), q.Get("state"), q.Get("group")
	if p.Filter.Group == "" {
		p.Filter.Group = "runtime"
	}
	now := d.now()
	debians := map[string]bool{}
	groups := map[string]*group{}
	var order []string
	checks := d.lastChecks(r)
	for _, st := range c.status {
		rw := d.rowOf(st, c.overview[st.Stream], p.Channels, now)
		rw.setCheck(checks, now)
		p.Totals.Streams++
		switch rw.State {
		case StateUpToDate:
			p.Totals.UpToDate++
		case StatePending:
			p.Totals.Pending++
		case StateBlocked:
			p.Totals.Blocked++
		case StateFrozen:
			p.Totals.Frozen++
		}
		p.Totals.KEV += rw.KEV
		p.Totals.Open += rw.Open
		if rw.Debian != "" {
			debians[rw.Debian] = true
		}
		if (p.Filter.Debian != "" && rw.Debian != p.Filter.Debian) || (p.Filter.State != "" && rw.State != p.Filter.State) {
			continue
		}
		key := rw.Runtime
		switch p.Filter.Group {
		case "release":
			key = rw.Debian
		case "state":
			key = rw.State
		case "none":
			key = "All streams"
		}
		g := groups[key]
		if g == nil {
			g = &group{Name: key}
			groups[key] = g
			order = append(order, key)
		}
		g.Rows = append(g.Rows, rw)
		p.Shown++
	}
	sort.Strings(order)
	for _, k := range order {
		p.Groups = append(p.Groups, *groups[k])
	}
	for k := range debians {
		p.Debians = append(p.Debians, k)
	}
	sort.Strings(p.Debians)
	d.render(w, http.StatusOK, "overview", p)
}

type releaseRow struct {
	release.ReleaseHistory
	Reached     []chanTime
	FastTracked bool
}

type chanTime struct {
	Channel string
	At      time.Time
}

type streamPage struct {
	base
	Row      row
	Version  string
	Releases []releaseRow
	Moves    []store.Move
	Failures []store.Failure
	Findings []pipeline.FindingDetail
	Channels []string
	Promote  []string // channels a promotion can target
	Rollback []string // channels holding a release
	Evidence []string // tags the build's signatures and attestations are under
	Newest   store.Release
	// Latency charts the releases' patch latency; ToLast is the
	// archive → last channel statistic behind its reference lines.
	Latency chart
	ToLast  stat
	// CommitURL is the lock commit's page (Config.CommitURL), "" when
	// none is configured or no commit is known.
	CommitURL string
}

func (d *Dashboard) stream(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name") + ":" + r.PathValue("version")
	ctx := r.Context()
	h, err := d.cfg.Service.History(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		d.fail(w, r, s, http.StatusNotFound, "No stream "+name+".")
		return
	}
	if err != nil {
		d.fail(w, r, s, http.StatusInternalServerError, err.Error())
		return
	}
	c, err := d.catalog(ctx)
	if err != nil {
		d.fail(w, r, s, http.StatusInternalServerError, err.Error())
		return
	}
	p := streamPage{base: d.base(s, name, "overview"), Version: r.PathValue("version"), Moves: slices.Clone(h.Moves), Failures: h.Failures, Channels: d.channelNames()}
	slices.Reverse(p.Moves) // newest first
	for _, st := range c.status {
		if st.Stream == name {
			p.Row = d.rowOf(st, c.overview[name], p.Channels, d.now())
			p.Row.setCheck(d.lastChecks(r), d.now())
		}
	}
	fast := map[int64]bool{}
	for _, m := range h.Moves {
		if m.Kind == store.KindFastTrack {
			fast[m.ReleaseID] = true
		}
	}
	for _, rh := range h.Releases {
		rr := releaseRow{ReleaseHistory: rh, FastTracked: fast[rh.ID]}
		for _, ch := range p.Channels {
			if t, ok := rh.Reached[ch]; ok {
				rr.Reached = append(rr.Reached, chanTime{ch, t})
			}
		}
		p.Releases = append(p.Releases, rr)
		if p.Newest.ID == 0 && rh.State == store.Published {
			p.Newest = rh.Release
		}
	}
	p.Latency, p.ToLast = streamLatencyChart(h.Releases, fast, p.Channels[0], p.Channels[len(p.Channels)-1])
	if p.Newest.ID != 0 {
		p.Findings = pipeline.Findings(p.Newest.Scan)
		sort.SliceStable(p.Findings, func(i, j int) bool { return findingLess(p.Findings[i], p.Findings[j]) })
	}
	for i, ch := range p.Row.Channels {
		if ch.Release != "" {
			p.Rollback = append(p.Rollback, ch.Channel)
		}
		if i > 0 && p.Row.Channels[i-1].Release != "" && p.Row.Channels[i-1].Release != ch.Release {
			p.Promote = append(p.Promote, ch.Channel)
		}
	}
	if c := p.Row.Check.LockCommit; c != "" && d.cfg.CommitURL != "" {
		p.CommitURL = strings.ReplaceAll(d.cfg.CommitURL, "{commit}", c)
	}
	d.render(w, http.StatusOK, "stream", p)
}

func findingLess(a, b pipeline.FindingDetail) bool {
	if a.KEV != b.KEV {
		return a.KEV
	}
	if ra, rb := statusRank(a.Status), statusRank(b.Status); ra != rb {
		return ra < rb
	}
	if ua, ub := urgencyRank(a.Urgency), urgencyRank(b.Urgency); ua != ub {
		return ua < ub
	}
	return a.ID < b.ID
}

func statusRank(s string) int {
	switch s {
	case "fixable":
		return 0
	case "open":
		return 1
	}
	return 2
}

type cveGroup struct {
	ID       string
	Sources  []string
	Status   string // the most actionable status across streams
	Statuses []count
	Urgency  string
	KEV      bool
	Info     FindingInfo
	Streams  []finding
	Fixable  int
}

type vulnPage struct {
	base
	View      string // "" (all) or "fixable"
	CVEs      []cveGroup
	Findings  int
	Streams   int
	Fixable   int
	KEV       int
	ByUrgency []count
}

func (d *Dashboard) vulnerabilities(w http.ResponseWriter, r *http.Request, s *session) {
	c, err := d.catalog(r.Context())
	if err != nil {
		d.fail(w, r, s, http.StatusInternalServerError, err.Error())
		return
	}
	p := vulnPage{base: d.base(s, "Vulnerabilities", "vulnerabilities"), View: r.URL.Query().Get("view")}
	if p.View != "fixable" {
		p.View = ""
	}
	if p.View == "fixable" {
		p.Title = "Fixable now"
	}
	groups := map[string]*cveGroup{}
	affected := map[string]bool{}
	urg := map[string]int{}
	for _, f := range newestFindings(c) {
		if p.View == "fixable" && f.Status != "fixable" {
			continue
		}
		g := groups[f.ID]
		if g == nil {
			g = &cveGroup{ID: f.ID, Urgency: f.Urgency, Status: f.Status}
			if d.cfg.Details != nil {
				g.Info = d.cfg.Details(f.ID, f.Source, debianOf(f.Stream))
			}
			groups[f.ID] = g
		}
		if !slices.Contains(g.Sources, f.Source) {
			g.Sources = append(g.Sources, f.Source)
		}
		g.KEV = g.KEV || f.KEV
		if statusRank(f.Status) < statusRank(g.Status) {
			g.Status = f.Status
		}
		if urgencyRank(f.Urgency) < urgencyRank(g.Urgency) {
			g.Urgency = f.Urgency
		}
		addCount(&g.Statuses, f.Status)
		if f.Status == "fixable" {
			g.Fixable++
			p.Fixable++
		}
		g.Streams = append(g.Streams, f)
		affected[f.Stream] = true
		p.Findings++
		if f.KEV {
			p.KEV++
		}
		if f.Status == "fixable" || f.Status == "open" {
			urg[f.Urgency]++
		}
	}
	for _, g := range groups {
		p.CVEs = append(p.CVEs, *g)
	}
	sort.Slice(p.CVEs, func(i, j int) bool {
		a, b := p.CVEs[i], p.CVEs[j]
		if a.KEV != b.KEV {
			return a.KEV
		}
		if ra, rb := statusRank(a.Status), statusRank(b.Status); ra != rb {
			return ra < rb
		}
		if ua, ub := urgencyRank(a.Urgency), urgencyRank(b.Urgency); ua != ub {
			return ua < ub
		}
		if len(a.Streams) != len(b.Streams) {
			return len(a.Streams) > len(b.Streams)
		}
		return a.ID < b.ID
	})
	for _, u := range Urgencies {
		if urg[u] > 0 {
			p.ByUrgency = append(p.ByUrgency, count{u, urg[u]})
		}
	}
	p.Streams = len(affected)
	d.render(w, http.StatusOK, "vulnerabilities", p)
}

func addCount(cs *[]count, k string) {
	for i := range *cs {
		if (*cs)[i].Urgency == k {
			(*cs)[i].N++
			return
		}
	}
	*cs = append(*cs, count{k, 1})
}
