package server

import (
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	mon := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	for _, c := range []struct{ spec, from, want string }{
		{"0 6 * * 1", "2026-11-29T10:00:00Z", "2026-11-30T06:00:00Z"}, // Sunday → Monday 06:00
		{"0 6 * * 1", "2026-11-30T06:00:00Z", "2026-12-07T06:00:00Z"},
		{"*/15 * * * *", "2026-11-29T10:07:30Z", "2026-11-29T10:15:00Z"},
		{"30 2 1 * *", "2026-11-29T10:00:00Z", "2026-12-01T02:30:00Z"},
		{"15m", "2026-11-29T10:07:30Z", "2026-11-29T10:22:30Z"},
		{"1d", "2026-11-29T10:00:00Z", "2026-11-30T10:00:00Z"},
	} {
		n, err := ParseSchedule(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := n.Next(mon(c.from)); !got.Equal(mon(c.want)) {
			t.Errorf("%s after %s = %s, want %s", c.spec, c.from, got, c.want)
		}
	}
	for _, bad := range []string{"", "0", "-5m", "0 6 * *", "61 * * * *", "a * * * *", "*/0 * * * *"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
