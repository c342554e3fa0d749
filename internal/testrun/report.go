package testrun

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteSummary writes a readable report: one line per test, and for each
// failure the command, what was expected and what happened.
func WriteSummary(w io.Writer, reports []*Report) {
	var pass, fail, skip int
	for _, r := range reports {
		src := r.Source
		if r.Digest != "" {
			src = r.Digest[:min(len(r.Digest), 19)] + "… " + src
		}
		fmt.Fprintf(w, "%s (%s) %s\n", r.Image, r.Arch, strings.TrimSpace(src))
		if r.Err != "" {
			fmt.Fprintf(w, "  ERROR %s\n", r.Err)
			fail++
		}
		for _, o := range r.Tests {
			fmt.Fprintf(w, "  %-4s  %-9s %s (%s)\n", strings.ToUpper(string(o.Status)), o.Kind, o.Name, o.Duration.Round(time.Millisecond))
			switch o.Status {
			case Pass:
				pass++
			case Skip:
				skip++
				if o.Message != "" {
					fmt.Fprintf(w, "        skipped:  %s\n", o.Message)
				}
			case Fail:
				fail++
				for _, c := range o.Command {
					fmt.Fprintf(w, "        command:  %s\n", c)
				}
				if o.Message != "" {
					fmt.Fprintf(w, "        error:    %s\n", o.Message)
				}
				if o.Expected != "" {
					fmt.Fprintf(w, "        expected: %s\n", o.Expected)
				}
				if o.Actual != "" {
					fmt.Fprintf(w, "        actual:   %s\n", o.Actual)
				}
				if o.Logs != "" {
					fmt.Fprintf(w, "        logs:\n%s\n", indent(o.Logs, "          "))
				}
			}
		}
	}
	verdict := "PASS"
	if fail > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s: %d images, %d passed, %d failed, %d skipped\n", verdict, len(reports), pass, fail, skip)
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// JSONReport is the --json output.
type JSONReport struct {
	Images  []*Report `json:"images"`
	Passed  int       `json:"passed"`
	Failed  int       `json:"failed"`
	Skipped int       `json:"skipped"`
}

// WriteJSON writes reports as one JSON document.
func WriteJSON(w io.Writer, reports []*Report) error {
	out := JSONReport{Images: reports}
	if out.Images == nil {
		out.Images = []*Report{}
	}
	for _, r := range reports {
		out.Passed += r.Count(Pass)
		out.Failed += r.Failed()
		out.Skipped += r.Count(Skip)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// JUnit XML (the subset CI systems read: Jenkins, GitLab, GitHub actions).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Props    []junitProp `xml:"properties>property,omitempty"`
	Cases    []junitCase `xml:"testcase"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes reports as JUnit XML: a test suite per image (named
// NAME:VERSION/ARCH), a test case per test.
func WriteJUnit(w io.Writer, reports []*Report) error {
	var all junitSuites
	var total time.Duration
	for _, r := range reports {
		s := junitSuite{Name: r.Image + "/" + r.Arch, Time: secs(r.Duration)}
		s.Props = []junitProp{{"definition", r.Definition}, {"digest", r.Digest}, {"source", r.Source}, {"engine", r.Engine}}
		if r.Err != "" {
			s.Errors++
			s.Cases = append(s.Cases, junitCase{Name: "load image", Classname: s.Name, Time: "0", Error: &junitMessage{Message: r.Err}})
		}
		for _, o := range r.Tests {
			c := junitCase{Name: o.Name, Classname: s.Name + "." + o.Kind, Time: secs(o.Duration)}
			switch o.Status {
			case Fail:
				s.Failures++
				var b strings.Builder
				for _, cmd := range o.Command {
					fmt.Fprintf(&b, "command:  %s\n", cmd)
				}
				if o.Expected != "" {
					fmt.Fprintf(&b, "expected: %s\n", o.Expected)
				}
				if o.Actual != "" {
					fmt.Fprintf(&b, "actual:   %s\n", o.Actual)
				}
				msg := o.Message
				if msg == "" {
					msg = "expected " + o.Expected
				}
				c.Failure = &junitMessage{Message: msg, Text: b.String()}
				c.SystemOut = o.Logs
			case Skip:
				s.Skipped++
				c.Skipped = &junitMessage{Message: o.Message}
			}
			s.Cases = append(s.Cases, c)
		}
		s.Tests = len(s.Cases)
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Errors += s.Errors
		all.Skipped += s.Skipped
		total += r.Duration
		all.Suites = append(all.Suites, s)
	}
	all.Time = secs(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
