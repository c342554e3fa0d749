package dashboard

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
)

// streamLatencyChart: oldest release first, a point per stage reached,
// NaN where a release never reached a channel, unpublished releases
// left out, the fast-tracked release marked at its time to production,
// and the median and p90 to production as reference lines.
func TestStreamLatencyChart(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	rel := func(id int64, tag string, day int, state string, prodAfter time.Duration) release.ReleaseHistory {
		start := t0.AddDate(0, 0, day)
		rh := release.ReleaseHistory{Release: store.Release{ID: id, Tag: tag, State: state,
			ArchivePublished: start, Detected: start.Add(time.Hour), Built: start.Add(2 * time.Hour)},
			Reached: map[string]time.Time{"testing": start.Add(3 * time.Hour)}}
		if prodAfter > 0 {
			rh.Reached["production"] = start.Add(prodAfter)
		}
		return rh
	}
	// Newest first, as release.History gives them.
	rels := []release.ReleaseHistory{
		rel(5, "r5", 8, store.Published, 0), // not yet in production
		rel(4, "r4", 6, "refused", 0),
		rel(3, "r3", 4, store.Published, 6*time.Hour), // fast-tracked
		rel(2, "r2", 2, store.Published, 48*time.Hour),
		rel(1, "r1", 0, store.Published, 72*time.Hour),
	}
	c, st := streamLatencyChart(rels, map[int64]bool{3: true}, "testing", "production")
	if strings.Join(c.Tips, ",") != "r1,r2,r3,r5" || c.X[0] != "Nov 2" {
		t.Fatalf("releases %v, labels %v", c.Tips, c.X)
	}
	if len(c.Series) != 4 || c.Series[3].Name != "production" || c.Series[0].Name != "detected" {
		t.Fatalf("series %+v", c.Series)
	}
	prod := c.Series[3].Values
	if prod[0] != 72 || prod[1] != 48 || prod[2] != 6 || !math.IsNaN(prod[3]) {
		t.Errorf("production values %v", prod)
	}
	if c.Series[0].Values[3] != 1 || c.Series[2].Values[3] != 3 {
		t.Errorf("r5: detected %v, testing %v", c.Series[0].Values[3], c.Series[2].Values[3])
	}
	if c.Points() != 4+4+4+3 {
		t.Errorf("%d points", c.Points())
	}
	if len(c.Marks) != 1 || c.Marks[0].X != 2 || c.Marks[0].Y != 6 {
		t.Errorf("marks %+v", c.Marks)
	}
	if st.N != 3 || st.Median != 48*time.Hour || st.P90 != 72*time.Hour {
		t.Errorf("stat %+v", st)
	}
	if len(c.Refs) != 2 || c.Refs[0].Y != 48 || c.Refs[1].Y != 72 {
		t.Errorf("refs %+v", c.Refs)
	}
	svg := string(c.SVG())
	for _, want := range []string{`id="plot-stream"`, `<title>production, r3: 6.0h</title>`, `<title>median: 48h</title>`, `<title>r3 fast-tracked: 6.0h</title>`} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %s", want)
		}
	}
	if strings.Count(svg, `<circle class="pt"`) != c.Points() {
		t.Errorf("SVG draws %d circles, want %d", strings.Count(svg, `<circle class="pt"`), c.Points())
	}
	// No published release: no points, no reference lines.
	c, st = streamLatencyChart(rels[1:2], nil, "testing", "production")
	if len(c.X) != 0 || c.Refs != nil || st.N != 0 {
		t.Errorf("no published release: %+v", c)
	}
}

// BenchmarkStreamLatencyChart is what the plot adds to the stream page:
// the chart of 50 releases, computed and drawn.
func BenchmarkStreamLatencyChart(b *testing.B) {
	t0 := time.Date(2026, 9, 7, 0, 0, 0, 0, time.UTC)
	var rels []release.ReleaseHistory
	for i := 49; i >= 0; i-- {
		s := t0.Add(time.Duration(i) * 40 * time.Hour)
		rels = append(rels, release.ReleaseHistory{Release: store.Release{ID: int64(i + 1), Tag: "r", State: store.Published,
			ArchivePublished: s, Detected: s.Add(time.Hour), Built: s.Add(2 * time.Hour)},
			Reached: map[string]time.Time{"testing": s.Add(3 * time.Hour), "production": s.Add(time.Duration(30+i) * time.Hour)}})
	}
	n := 0
	for b.Loop() {
		c, _ := streamLatencyChart(rels, map[int64]bool{7: true}, "testing", "production")
		n = len(c.SVG())
	}
	b.ReportMetric(float64(n), "bytes/svg")
}

// A connected series' line runs on across a missing value; another's
// breaks there.
func TestSeriesConnect(t *testing.T) {
	nan := math.NaN()
	c := chart{ID: "c", X: []string{"a", "b", "c"}, Series: []series{{Name: "joined", Class: "j", Values: []float64{1, nan, 2}, Connect: true}, {Name: "broken", Class: "k", Values: []float64{1, nan, 2}}}}
	svg := string(c.SVG())
	_, j, _ := strings.Cut(svg, `<g class="series j"><path d="`)
	_, k, _ := strings.Cut(svg, `<g class="series k"><path d="`)
	j, _, _ = strings.Cut(j, `"`)
	k, _, _ = strings.Cut(k, `"`)
	if strings.Count(j, "M") != 1 || strings.Count(j, "L") != 1 {
		t.Errorf("connected path %q", j)
	}
	if strings.Count(k, "M") != 2 || strings.Count(k, "L") != 0 {
		t.Errorf("broken path %q", k)
	}
}
