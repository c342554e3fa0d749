package maintscript_test

import (
	"testing"

	"github.com/temper-dev/temper/internal/debian/maintscript"
	"github.com/temper-dev/temper/internal/hostile"
)

// FuzzEvaluate: any script ends (the budgets), never panics, and stops
// at the same place each time. Seeds: testdata/fuzz/FuzzEvaluate and the
// hostile scripts.
func FuzzEvaluate(f *testing.F) {
	for _, s := range hostile.Scripts {
		if len(s) < 4096 {
			f.Add(s)
		}
	}
	f.Add("update-alternatives --install /usr/bin/x x /usr/lib/x 10 --slave /a a /b\nucf /usr/share/x /etc/x\n")
	f.Fuzz(func(t *testing.T, script string) {
		a := maintscript.Evaluate(script, configure)
		b := maintscript.Evaluate(script, configure)
		if a.Stopped != b.Stopped || len(a.UCF) != len(b.UCF) || len(a.Alternatives) != len(b.Alternatives) {
			t.Fatalf("not deterministic: %q %d %d, then %q %d %d", a.Stopped, len(a.UCF), len(a.Alternatives), b.Stopped, len(b.UCF), len(b.Alternatives))
		}
	})
}
