package dashboard_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/store"
)

// The stream page plots its releases' patch latency: a point per
// published release and stage reached, the fast-tracked release marked,
// the median to production as a reference line; the counts follow the
// store's history of the stream.
func TestStreamLatencyPlot(t *testing.T) {
	e := start(t)
	c := e.client()
	e.login(c, e.read)
	name := e.seeded.FastTrack
	body, code := e.get(c, streamPathOf(name))
	if code != 200 {
		t.Fatalf("stream page: %d", code)
	}
	_, svg, ok := strings.Cut(body, `<svg class="chart" id="plot-stream"`)
	if !ok {
		t.Fatalf("stream page of %s has no latency plot", name)
	}
	svg, _, _ = strings.Cut(svg, `</svg>`)
	h, err := e.svc.History(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	var published, inProd int
	for _, rh := range h.Releases {
		if rh.State != store.Published {
			continue
		}
		published++
		start := rh.ArchivePublished
		if start.IsZero() {
			start = rh.Detected
		}
		if at, ok := rh.Reached["production"]; ok && at.After(start) {
			inProd++
		}
	}
	if published < 10 || inProd < 5 {
		t.Fatalf("seed: %d published releases, %d in production", published, inProd)
	}
	group := func(class string) string {
		_, g, ok := strings.Cut(svg, `<g class="series `+class+`">`)
		if !ok {
			t.Fatalf("plot has no %s series", class)
		}
		g, _, _ = strings.Cut(g, `</g>`)
		return g
	}
	if n := strings.Count(group("s-prod"), `<circle class="pt"`); n != inProd {
		t.Errorf("production series: %d points, want %d (releases in production)", n, inProd)
	}
	if n := strings.Count(group("s-detect"), `<circle class="pt"`); n != published {
		t.Errorf("detected series: %d points, want %d (published releases)", n, published)
	}
	if n := strings.Count(svg, `<path class="mark"`); n < 1 {
		t.Errorf("the fast-tracked release is not marked")
	}
	if !strings.Contains(svg, h.Releases[0].Tag) {
		t.Errorf("the newest release %s is not in the tooltips", h.Releases[0].Tag)
	}
	if !regexp.MustCompile(`<g class="ref r-median"><line [^>]*><title>median: [\d.]+[hd]</title>`).MatchString(svg) {
		t.Errorf("no median reference line")
	}
	if !strings.Contains(body, `id="stream-latency-median"`) {
		t.Errorf("no median figure above the plot")
	}
}

func streamPathOf(stream string) string {
	n, v, _ := strings.Cut(stream, ":")
	return "/streams/" + n + "/" + v
}
