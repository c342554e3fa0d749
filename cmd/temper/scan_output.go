package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/vuln"
	"github.com/temper-dev/temper/internal/vuln/openvex"
)

// writeScanOutputs writes the report (JSON or text) and the files asked for.
func writeScanOutputs(w io.Writer, rep *scanReport, f scanFlags, now time.Time) error {
	for _, r := range rep.Images {
		if r.Image != nil {
			sortFindings(r.Findings)
		}
	}
	if f.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeScanText(w, rep)
	}
	if f.openvexDir != "" {
		if err := writeOpenVEX(f.openvexDir, rep, openvex.Options{Timestamp: now}); err != nil {
			return err
		}
	}
	if f.sarifFile != "" {
		data, err := json.MarshalIndent(sarifOf(rep), "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(f.sarifFile, append(data, '\n'), 0o644)
	}
	return nil
}

// statusOrder is how findings are listed after KEV ones: what an update
// removes first, what nobody will fix last.
var statusOrder = map[vuln.Status]int{vuln.Fixable: 0, vuln.Open: 1, vuln.Undetermined: 2, vuln.NoDSA: 3, vuln.Postponed: 4, vuln.Ignored: 5, vuln.EndOfLife: 6, vuln.Unimportant: 7}

func sortFindings(fs []vuln.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if (a.KEV != nil) != (b.KEV != nil) {
			return a.KEV != nil
		}
		if statusOrder[a.Status] != statusOrder[b.Status] {
			return statusOrder[a.Status] < statusOrder[b.Status]
		}
		ra, _ := vuln.UrgencyRank(a.Urgency)
		rb, _ := vuln.UrgencyRank(b.Urgency)
		if ra != rb {
			return ra > rb
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Source < b.Source
	})
}

func writeScanText(w io.Writer, rep *scanReport) {
	fmt.Fprintf(w, "data: %s\n", dataLine(rep.Data))
	for _, r := range rep.Images {
		fmt.Fprintf(w, "\n%s (%s; %s)", r.Definition, r.Release, strings.Join(r.Architectures, ", "))
		if r.Error != "" {
			fmt.Fprintf(w, ": error: %s\n  gate: FAILED (not scanned)\n", r.Error)
			continue
		}
		fmt.Fprintf(w, ": %d findings%s", len(r.Findings), counts(r.Findings))
		if len(r.NotCovered) > 0 {
			fmt.Fprintf(w, "; %d source packages not covered by Debian's security data", len(r.NotCovered))
		}
		fmt.Fprintln(w)
		for _, m := range r.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", m)
		}
		for _, f := range r.Findings {
			writeFinding(w, f)
		}
		for _, n := range r.NotCovered {
			fmt.Fprintf(w, "  %s %s %s (%s): %s\n", n.Status, n.Source, n.SourceVersion, strings.Join(n.Packages, ", "), n.Reason)
		}
		if r.Gate.Passed {
			fmt.Fprintln(w, "  gate: passed")
		} else {
			fmt.Fprintf(w, "  gate: FAILED (%d violations)\n", len(r.Gate.Violations))
		}
		for _, v := range r.Gate.Violations {
			fmt.Fprintf(w, "    %s: %s\n", v.Rule, v.Message)
		}
		for _, e := range r.Gate.Exceptions {
			state := "applied"
			if e.Expired {
				state = "EXPIRED, not applied"
			}
			fmt.Fprintf(w, "    exception %s %s (%s, %s, expires %s): %s\n", e.ID, e.Status, e.Author, e.File, e.Expires, state)
		}
	}
}

func dataLine(d vuln.Data) string {
	var parts []string
	for _, x := range []struct {
		name string
		ds   *vuln.Dataset
	}{{"security tracker", d.Tracker}, {"KEV", d.KEV}, {"EPSS", d.EPSS}} {
		if x.ds == nil {
			parts = append(parts, x.name+" none")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s old)", x.name, x.ds.SHA256[:12], x.ds.Age().Round(time.Minute)))
	}
	return strings.Join(parts, "; ")
}

// counts is ": fixable 3, no-dsa 1 | high 2, low 2 | KEV 1".
func counts(fs []vuln.Finding) string {
	if len(fs) == 0 {
		return ""
	}
	byStatus, byUrgency, kev := map[string]int{}, map[string]int{}, 0
	for _, f := range fs {
		byStatus[string(f.Status)]++
		byUrgency[f.Urgency]++
		if f.KEV != nil {
			kev++
		}
	}
	s := ": " + joinCounts(byStatus, []string{"fixable", "open", "undetermined", "no-dsa", "postponed", "ignored", "end-of-life", "unimportant"}) +
		" | " + joinCounts(byUrgency, []string{"high", "medium", "low", "not yet assigned", "unimportant", "end-of-life"})
	if kev > 0 {
		s += fmt.Sprintf(" | KEV %d", kev)
	}
	return s
}

func joinCounts(m map[string]int, order []string) string {
	var out []string
	for _, k := range order {
		if m[k] > 0 {
			out = append(out, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(out, ", ")
}

func writeFinding(w io.Writer, f vuln.Finding) {
	mark := "   "
	if f.KEV != nil {
		mark = "KEV"
	}
	ver := f.SourceVersion
	if f.Status == vuln.Fixable {
		ver += " → " + f.FixedVersion
	}
	urg := f.Urgency
	if f.UrgencyFromNVD {
		urg += " (NVD)"
	}
	fmt.Fprintf(w, "  %s %-16s %-12s %-16s %s %s [%s]\n", mark, f.ID, f.Status, urg, f.Source, ver, strings.Join(f.Packages, " "))
	if f.KEV != nil {
		fmt.Fprintf(w, "        known exploited since %s (due %s, ransomware %s)\n", f.KEV.DateAdded, f.KEV.DueDate, f.KEV.Ransomware)
	}
	if f.Comment != "" {
		fmt.Fprintf(w, "        Debian: %s\n", f.Comment)
	}
}
