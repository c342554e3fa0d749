package pipeline

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

// GateNoData is the gate summary when no vulnerability data is cached.
const GateNoData = "no data: run `temper vuln update`"

// Gate is the scan gate of one lock, through the vuln and policy
// packages' public API (as `temper scan`): load the data, refuse stale
// data, scan, evaluate. A missing data set is recorded as "no data" and
// fails the gate; a skip reason passes it with the reason.
type Gate struct {
	DB     *vuln.DB
	NoData error
	Policy *policy.Policy
	Exc    []policy.Exception
	// Skip is the reason the gate is skipped ("" when it is not).
	Skip string
	// AllowStale decides on data older than the policy's max_age.
	AllowStale bool
}

// NewGate loads the cached vulnerability data (none is not an error: the
// gate then says "no data").
func NewGate(c *cache.Cache, pol *policy.Policy, exc []policy.Exception, skip string, allowStale bool, now time.Time) *Gate {
	g := &Gate{Policy: pol, Exc: exc, Skip: skip, AllowStale: allowStale}
	if pol == nil {
		g.Policy = &policy.Policy{}
	}
	db, err := vuln.Load(c, vuln.Files{}, now)
	if err != nil {
		g.NoData = err
		return g
	}
	g.DB = db
	return g
}

// FindingDetail is what a release's scan keeps of each finding: enough
// to name the CVEs the next release fixes.
type FindingDetail struct {
	ID      string `json:"id"`
	Source  string `json:"source"`
	Status  string `json:"status"`
	Urgency string `json:"urgency,omitempty"`
	KEV     bool   `json:"kev,omitempty"`
}

// Evaluate scans l (definition path defPath) and applies the policy now.
func (pg *Gate) Evaluate(defPath string, l *spec.Lock, now time.Time) (scan, gate store.Result) {
	switch {
	case pg.DB == nil && pg.Skip != "":
		return store.Result{Summary: "no data"}, store.Result{Passed: true, Summary: "skipped: " + pg.Skip}
	case pg.DB == nil:
		why := GateNoData
		if pg.NoData != nil {
			why += " (" + pg.NoData.Error() + ")"
		}
		return store.Result{Summary: "no data"}, store.Result{Summary: why + ", or pass --skip-gate --reason TEXT"}
	}
	img := vuln.Scan(defPath, l, pg.DB)
	scan = ScanRecord(img)
	if err := policy.CheckFreshness(pg.DB.Data, pg.Policy.MaxAgeOrDefault(), pg.AllowStale); err != nil {
		return scan, skipOr(pg.Skip, "stale data: "+err.Error())
	}
	g := policy.Evaluate(policy.Input{Image: img, Policy: pg.Policy.For(img.Definition), Exceptions: pg.Exc, Now: now})
	gate = store.Result{Passed: g.Passed, Summary: fmt.Sprintf("%d violations", len(g.Violations))}
	if len(g.Violations) > 0 {
		gate.Summary += ": " + g.Violations[0].Message
		gate = skipOrResult(pg.Skip, gate)
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

// ScanRecord records a scan: open findings (fixable or open) by urgency,
// the KEV count, and every finding in Detail.
func ScanRecord(img *vuln.Image) store.Result {
	r := store.Result{Passed: true, Counts: map[string]int{}}
	var det []FindingDetail
	for _, f := range img.Findings {
		det = append(det, FindingDetail{ID: f.ID, Source: f.Source, Status: string(f.Status), Urgency: f.Urgency, KEV: f.KEV != nil})
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

// Findings are the findings a scan result kept.
func Findings(r store.Result) []FindingDetail {
	var out []FindingDetail
	_ = json.Unmarshal(r.Detail, &out)
	return out
}

// CVEsFixed are the findings fixable in the previous release's scan that
// the new scan no longer has.
func CVEsFixed(prev, now store.Result) []store.CVE {
	before, after := Findings(prev), Findings(now)
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

// LockDiff is the name → version diff of two locks (every architecture;
// "" when absent).
func LockDiff(prev, next *spec.Lock) []store.PackageChange {
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

// Vulns answers the fast track's questions from the loaded data.
type Vulns struct{ DB *vuln.DB }

// KEV reports whether cve is in CISA's KEV catalog.
func (v Vulns) KEV(cve string) bool {
	_, ok := v.DB.KEV[cve]
	return ok
}

// Urgency is left to the urgency the release recorded for the CVE.
func (v Vulns) Urgency(string, string) string { return "" }

// Today re-evaluates a release's gate with today's data, from the lock
// it was built from (promote's gate rule). Without a kept lock or
// without data, the gate recorded at publish stands.
func (pg *Gate) Today(st store.Store, now func() time.Time) release.GateCheck {
	return func(ctx context.Context, stream string, r store.Release) (store.Result, error) {
		if r.Lock == "" || pg.DB == nil {
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
		_, gate := pg.Evaluate(filepath.ToSlash(s.Definition), l, now())
		return gate, nil
	}
}

// UseToday makes svc's promotions and fast track use today's data when
// the gate has any.
func (pg *Gate) UseToday(svc *release.Service, now func() time.Time) {
	if pg.DB != nil {
		svc.Gate = pg.Today(svc.Store, now)
		svc.Vulns = Vulns{pg.DB}
	}
}
