package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/vuln"
	"github.com/temper-dev/temper/internal/vuln/policy"
)

// gateNoData is the gate summary when no vulnerability data is cached.
const gateNoData = "no data: run `temper vuln update`"

// publishGate is the scan gate of one lock, through the vuln and policy
// packages' public API (as `temper scan`): load the data, refuse stale
// data, scan, evaluate. A missing data set is recorded as "no data" and
// fails the gate; --skip-gate --reason passes it with the reason.
type publishGate struct {
	db     *vuln.DB
	noData error
	pol    *policy.Policy
	exc    []policy.Exception
	skip   string // the reason, when skipped
	stale  bool
}

func newPublishGate(g *globalFlags, c *cache.Cache, skipReason string, allowStale bool) (*publishGate, error) {
	pol, exc, err := scanPolicy(g, scanFlags{})
	if err != nil {
		return nil, err
	}
	pg := &publishGate{pol: pol, exc: exc, skip: skipReason, stale: allowStale}
	if pg.db, err = vuln.Load(c, vuln.Files{}, g.now()); err != nil {
		pg.db, pg.noData = nil, err
	}
	return pg, nil
}

// findingDetail is what a release's scan keeps of each finding: enough
// to name the CVEs the next release fixes.
type findingDetail struct {
	ID      string `json:"id"`
	Source  string `json:"source"`
	Status  string `json:"status"`
	Urgency string `json:"urgency,omitempty"`
	KEV     bool   `json:"kev,omitempty"`
}

// evaluate scans l (definition path defPath) and applies the policy now.
func (pg *publishGate) evaluate(defPath string, l *spec.Lock, now time.Time) (scan, gate store.Result) {
	switch {
	case pg.db == nil && pg.skip != "":
		return store.Result{Summary: "no data"}, store.Result{Passed: true, Summary: "skipped: " + pg.skip}
	case pg.db == nil:
		return store.Result{Summary: "no data"}, store.Result{Summary: gateNoData + " (" + pg.noData.Error() + "), or pass --skip-gate --reason TEXT"}
	}
	img := vuln.Scan(defPath, l, pg.db)
	scan = scanRecord(img)
	if err := policy.CheckFreshness(pg.db.Data, pg.pol.MaxAgeOrDefault(), pg.stale); err != nil {
		return scan, skipOr(pg.skip, "stale data: "+err.Error())
	}
	g := policy.Evaluate(policy.Input{Image: img, Policy: pg.pol.For(img.Definition), Exceptions: pg.exc, Now: now})
	gate = store.Result{Passed: g.Passed, Summary: fmt.Sprintf("%d violations", len(g.Violations))}
	if len(g.Violations) > 0 {
		gate.Summary += ": " + g.Violations[0].Message
		gate = skipOrResult(pg.skip, gate)
	}
	gate.Detail, _ = json.Marshal(g)
	return scan, gate
}

func skipOr(skip, why string) store.Result {
	if skip != "" {
		return store.Result{Passed: true, Summary: "skipped: " + skip + " (" + why + ")"}
	}
	return store.Result{Summary: why}
}

func skipOrResult(skip string, r store.Result) store.Result {
	if skip != "" {
		r.Passed, r.Summary = true, "skipped: "+skip+" ("+r.Summary+")"
	}
	return r
}

// scanRecord records a scan: open findings (fixable or open) by urgency,
// the KEV count, and every finding in Detail.
func scanRecord(img *vuln.Image) store.Result {
	r := store.Result{Passed: true, Counts: map[string]int{}}
	var det []findingDetail
	for _, f := range img.Findings {
		det = append(det, findingDetail{ID: f.ID, Source: f.Source, Status: string(f.Status), Urgency: f.Urgency, KEV: f.KEV != nil})
		if f.Status != vuln.Fixable && f.Status != vuln.Open {
			continue
		}
		u := f.Urgency
		if u == "" {
			u = "not yet assigned"
		}
		r.Counts[u]++
		if f.KEV != nil {
			r.KEV++
		}
	}
	r.Summary = fmt.Sprintf("%d findings", len(img.Findings))
	r.Detail, _ = json.Marshal(det)
	return r
}

// cvesFixed are the findings fixable in the previous release's scan that
// the new scan no longer has.
func cvesFixed(prev, now store.Result) []store.CVE {
	var before, after []findingDetail
	_ = json.Unmarshal(prev.Detail, &before)
	_ = json.Unmarshal(now.Detail, &after)
	still := map[string]bool{}
	for _, f := range after {
		still[f.ID+" "+f.Source] = true
	}
	var out []store.CVE
	for _, f := range before {
		if f.Status == string(vuln.Fixable) && !still[f.ID+" "+f.Source] {
			out = append(out, store.CVE{ID: f.ID, Source: f.Source, Urgency: f.Urgency})
		}
	}
	return out
}

// lockDiff is the name → version diff of two locks (every architecture;
// "" when absent).
func lockDiff(prev, next *spec.Lock) []store.PackageChange {
	versions := func(l *spec.Lock) map[string]string {
		m := map[string]string{}
		if l == nil {
			return m
		}
		for _, a := range l.Architectures {
			for _, p := range a.Packages {
				m[p.Name] = p.Version
			}
		}
		return m
	}
	a, b := versions(prev), versions(next)
	var out []store.PackageChange
	for n, v := range b {
		if a[n] != v {
			out = append(out, store.PackageChange{Name: n, From: a[n], To: v})
		}
	}
	for n, v := range a {
		if _, ok := b[n]; !ok {
			out = append(out, store.PackageChange{Name: n, From: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// releaseVulns answers the fast track's questions from the loaded data.
type releaseVulns struct{ db *vuln.DB }

func (v releaseVulns) KEV(cve string) bool {
	_, ok := v.db.KEV[cve]
	return ok
}

// Urgency is left to the urgency the release recorded for the CVE.
func (v releaseVulns) Urgency(string, string) string { return "" }

// gateNow re-evaluates a release's gate with today's data, from the lock
// it was built from (promote's gate rule).
// Without a kept lock or without data, the gate recorded at publish
// stands.
func (pg *publishGate) gateNow(st store.Store, now func() time.Time) release.GateCheck {
	return func(ctx context.Context, stream string, r store.Release) (store.Result, error) {
		if r.Lock == "" || pg.db == nil {
			return r.Gate, nil
		}
		s, err := st.Stream(ctx, stream)
		if err != nil {
			return store.Result{}, err
		}
		l, err := spec.ParseLock(r.Tag+".lock", []byte(r.Lock))
		if err != nil {
			return store.Result{}, err
		}
		_, gate := pg.evaluate(filepath.ToSlash(s.Definition), l, now())
		return gate, nil
	}
}
