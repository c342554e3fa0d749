package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// chart is a line chart drawn as SVG on the server: one series per line,
// a circle per point (its value in a <title> tooltip), and marks (drawn
// as diamonds) for single events such as fast-tracked releases.
type chart struct {
	ID, Title, Desc string
	YLabel          string
	X               []string // category labels (weeks)
	Series          []series
	Marks           []mark
	// Refs are horizontal reference lines (a median) across the plot.
	Refs []ref
	// Tips, when set, name each X in the points' tooltips (a release's
	// tag where the axis shows its date).
	Tips []string
	// Days: Y values are hours; above three days the axis counts days.
	Days bool
	// Format prints a Y value (axis and tooltips).
	Format func(float64) string
}

type series struct {
	Name   string
	Class  string    // CSS class: its colour and dash
	Values []float64 // one per X; NaN where there is none
	// Connect draws the line on across missing values (a release that
	// never reached the stage) instead of breaking it.
	Connect bool
}

type ref struct {
	Y     float64
	Label string
	Class string // CSS class: its colour
}

type mark struct {
	X     float64 // position in X units (0 = first category)
	Y     float64
	Label string
}

// Points counts the circles a chart draws.
func (c chart) Points() int {
	n := 0
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				n++
			}
		}
	}
	return n
}

const (
	plotW, plotH           = 760, 280
	padL, padR, padT, padB = 64, 32, 16, 44
	innerW, innerH         = plotW - padL - padR, plotH - padT - padB
	plotTicks              = 5
)

// niceMax rounds a maximum up to 1, 2 or 5 × 10^n.
func niceMax(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// yMax is the top of the y axis: the largest value, mark or reference
// line, rounded up to a tick-friendly number (whole days when c.Days and
// the values are hours beyond three days).
func (c chart) yMax() float64 {
	ymax := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				ymax = math.Max(ymax, v)
			}
		}
	}
	for _, m := range c.Marks {
		ymax = math.Max(ymax, m.Y)
	}
	for _, r := range c.Refs {
		ymax = math.Max(ymax, r.Y)
	}
	if c.Days && ymax > 72 {
		ymax = niceMax(ymax/24) * 24 // ticks in whole days
	} else {
		ymax = niceMax(ymax)
	}
	return ymax
}

// linePath is the SVG path data joining a series' points (x, y map an
// index and a value to the plot). A NaN lifts the pen unless s.Connect.
func linePath(s series, x, y func(float64) float64) string {
	var path strings.Builder
	pen := false
	for i, v := range s.Values {
		if math.IsNaN(v) {
			pen = pen && s.Connect
			continue
		}
		cmd := "L"
		if !pen {
			cmd = "M"
		}
		fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, x(float64(i)), y(v))
		pen = true
	}
	return strings.TrimSpace(path.String())
}

// SVG renders the chart. Text is escaped; numbers are formatted here.
func (c chart) SVG() template.HTML {
	ymax := c.yMax()
	n := len(c.X)
	x := func(i float64) float64 {
		if n <= 1 {
			return padL + innerW/2
		}
		return padL + i*innerW/float64(n-1)
	}
	y := func(v float64) float64 { return padT + innerH - v/ymax*innerH }
	f := c.Format
	if f == nil {
		f = func(v float64) string { return fmt.Sprintf("%.0f", v) }
	}
	esc := template.HTMLEscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" preserveAspectRatio="xMidYMid meet">`, esc(c.ID), plotW, plotH, esc(c.ID), esc(c.ID))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.Desc))
	for i := 0; i <= plotTicks; i++ {
		v := ymax * float64(i) / plotTicks
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, plotW-padR, y(v), y(v))
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, y(v)+4, esc(f(v)))
	}
	every := max(1, (n+7)/8)
	for i, l := range c.X {
		if i%every != 0 && i != n-1 {
			continue
		}
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(float64(i)), plotH-padB+18, esc(l))
	}
	fmt.Fprintf(&b, `<text class="axis" x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">%s</text>`, padT+innerH/2, padT+innerH/2, esc(c.YLabel))
	fmt.Fprintf(&b, `<line class="axisline" x1="%d" x2="%d" y1="%d" y2="%d"/>`, padL, plotW-padR, padT+innerH, padT+innerH)
	for _, r := range c.Refs {
		fmt.Fprintf(&b, `<g class="ref %s"><line x1="%d" x2="%d" y1="%.1f" y2="%.1f"><title>%s: %s</title></line>`, esc(r.Class), padL, plotW-padR, y(r.Y), y(r.Y), esc(r.Label), esc(f(r.Y)))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s %s</text></g>`, plotW-padR, y(r.Y)-5, esc(r.Label), esc(f(r.Y)))
	}
	tip := c.X
	if len(c.Tips) == len(c.X) {
		tip = c.Tips
	}
	for _, s := range c.Series {
		fmt.Fprintf(&b, `<g class="series %s"><path d="%s"/>`, esc(s.Class), linePath(s, x, y))
		for i, v := range s.Values {
			if math.IsNaN(v) {
				continue
			}
			fmt.Fprintf(&b, `<circle class="pt" cx="%.1f" cy="%.1f" r="3.5"><title>%s, %s: %s</title></circle>`, x(float64(i)), y(v), esc(s.Name), esc(tip[i]), esc(f(v)))
		}
		b.WriteString(`</g>`)
	}
	for _, m := range c.Marks {
		cx, cy := x(m.X), y(m.Y)
		fmt.Fprintf(&b, `<path class="mark" d="M%.1f %.1f l6 6 l-6 6 l-6 -6 z"><title>%s: %s</title></path>`, cx, cy-6, esc(m.Label), esc(f(m.Y)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
