package dashboard

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
)

// stage is one leg of a fix's journey, measured from the archive's
// publication (or detection when that is unknown).
type stage struct {
	Name  string
	Class string
	of    func(rel store.Release, reached map[string]time.Time) time.Duration
}

type stat struct {
	Name        string
	N           int
	Median, P90 time.Duration
}

type streamLatency struct {
	Stream      string
	Releases    int
	ToProd      int
	Median, P90 time.Duration
	FastTracked int
}

type latencyPage struct {
	base
	Weeks      int
	Production chart
	Stages     chart
	Vulns      chart
	Overall    []stat
	Remediate  stat // releases that fixed CVEs: archive → production
	FastTrack  stat
	GatePassed float64
	TestPassed float64
	Releases   int
	Open       []count
	KEV        int
	PerStream  []streamLatency
	Table      []weekRow
}

type weekRow struct {
	Week   string
	N      int
	Median time.Duration
	P90    time.Duration
	Fast   int
}

func hours(d time.Duration) float64 { return d.Hours() }

func weekStart(t time.Time) time.Time {
	t = t.UTC().Truncate(24 * time.Hour)
	wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
	return t.AddDate(0, 0, -wd)
}

func sortedDur(ds []time.Duration) []time.Duration {
	slices.Sort(ds)
	return ds
}

func statOf(name string, ds []time.Duration) stat {
	ds = sortedDur(ds)
	return stat{Name: name, N: len(ds), Median: quantile(ds, 0.5), P90: quantile(ds, 0.9)}
}

func fmtHours(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 10:
		return fmt.Sprintf("%.1fh", v)
	case v < 72:
		return fmt.Sprintf("%.0fh", v)
	}
	return strconv.FormatFloat(math.Round(v/24*10)/10, 'f', -1, 64) + "d"
}

// latency is the patch-latency page: from the archive's publication to
// detection, build, the first channel and the last, per week of the
// archive's publication, medians and 90th percentiles; fast-tracked
// releases marked; vulnerability counts per week by urgency.
func (d *Dashboard) latency(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	c, err := d.catalog(ctx)
	if err != nil {
		d.fail(w, r, s, http.StatusInternalServerError, err.Error())
		return
	}
	h, err := d.histories(ctx, c)
	if err != nil {
		d.fail(w, r, s, http.StatusInternalServerError, err.Error())
		return
	}
	// The figures depend on the history and the current week only.
	h.mu.Lock()
	if h.page == nil || !h.week.Equal(weekStart(d.now())) {
		lp := d.latencyOf(h, c)
		h.page, h.week = &lp, weekStart(d.now())
	}
	p := *h.page
	h.mu.Unlock()
	p.base = d.base(s, "Patch latency", "latency")
	d.render(w, http.StatusOK, "latency", p)
}

// latencyWeeks is how many weeks the latency page charts.
const latencyWeeks = 12

func (d *Dashboard) latencyOf(h *history, c *catalog) latencyPage {
	chans := d.channelNames()
	first, last := chans[0], chans[len(chans)-1]
	a := newLatencyAcc(d.now(), last, latencyStages(first, last))
	for _, sh := range h.streams {
		a.addStream(sh)
	}
	a.summarise()
	labels := a.labels()
	a.productionTable(labels)
	a.stagesChart(labels)
	a.vulnsChart(labels)
	a.openFindings(c)
	p := &a.p
	sort.SliceStable(p.PerStream, func(i, j int) bool { return p.PerStream[i].P90 > p.PerStream[j].P90 })
	return a.p
}

// releaseStart is when a fix's journey starts: the archive's publication,
// or its detection when that is unknown.
func releaseStart(r store.Release) time.Time {
	if !r.ArchivePublished.IsZero() {
		return r.ArchivePublished
	}
	return r.Detected
}

// latencyStages are the legs measured: detection, build, the first
// channel and the last.
func latencyStages(first, last string) []stage {
	start := releaseStart
	return []stage{
		{"detected", "s-detect", func(r store.Release, _ map[string]time.Time) time.Duration { return span(start(r), r.Detected) }},
		{"built", "s-build", func(r store.Release, _ map[string]time.Time) time.Duration { return span(start(r), r.Built) }},
		{first, "s-testing", func(r store.Release, m map[string]time.Time) time.Duration { return span(start(r), m[first]) }},
		{last, "s-prod", func(r store.Release, m map[string]time.Time) time.Duration { return span(start(r), m[last]) }},
	}
}

// latencyAcc gathers the streams' durations per stage and week, and the
// page's counts, over the latencyWeeks weeks starting at from.
type latencyAcc struct {
	from        time.Time
	last        string
	stages      []stage
	perWeek     [][][]time.Duration // stage → week → durations
	all         [][]time.Duration
	remediate   []time.Duration
	fast        []time.Duration
	marks       []mark
	gate, tests int
	fastPerWeek []int
	vulnWeeks   []map[string]int
	p           latencyPage
}

func newLatencyAcc(now time.Time, last string, stages []stage) *latencyAcc {
	const weeks = latencyWeeks
	end := weekStart(now)
	a := &latencyAcc{
		from:        end.AddDate(0, 0, -7*(weeks-1)),
		last:        last,
		stages:      stages,
		perWeek:     make([][][]time.Duration, len(stages)),
		all:         make([][]time.Duration, len(stages)),
		fastPerWeek: make([]int, weeks),
		vulnWeeks:   make([]map[string]int, weeks),
		p:           latencyPage{Weeks: weeks},
	}
	for i := range a.perWeek {
		a.perWeek[i] = make([][]time.Duration, weeks)
	}
	for i := range a.vulnWeeks {
		a.vulnWeeks[i] = map[string]int{}
	}
	return a
}

// week is the index of t's week, or -1 when t is unknown or too old.
func (a *latencyAcc) week(t time.Time) int {
	if t.IsZero() || t.Before(a.from) {
		return -1
	}
	return int(weekStart(t).Sub(a.from) / (7 * 24 * time.Hour))
}

func (a *latencyAcc) labels() []string {
	labels := make([]string, latencyWeeks)
	for i := range labels {
		labels[i] = a.from.AddDate(0, 0, 7*i).Format("Jan 2")
	}
	return labels
}

// addStream adds one stream's published releases.
func (a *latencyAcc) addStream(sh release.History) {
	fastIDs := map[int64]bool{}
	for _, m := range sh.Moves {
		if m.Kind == store.KindFastTrack && m.Channel == a.last {
			fastIDs[m.ReleaseID] = true
		}
	}
	sl := streamLatency{Stream: sh.Stream}
	var toProd []time.Duration
	// Releases are newest first: the newest published before each
	// week's end gives that week's open findings.
	var rels []store.Release
	reached := map[int64]map[string]time.Time{}
	for _, rh := range sh.Releases {
		if rh.State == store.Published {
			rels = append(rels, rh.Release)
			reached[rh.ID] = rh.Reached
		}
	}
	a.addOpenFindings(rels)
	for _, rel := range rels {
		if prod, ok := a.addRelease(rel, reached[rel.ID]); ok {
			sl.Releases++
			if prod > 0 {
				toProd = append(toProd, prod)
				if fastIDs[rel.ID] {
					a.addFastTrack(sh.Stream, rel, prod)
					sl.FastTracked++
				}
			}
		}
	}
	st := statOf(sh.Stream, toProd)
	sl.ToProd, sl.Median, sl.P90 = st.N, st.Median, st.P90
	a.p.PerStream = append(a.p.PerStream, sl)
}

// addOpenFindings counts, for each week, the findings of the newest of
// rels (newest first) published before the week's end.
func (a *latencyAcc) addOpenFindings(rels []store.Release) {
	j := 0
	for wk := latencyWeeks - 1; wk >= 0; wk-- {
		end := a.from.AddDate(0, 0, 7*(wk+1))
		for j < len(rels) && !rels[j].Published.Before(end) {
			j++
		}
		if j < len(rels) {
			for u, n := range rels[j].Scan.Counts {
				a.vulnWeeks[wk][u] += n
			}
		}
	}
}

// addRelease adds one published release's stage durations; it reports
// the time to the last channel, and false when the release started
// outside the charted weeks.
func (a *latencyAcc) addRelease(rel store.Release, reached map[string]time.Time) (time.Duration, bool) {
	i := a.week(releaseStart(rel))
	if i < 0 || i >= latencyWeeks {
		return 0, false
	}
	a.p.Releases++
	if rel.Gate.Passed {
		a.gate++
	}
	if rel.Tests.Passed {
		a.tests++
	}
	for si, st := range a.stages {
		if v := st.of(rel, reached); v > 0 {
			a.perWeek[si][i] = append(a.perWeek[si][i], v)
			a.all[si] = append(a.all[si], v)
		}
	}
	prod := span(releaseStart(rel), reached[a.last])
	if prod > 0 && len(rel.CVEsFixed) > 0 {
		a.remediate = append(a.remediate, prod)
	}
	return prod, true
}

// addFastTrack records a fast-tracked release that took prod to reach
// the last channel, and marks it on the production chart.
func (a *latencyAcc) addFastTrack(stream string, rel store.Release, prod time.Duration) {
	i := a.week(releaseStart(rel))
	a.fast = append(a.fast, prod)
	a.fastPerWeek[i]++
	off := float64(releaseStart(rel).Sub(a.from.AddDate(0, 0, 7*i))) / float64(7*24*time.Hour)
	a.marks = append(a.marks, mark{X: float64(i) + off - 0.5, Y: hours(prod), Label: stream + " " + rel.Tag + " fast-tracked"})
}

// summarise fills the page's pass rates and overall statistics.
func (a *latencyAcc) summarise() {
	p := &a.p
	for i := range a.marks {
		a.marks[i].X = math.Max(0, math.Min(float64(latencyWeeks-1), a.marks[i].X+0.5))
	}
	if p.Releases > 0 {
		p.GatePassed = float64(a.gate) / float64(p.Releases)
		p.TestPassed = float64(a.tests) / float64(p.Releases)
	}
	for si, st := range a.stages {
		p.Overall = append(p.Overall, statOf(st.Name, a.all[si]))
	}
	p.Remediate = statOf("releases fixing CVEs", a.remediate)
	p.FastTrack = statOf("fast-tracked", a.fast)
}

// productionTable fills the weekly table and the archive → last channel chart.
func (a *latencyAcc) productionTable(labels []string) {
	const weeks = latencyWeeks
	p := &a.p
	prodIdx := len(a.stages) - 1
	med, p90 := make([]float64, weeks), make([]float64, weeks)
	for i := range weeks {
		ds := sortedDur(a.perWeek[prodIdx][i])
		med[i], p90[i] = math.NaN(), math.NaN()
		if len(ds) > 0 {
			med[i], p90[i] = hours(quantile(ds, 0.5)), hours(quantile(ds, 0.9))
		}
		p.Table = append(p.Table, weekRow{Week: labels[i], N: len(ds), Median: quantile(ds, 0.5), P90: quantile(ds, 0.9), Fast: a.fastPerWeek[i]})
	}
	last := a.last
	p.Production = chart{ID: "plot-production", Title: "Archive → " + last + " per week",
		Desc:   fmt.Sprintf("Median and 90th percentile hours from Debian publishing a change to the release reaching %s, by week of publication; diamonds are fast-tracked releases.", last),
		YLabel: "time", X: labels, Format: fmtHours, Marks: a.marks, Days: true,
		Series: []series{{Name: "median", Class: "s-median", Values: med}, {Name: "90th percentile", Class: "s-p90", Values: p90}}}
}

// stagesChart charts the weekly median time to each stage.
func (a *latencyAcc) stagesChart(labels []string) {
	const weeks = latencyWeeks
	p := &a.p
	p.Stages = chart{ID: "plot-stages", Title: "Median time to each stage per week", YLabel: "time", X: labels, Format: fmtHours, Days: true,
		Desc: "Median hours from the archive's publication to detection, build, the first channel and the last, by week."}
	for si, st := range a.stages {
		v := make([]float64, weeks)
		for i := range weeks {
			ds := sortedDur(a.perWeek[si][i])
			v[i] = math.NaN()
			if len(ds) > 0 {
				v[i] = hours(quantile(ds, 0.5))
			}
		}
		p.Stages.Series = append(p.Stages.Series, series{Name: st.Name, Class: st.Class, Values: v})
	}
}

// vulnsChart charts the open findings per week by urgency.
func (a *latencyAcc) vulnsChart(labels []string) {
	const weeks = latencyWeeks
	p := &a.p
	p.Vulns = chart{ID: "plot-vulns", Title: "Open findings per week by urgency", YLabel: "findings", X: labels,
		Desc: "Open findings (fixable or open) of each stream's newest release at the end of each week, summed over the catalog, by Debian urgency."}
	for _, u := range Urgencies {
		if u == "unimportant" {
			continue
		}
		v := make([]float64, weeks)
		any := false
		for i := range weeks {
			v[i] = float64(a.vulnWeeks[i][u])
			any = any || v[i] > 0
		}
		if any {
			p.Vulns.Series = append(p.Vulns.Series, series{Name: u, Class: "u-" + slug(u), Values: v})
		}
	}
}

// openFindings counts the catalog's current findings by urgency and KEV.
func (a *latencyAcc) openFindings(c *catalog) {
	p := &a.p
	open := map[string]int{}
	for _, st := range c.status {
		for u, n := range st.Findings {
			open[u] += n
		}
		p.KEV += st.KEV
	}
	for _, u := range Urgencies {
		if open[u] > 0 {
			p.Open = append(p.Open, count{u, open[u]})
		}
	}
}

func slug(s string) string { return funcs["slug"].(func(string) string)(s) }

func span(a, b time.Time) time.Duration {
	if a.IsZero() || b.IsZero() || b.Before(a) {
		return 0
	}
	return b.Sub(a)
}

// streamLatencyChart charts one stream's published releases, oldest
// first: the time from the archive's publication to detection, build,
// the first channel and the last per release, fast-tracked releases
// marked, the median and 90th percentile to the last channel as
// reference lines. rels are newest first (release.History).
func streamLatencyChart(rels []release.ReleaseHistory, fast map[int64]bool, first, last string) (chart, stat) {
	stages := latencyStages(first, last)
	var pub []release.ReleaseHistory
	for i := len(rels) - 1; i >= 0; i-- {
		if rels[i].State == store.Published {
			pub = append(pub, rels[i])
		}
	}
	c := chart{ID: "plot-stream", Title: "Patch latency per release", YLabel: "time", Format: fmtHours, Days: true,
		Desc: fmt.Sprintf("For each published release, oldest first: hours from Debian publishing the change to detection, build, the release entering %s and %s; diamonds are fast-tracked releases; the dashed lines are the median and 90th percentile to %s.", first, last, last),
		X:    make([]string, len(pub)), Tips: make([]string, len(pub))}
	vals := make([][]float64, len(stages))
	for si := range vals {
		vals[si] = make([]float64, len(pub))
	}
	var toProd []time.Duration
	for i, rh := range pub {
		c.X[i] = releaseStart(rh.Release).Format("Jan 2")
		c.Tips[i] = rh.Tag
		for si, st := range stages {
			vals[si][i] = math.NaN()
			if v := st.of(rh.Release, rh.Reached); v > 0 {
				vals[si][i] = hours(v)
			}
		}
		if prod := span(releaseStart(rh.Release), rh.Reached[last]); prod > 0 {
			toProd = append(toProd, prod)
			if fast[rh.ID] {
				c.Marks = append(c.Marks, mark{X: float64(i), Y: hours(prod), Label: rh.Tag + " fast-tracked"})
			}
		}
	}
	for si, st := range stages {
		c.Series = append(c.Series, series{Name: st.Name, Class: st.Class, Values: vals[si], Connect: true})
	}
	s := statOf(last, toProd)
	if s.N > 0 {
		c.Refs = []ref{{Y: hours(s.Median), Label: "median", Class: "r-median"}, {Y: hours(s.P90), Label: "p90", Class: "r-p90"}}
	}
	return c, s
}
