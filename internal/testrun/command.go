package testrun

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/spec"
)

// commandTest runs the image with the test's arguments, without network,
// and compares its exit status and output.
func commandTest(ctx context.Context, eng Engine, ref string, tr *tree, ct *spec.CommandTest, timeout time.Duration) Outcome {
	r := eng.Run(ctx, timeout, Container{Image: ref, User: runUser(tr), Args: ct.Args})
	o := Outcome{Command: []string{CommandLine(r.Argv)}}
	if r.Err != nil {
		o.Status, o.Message = Fail, r.Err.Error()
		o.Actual = actual(r)
		return o
	}
	var want []string
	ok := true
	want = append(want, fmt.Sprintf("exit %d", ct.Exit))
	if r.Exit != ct.Exit {
		ok = false
	}
	if ct.Stdout != nil {
		want = append(want, "stdout "+matchString(ct.Stdout))
		ok = matches(ct.Stdout, r.Stdout) && ok
	}
	if ct.Stderr != nil {
		want = append(want, "stderr "+matchString(ct.Stderr))
		ok = matches(ct.Stderr, r.Stderr) && ok
	}
	o.Expected = strings.Join(want, ", ")
	if ok {
		o.Status = Pass
		return o
	}
	o.Status, o.Actual = Fail, actual(r)
	return o
}

func actual(r Result) string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.Exit, clip(r.Stdout), clip(r.Stderr))
}

func clip(s string) string {
	const max = 2000
	if len(s) > max {
		return s[:max/2] + "\n…\n" + s[len(s)-max/2:]
	}
	return s
}

func matchString(m *spec.Match) string {
	if m.Regex != "" {
		return fmt.Sprintf("matching /%s/", m.Regex)
	}
	return fmt.Sprintf("containing %q", m.Contains)
}

func matches(m *spec.Match, s string) bool {
	if m.Regex != "" {
		re, err := regexp.Compile("(?m)" + m.Regex)
		return err == nil && re.MatchString(s)
	}
	return strings.Contains(s, m.Contains)
}
