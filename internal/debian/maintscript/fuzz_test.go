package maintscript_test

import (
	"reflect"
	"testing"

	"github.com/temper-dev/temper/internal/debian/maintscript"
	"github.com/temper-dev/temper/internal/hostile"
)

// FuzzEvaluate: any script ends (the budgets), never panics, and stops
// at the same place each time. Seeds: testdata/fuzz/FuzzEvaluate (with
// the inputs fuzzing found: a dangling "&&" that panicked the evaluator,
// a run of "<<" the lexer took quadratic time and stack on) and the
// hostile scripts.
//
// Deterministic by construction: only the wall clock (and a canceled
// context, never set here) may stop two evaluations of one script at
// different places, and Calls.Interrupted says when it did; such runs
// are not compared. Every other budget counts steps, including the bytes
// a step copies, so the evaluations this compares end the same way on
// any machine, however loaded.
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
		if a.Interrupted || b.Interrupted {
			t.Logf("stopped by the wall clock: %q / %q", a.Stopped, b.Stopped)
			return
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("not deterministic: %q %d %d, then %q %d %d", a.Stopped, len(a.UCF), len(a.Alternatives), b.Stopped, len(b.UCF), len(b.Alternatives))
		}
	})
}
