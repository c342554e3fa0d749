package limits

import (
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"512": 512, "64K": 64 << 10, "2GiB": 2 << 30, "8G": 8 << 30, "1T": 1 << 40, "3MB": 3 << 20} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-1", "0", "9999999999T"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): no error", in)
		}
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{"TEMPER_LIMIT_DEB": "1G", "TEMPER_LIMIT_SCRIPT_TIME": "2s", "TEMPER_LIMIT_IMAGE": "lots"}
	l, err := FromEnv(func(k string) string { return env[k] })
	if l.Deb != 1<<30 || l.ScriptTime != 2*time.Second || l.Image != Defaults.Image {
		t.Errorf("got %+v", l)
	}
	if err == nil || !contains(err.Error(), "TEMPER_LIMIT_IMAGE") {
		t.Errorf("error %v does not name TEMPER_LIMIT_IMAGE", err)
	}
}

func TestSet(t *testing.T) {
	restore := Set(Limits{Deb: 10})
	if g := Get(); g.Deb != 10 || g.Image != Defaults.Image {
		t.Errorf("after Set: %+v", g)
	}
	restore()
	if g := Get(); g.Deb == 10 {
		t.Errorf("restore did not restore: %+v", g)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
