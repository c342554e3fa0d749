package maintscript_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/maintscript"
	"github.com/temper-dev/temper/internal/hostile"
	"github.com/temper-dev/temper/internal/limits"
)

// Every hostile script ends, within bounded memory and bounded work (the
// bytes it allocates: copying a string counts against the step budget),
// with Stopped saying why, and stops at the same place every time.
func TestSandbox(t *testing.T) {
	deep := strings.Repeat("if true; then ", 50000) + "ucf /x /y" + strings.Repeat("; fi", 50000)
	deepSubst := "ucf /a /b\nx=\"" + strings.Repeat("$(\"", 200000) + strings.Repeat("\")", 200000) + "\"\nucf /c /d\n"
	cases := map[string]struct {
		script  string
		stopped string
		ucf     int // calls recorded before the stop
	}{
		"nested-if":     {hostile.Scripts["nested-if"], "nesting deeper than 200 levels", 0},
		"nested-group":  {hostile.Scripts["nested-group"], "nesting deeper than 200 levels", 0},
		"nested-subst":  {hostile.Scripts["nested-subst"], "", 1}, // unquoted $(( are counted, not recursed into
		"nested-quote":  {hostile.Scripts["nested-quote"], "nesting deeper than 200 levels", 0},
		"deep-if":       {"ucf /a /b\n" + deep, "nesting deeper than 200 levels", 1},
		"deep-subst":    {deepSubst, "nesting deeper than 200 levels", 1},
		"huge":          {strings.Repeat("if true; then ", 3000000), "larger than the string budget of 1048576 bytes", 0},
		"recursion":     {hostile.Scripts["recursion"], "step budget of 200000 exhausted", 0},
		"doubling":      {hostile.Scripts["doubling"], "a string longer than 1048576 bytes", 0},
		"doubling-list": {hostile.Scripts["doubling-list"], "", 0},
		"endless":       {hostile.Scripts["endless"], "more than 4096 update-alternatives", 4096},
		"endless-func":  {hostile.Scripts["endless-func"], "step budget of 200000 exhausted", 0},
		"copying":       {hostile.Scripts["copying"], "step budget of 200000 exhausted", 0},
		"list-arg":      {hostile.Scripts["list-arg"], "step budget of 200000 exhausted", 0},
		"matching":      {hostile.Scripts["matching"], "step budget of 200000 exhausted", 0},
		"heredocs":      {hostile.Scripts["heredocs"], "", 2},
		"fields":        {"x=\"" + strings.Repeat("a ", 500000) + "\"\nfor i in $x $x; do :; done\n", "a word list longer than 65536 fields", 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var a, b runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&a)
			start := time.Now()
			got := maintscript.Evaluate(tc.script, configure)
			el := time.Since(start)
			runtime.ReadMemStats(&b)
			if !strings.Contains(got.Stopped, tc.stopped) || (tc.stopped == "") != (got.Stopped == "") {
				t.Errorf("Stopped = %q, want %q", got.Stopped, tc.stopped)
			}
			if len(got.UCF) != tc.ucf {
				t.Errorf("%d ucf calls, want %d", len(got.UCF), tc.ucf)
			}
			if n := b.TotalAlloc - a.TotalAlloc; n > 1<<30 {
				t.Errorf("allocated %d MiB", n>>20)
			}
			if b.HeapInuse > 512<<20 {
				t.Errorf("heap in use %d MiB", b.HeapInuse>>20)
			}
			again := maintscript.Evaluate(tc.script, configure)
			if again.Stopped != got.Stopped || len(again.UCF) != len(got.UCF) {
				t.Errorf("not deterministic: %q/%d then %q/%d", got.Stopped, len(got.UCF), again.Stopped, len(again.UCF))
			}
			t.Logf("%v, stopped: %s", el, got.Stopped)
		})
	}
}

// The wall-clock budget stops a script whose steps are slow; a canceled
// context stops it too.
func TestSandboxClock(t *testing.T) {
	defer limits.Set(limits.Limits{ScriptTime: time.Nanosecond, ScriptSteps: 1 << 30})()
	got := maintscript.Evaluate(hostile.Scripts["endless-func"], configure)
	if !strings.Contains(got.Stopped, "wall-clock budget exhausted") {
		t.Errorf("Stopped = %q", got.Stopped)
	}
	limits.Set(limits.Limits{ScriptSteps: 1 << 30})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	env := configure
	env.Context = ctx
	start := time.Now()
	got = maintscript.Evaluate(hostile.Scripts["endless-func"], env)
	if !strings.Contains(got.Stopped, "canceled") || time.Since(start) > 2*time.Second {
		t.Errorf("Stopped = %q after %v", got.Stopped, time.Since(start))
	}
}

// A normal script is not stopped.
func TestSandboxQuiet(t *testing.T) {
	got := maintscript.Evaluate(fixture(t, "openjdk-17-jre-headless.postinst"), configure)
	if got.Stopped != "" {
		t.Errorf("Stopped = %q", got.Stopped)
	}
}
