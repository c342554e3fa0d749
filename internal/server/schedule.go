package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is temper.yaml's schedule: each periodic job's interval ("15m",
// "1h") or a five-field cron expression in UTC ("0 6 * * 1").
type Schedule struct {
	Check      string `yaml:"check"`
	VulnUpdate string `yaml:"vuln_update"`
	Snapshot   string `yaml:"snapshot"`
	Promote    string `yaml:"promote"`
}

// DefaultSchedule is the cadence: check every 15 minutes,
// vulnerability data hourly, the snapshot on Monday 06:00 UTC, promotion
// daily.
var DefaultSchedule = Schedule{Check: "15m", VulnUpdate: "1h", Snapshot: "0 6 * * 1", Promote: "24h"}

// withDefaults fills what s leaves empty.
func (s Schedule) withDefaults() Schedule {
	d := DefaultSchedule
	for _, f := range []struct{ v, def *string }{{&s.Check, &d.Check}, {&s.VulnUpdate, &d.VulnUpdate}, {&s.Snapshot, &d.Snapshot}, {&s.Promote, &d.Promote}} {
		if *f.v == "" {
			*f.v = *f.def
		}
	}
	return s
}

// Validate parses every entry.
func (s Schedule) Validate() error {
	for _, f := range []struct{ key, v string }{{"check", s.Check}, {"vuln_update", s.VulnUpdate}, {"snapshot", s.Snapshot}, {"promote", s.Promote}} {
		if f.v == "" {
			continue
		}
		if _, err := ParseSchedule(f.v); err != nil {
			return fmt.Errorf("schedule: %s: %v", f.key, err)
		}
	}
	return nil
}

// Next is when a periodic job runs next after a time (River's
// PeriodicSchedule).
type Next interface{ Next(time.Time) time.Time }

type every time.Duration

func (e every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// ParseSchedule reads an interval (a Go duration, or Nd for days) or a
// five-field cron expression (minute hour day-of-month month day-of-week;
// numbers, *, lists a,b, ranges a-b and steps */n), evaluated in UTC.
func ParseSchedule(s string) (Next, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, " ") {
		var d time.Duration
		var err error
		if n, ok := strings.CutSuffix(s, "d"); ok {
			var days int
			days, err = strconv.Atoi(n)
			d = time.Duration(days) * 24 * time.Hour
		} else {
			d, err = time.ParseDuration(s)
		}
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q: want an interval such as 15m, 1h, 7d, or a cron expression such as \"0 6 * * 1\"", s)
		}
		return every(d), nil
	}
	f := strings.Fields(s)
	if len(f) != 5 {
		return nil, fmt.Errorf("%q: a cron expression has 5 fields (minute hour day-of-month month day-of-week), not %d", s, len(f))
	}
	c := &cron{}
	ranges := [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}
	sets := [5]*[64]bool{&c.min, &c.hour, &c.dom, &c.month, &c.dow}
	for i, field := range f {
		if err := parseField(field, ranges[i][0], ranges[i][1], sets[i]); err != nil {
			return nil, fmt.Errorf("%q: field %d (%s): %v", s, i+1, field, err)
		}
	}
	if c.dow[7] {
		c.dow[0] = true // 7 is Sunday too
	}
	c.domAny, c.dowAny = f[2] == "*", f[4] == "*"
	return c, nil
}

func parseField(s string, lo, hi int, set *[64]bool) error {
	for _, part := range strings.Split(s, ",") {
		step := 1
		if a, b, ok := strings.Cut(part, "/"); ok {
			n, err := strconv.Atoi(b)
			if err != nil || n <= 0 {
				return fmt.Errorf("step %q", b)
			}
			part, step = a, n
		}
		from, to := lo, hi
		if part != "*" {
			a, b, isRange := strings.Cut(part, "-")
			x, err := strconv.Atoi(a)
			if err != nil {
				return fmt.Errorf("%q is not a number", a)
			}
			from, to = x, x
			if isRange {
				if to, err = strconv.Atoi(b); err != nil {
					return fmt.Errorf("%q is not a number", b)
				}
			}
		}
		if from < lo || to > hi || from > to {
			return fmt.Errorf("%d-%d outside %d-%d", from, to, lo, hi)
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return nil
}

type cron struct {
	min, hour, dom, month, dow [64]bool
	domAny, dowAny             bool
}

// Next is the first minute after t that matches, in UTC.
func (c *cron) Next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	for limit := 0; limit < 5*366*24*60; limit++ {
		if c.month[int(t.Month())] && c.day(t) && c.hour[t.Hour()] && c.min[t.Minute()] {
			return t
		}
		t = t.Add(time.Minute)
	}
	return time.Time{}
}

// day applies cron's rule: when both day fields are restricted, either
// matching is enough.
func (c *cron) day(t time.Time) bool {
	dom, dow := c.dom[t.Day()], c.dow[int(t.Weekday())]
	switch {
	case c.domAny && c.dowAny:
		return true
	case c.domAny:
		return dow
	case c.dowAny:
		return dom
	}
	return dom || dow
}
