package version

import (
	"bytes"
	"errors"
	"flag"
	"os/exec"
	"strings"
	"testing"
)

// addPairSeeds seeds a fuzz target with the versions of testdata/pairs.txt.
func addPairSeeds(f *testing.F, add func(a, b string)) {
	for _, p := range readPairs(f) {
		add(p.a, p.b)
	}
}

func FuzzParse(f *testing.F) {
	addPairSeeds(f, func(a, b string) { f.Add(a); f.Add(b) })
	for _, s := range []string{"", " ", "1:", ":1", "1.0-", "-1", "0:1:2", "1:2:3-4-5", "2147483648:1", "\t1.0\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Input != s {
				t.Fatalf("Parse(%q) error %v is not a *ParseError quoting the input", s, err)
			}
			return
		}
		out := v.String()
		w, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) = %#v, but its String %q does not parse: %v", s, v, out, err)
		}
		if w != v {
			t.Fatalf("Parse(%q) = %#v, String %q re-parses to %#v", s, v, out, w)
		}
		if w.String() != out {
			t.Fatalf("String not stable: %q then %q", out, w.String())
		}
		if c := CompareStrings(s, out); c != 0 {
			t.Fatalf("CompareStrings(%q, %q) = %d, want 0 (canonical form)", s, out, c)
		}
		if c := Compare(v, w); c != 0 {
			t.Fatalf("Compare(%#v, itself) = %d", v, c)
		}
	})
}

// dpkgCompare asks dpkg how a and b order. ok is false when dpkg rejects
// either string.
func dpkgCompare(t *testing.T, a, b string) (c int, ok bool) {
	t.Helper()
	for _, q := range []struct {
		op  string
		res int
	}{{"lt", -1}, {"eq", 0}} {
		var stderr bytes.Buffer
		// A valid version may start with '-' ("--0"), which dpkg would take
		// for an option; a leading blank, which dpkg ignores, prevents that.
		cmd := exec.Command("dpkg", "--compare-versions", " "+a, q.op, " "+b)
		cmd.Stderr = &stderr
		err := cmd.Run()
		if err == nil {
			return q.res, true
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running dpkg --compare-versions %q %s %q: %v", a, q.op, b, err)
		}
		if ee.ExitCode() != 1 {
			return 0, false
		}
	}
	return 1, true
}

// dpkgVerdict reports how dpkg judges s: "ok", "error" or the text of
// its warning.
func dpkgVerdict(t *testing.T, s string) string {
	t.Helper()
	var stderr bytes.Buffer
	// s goes last: dpkg would take a first argument starting with '-' as an option.
	cmd := exec.Command("dpkg", "--compare-versions", "0", "eq", s)
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running dpkg --compare-versions 0 eq %q: %v", s, err)
	}
	switch {
	case err != nil && ee.ExitCode() > 1:
		return "error"
	case strings.Contains(stderr.String(), "warning"):
		return strings.TrimSpace(stderr.String())
	}
	return "ok"
}

func FuzzCompareDpkg(f *testing.F) {
	// The pairs of the table are already checked against dpkg's recorded
	// answers by TestPairsTable; asking dpkg again about them in every plain
	// `go test` run would cost seconds. While fuzzing, everything is checked.
	known := map[[2]string]bool{}
	addPairSeeds(f, func(a, b string) { f.Add(a, b); known[[2]string{a, b}] = true })
	fuzzing := false
	if fl := flag.Lookup("test.fuzz"); fl != nil && fl.Value.String() != "" {
		fuzzing = true
	}
	_, lookErr := exec.LookPath("dpkg")
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := CompareStrings(a, b), CompareStrings(b, a)
		if ab != -ba || ab < -1 || ab > 1 {
			t.Fatalf("CompareStrings(%q, %q) = %d but reversed = %d", a, b, ab, ba)
		}
		va, errA := Parse(a)
		vb, errB := Parse(b)
		if errA == nil && errB == nil {
			if c := Compare(va, vb); c != ab {
				t.Fatalf("CompareStrings(%q, %q) = %d, Compare of parsed = %d", a, b, ab, c)
			}
		}
		if lookErr != nil {
			t.Skip("dpkg not on PATH; skipping cross-check with dpkg")
		}
		if !fuzzing && known[[2]string{a, b}] {
			return
		}
		// Parse must reject everything dpkg rejects; it may additionally
		// reject what dpkg only warns about.
		for _, s := range []string{a, b} {
			_, err := Parse(s)
			if s == "" || strings.IndexByte(s, 0) >= 0 || s == "<unknown>" {
				continue // dpkg treats "" and "<unknown>" as blank; argv cannot hold NUL
			}
			verdict := dpkgVerdict(t, s)
			if err == nil && verdict != "ok" && !strings.Contains(verdict, "does not start with digit") {
				t.Fatalf("Parse(%q) accepts a version dpkg reports with %s", s, verdict)
			}
			if err != nil && verdict == "ok" {
				t.Fatalf("Parse(%q) rejects a version dpkg accepts: %v", s, err)
			}
		}
		if errA != nil || errB != nil {
			return
		}
		want, ok := dpkgCompare(t, a, b)
		if !ok {
			t.Fatalf("dpkg rejects %q or %q, which Parse accepts", a, b)
		}
		if ab != want {
			t.Fatalf("CompareStrings(%q, %q) = %d, dpkg says %d", a, b, ab, want)
		}
	})
}
