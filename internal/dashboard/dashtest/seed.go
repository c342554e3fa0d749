// Package dashtest seeds a store with a catalog's worth of history for the
// dashboard's tests, benchmarks and screenshots: streams of several
// runtimes and Debian releases, releases over weeks with patch-latency
// times, findings, channel moves (promotions, a fast track, a rollback),
// a frozen stream and blocked ones. Everything is derived from the
// stream's and release's numbers, so two seeds of the same size are equal.
package dashtest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
)

// Options size a seed.
type Options struct {
	Streams  int // default 300
	Releases int // per stream, default 50
	// Weeks the releases span, ending at End (default 12).
	Weeks int
	// End is the newest time in the seed (default: now, to the minute).
	End time.Time
}

// Seeded names what a seed made, for tests to look for.
type Seeded struct {
	Streams    []string
	Frozen     string // frozen at the end of its Debian support
	FastTrack  string // its newest release was fast-tracked to production
	RolledBack string
	Blocked    []string // newest release refused by the gate
	// KEV is the CVE known to be exploited that the seed's findings carry.
	KEV string
	// Releases and Moves count what was written.
	Releases, Moves int
}

// Runtimes are the seed's image names.
var Runtimes = []string{"base", "static", "python", "node", "openjdk", "golang", "ruby", "php", "nginx", "postgres", "redis", "dotnet"}

var debianReleases = []struct{ name, eol string }{{"bookworm", "2028-06-30"}, {"trixie", "2030-06-30"}}

// cvePool is the findings' vocabulary: id, source package, urgency.
var cvePool = []struct{ id, source, urgency string }{
	{"CVE-2025-0001", "openssl", "high"}, {"CVE-2025-0002", "glibc", "medium"}, {"CVE-2025-0003", "zlib", "low"},
	{"CVE-2025-0004", "curl", "medium"}, {"CVE-2025-0005", "libxml2", "high"}, {"CVE-2025-0006", "expat", "low"},
	{"CVE-2025-0007", "sqlite3", "medium"}, {"CVE-2025-0008", "krb5", "high"}, {"CVE-2025-0009", "systemd", "low"},
	{"CVE-2025-0010", "libssh2", "medium"}, {"CVE-2025-0011", "gnutls28", "high"}, {"CVE-2025-0012", "pcre2", "low"},
	{"CVE-2025-0013", "ncurses", "unimportant"}, {"CVE-2025-0014", "tar", "unimportant"}, {"CVE-2025-0015", "perl", "medium"},
	{"CVE-2024-3094", "xz-utils", "high"}, // the seed's KEV entry
}

// KEV is the seed's known-exploited CVE.
const KEV = "CVE-2024-3094"

type finding struct {
	ID      string `json:"id"`
	Source  string `json:"source"`
	Status  string `json:"status"`
	Urgency string `json:"urgency,omitempty"`
	KEV     bool   `json:"kev,omitempty"`
}

// findings are stream s's findings at release r of n: each CVE of the
// pool affects a stream for a window of releases, fixable in its second
// half; older releases carry more.
func findings(s, r, n int) []finding {
	var out []finding
	for i, c := range cvePool {
		if (s+i)%3 != 0 {
			continue
		}
		start := (i*7 + s) % n
		length := 4 + (i+s)%9
		if c.id == KEV {
			switch s % 10 {
			case 0:
				start, length = n-6, 4 // recent, fixed by a fast track
			case 5:
				start, length = n-3, 10 // fixable, not released yet
			default:
				continue
			}
		}
		if r < start || r >= start+length {
			if !(c.urgency == "unimportant" && r >= start) {
				continue
			}
		}
		status := "open"
		switch {
		case c.urgency == "unimportant":
			status = "no-dsa"
		case r >= start+length/2:
			status = "fixable"
		}
		out = append(out, finding{ID: c.id, Source: c.source, Status: status, Urgency: c.urgency, KEV: c.id == KEV})
	}
	return out
}

func scanOf(fs []finding) store.Result {
	r := store.Result{Passed: true, Counts: map[string]int{}}
	for _, f := range fs {
		if f.Status != "fixable" && f.Status != "open" {
			continue
		}
		r.Counts[f.Urgency]++
		if f.KEV {
			r.KEV++
		}
	}
	r.Summary = fmt.Sprintf("%d findings", len(fs))
	r.Detail, _ = json.Marshal(fs)
	return r
}

func fixed(prev, now []finding) []store.CVE {
	still := map[string]bool{}
	for _, f := range now {
		still[f.ID] = true
	}
	var out []store.CVE
	for _, f := range prev {
		if f.Status == "fixable" && !still[f.ID] {
			out = append(out, store.CVE{ID: f.ID, Source: f.Source, Urgency: f.Urgency})
		}
	}
	return out
}

// StreamName is the seed's i-th stream.
func StreamName(i int) string {
	rt := Runtimes[i%len(Runtimes)]
	d := debianReleases[(i/len(Runtimes))%len(debianReleases)]
	return fmt.Sprintf("%s:%d.%d-%s", rt, 1+i/(len(Runtimes)*len(debianReleases)), i%7, d.name)
}

// Seed writes the history through the store's own methods.
func Seed(ctx context.Context, st store.Store, o Options) (Seeded, error) {
	if o.Streams <= 0 {
		o.Streams = 300
	}
	if o.Releases <= 0 {
		o.Releases = 50
	}
	if o.Weeks <= 0 {
		o.Weeks = 12
	}
	if o.End.IsZero() {
		o.End = time.Now().UTC().Truncate(time.Minute)
	}
	start := o.End.Add(-time.Duration(o.Weeks) * 7 * 24 * time.Hour)
	step := o.End.Sub(start) / time.Duration(o.Releases)
	out := Seeded{KEV: KEV}
	for s := range o.Streams {
		name := StreamName(s)
		d := debianReleases[(s/len(Runtimes))%len(debianReleases)]
		stream := store.Stream{Name: name, Definition: "catalog/" + name + ".yaml", EOL: d.eol}
		if s == 1 {
			// The frozen stream: Debian support for its release ended.
			stream.Name, stream.EOL = "python:3.9-bullseye", o.End.AddDate(0, -2, 0).Format(time.DateOnly)
			name = stream.Name
			out.Frozen = name
		}
		if err := st.PutStream(ctx, stream); err != nil {
			return out, err
		}
		out.Streams = append(out.Streams, name)
		n, m, err := seedStream(ctx, st, s, name, start, step, o, &out)
		if err != nil {
			return out, err
		}
		out.Releases += n
		out.Moves += m
		if s == 1 {
			if err := st.Freeze(ctx, name, o.End.AddDate(0, -2, 1)); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// seedStream publishes a stream's releases and moves them: every release
// enters testing; every fourth reaches staging two days later and
// production nine days later; stream 0's last release is fast-tracked;
// stream 2's production is rolled back.
func seedStream(ctx context.Context, st store.Store, s int, name string, start time.Time, step time.Duration, o Options, out *Seeded) (int, int, error) {
	_, version, _ := release.SplitStream(name)
	ss := &streamSeeder{ctx: ctx, st: st, s: s, name: name, version: version, o: o, out: out}
	var prev []finding
	var prodID int64
	for r := range o.Releases {
		id, published, fs, err := ss.publish(r, start, step, prev)
		if err != nil {
			return 0, 0, err
		}
		prev = fs
		ss.schedule(r, id, published)
		if s == 2 && r == o.Releases-9 {
			prodID = id
		}
	}
	if err := ss.flush(o.End); err != nil {
		return 0, 0, err
	}
	if s == 2 && prodID != 0 {
		if err := ss.rollback(prodID); err != nil {
			return 0, 0, err
		}
	}
	return o.Releases, ss.moves, nil
}

// pendingMove is a move seeded once the clock passes at.
type pendingMove struct {
	id    int64
	at    time.Time
	ch    string
	from  string
	kind  string
	why   string
	rback int64
}

// streamSeeder is one stream's seeding state: the moves made so far and
// the moves waiting for their time.
type streamSeeder struct {
	ctx     context.Context
	st      store.Store
	s       int
	name    string
	version string
	o       Options
	out     *Seeded
	moves   int
	later   []pendingMove
}

// flush makes the pending moves due by until.
func (ss *streamSeeder) flush(until time.Time) error {
	rest := ss.later[:0]
	for _, p := range ss.later {
		if p.at.After(until) {
			rest = append(rest, p)
			continue
		}
		if err := ss.st.Move(ss.ctx, store.Move{Stream: ss.name, Channel: p.ch, ReleaseID: p.id, From: p.from, Kind: p.kind, Reason: p.why, At: p.at}, p.rback); err != nil {
			return err
		}
		ss.moves++
	}
	ss.later = rest
	return nil
}

// publish publishes release r into testing, after flushing the moves due
// by then; it returns the release's id, publication time and findings.
func (ss *streamSeeder) publish(r int, start time.Time, step time.Duration, prev []finding) (int64, time.Time, []finding, error) {
	s, o, name := ss.s, ss.o, ss.name
	archive := start.Add(time.Duration(r)*step + time.Duration((s*37+r*11)%180)*time.Minute)
	detected := archive.Add(time.Duration(5+(s+r)%40) * time.Minute)
	built := detected.Add(time.Duration(8+(s*3+r)%30) * time.Minute)
	published := built.Add(time.Duration(2+(s+r*5)%9) * time.Minute)
	if published.After(o.End) {
		published = o.End
	}
	if err := ss.flush(published); err != nil {
		return 0, time.Time{}, nil, err
	}
	fs := findings(s, r, o.Releases)
	gate := store.Result{Passed: true, Summary: "gate passed"}
	last := r == o.Releases-1
	if last && s%25 == 7 {
		gate = store.Result{Passed: false, Summary: "1 fixable high finding older than 7 days (CVE-2025-0005 in libxml2)"}
		ss.out.Blocked = append(ss.out.Blocked, name)
	}
	tests := store.Result{Passed: true, Suite: "essential", Summary: "12 passed"}
	if r%4 == 0 || last {
		tests = store.Result{Passed: true, Suite: "full", Summary: "snapshot: 31 passed"}
	}
	rel := store.Release{Stream: name, Day: release.Day(published), Digest: digest(s, r), LockDigest: digest(s, r+100000),
		BuildKey: fmt.Sprintf("%d/%d", s, r), Packages: packages(s, r), CVEsFixed: fixed(prev, fs), Tests: tests, Scan: scanOf(fs), Gate: gate,
		ArchivePublished: archive, Detected: detected, Built: built}
	res, _, err := ss.st.ReserveRelease(ss.ctx, rel, func(n int) string { return release.ReleaseTag(ss.version, published, n) })
	if err != nil {
		return 0, time.Time{}, nil, err
	}
	if _, err := ss.st.ConfirmRelease(ss.ctx, res.ID, published, store.Move{Stream: name, Channel: "testing", Kind: store.KindPublish, At: published}); err != nil {
		return 0, time.Time{}, nil, err
	}
	ss.moves++
	return res.ID, published, fs, nil
}

// schedule queues release r's later moves: a fast track for some streams'
// last release, promotions for every fourth.
func (ss *streamSeeder) schedule(r int, id int64, published time.Time) {
	s, o := ss.s, ss.o
	last := r == o.Releases-1
	switch {
	case last && s%10 == 0:
		// A fix of an exploited CVE: fast-tracked through every channel.
		why := "fast track: " + KEV + " (KEV) fixed in xz-utils"
		ss.later = append(ss.later, pendingMove{id, published.Add(40 * time.Minute), "staging", "testing", store.KindFastTrack, why, 0},
			pendingMove{id, published.Add(41 * time.Minute), "production", "staging", store.KindFastTrack, why, 0})
		if s == 0 {
			ss.out.FastTrack = ss.name
		}
	case r%4 == 0:
		// Staging after the next snapshot (1–3 days), production after
		// the 7-day soak and a wait for the daily promotion that
		// shrinks as the weeks go by.
		staging := published.Add(time.Duration(24+(s+r)%3*24+(s*5+r)%12) * time.Hour)
		prod := staging.Add(7*24*time.Hour + time.Duration((s*7+r*13)%30+(o.Releases-r))*time.Hour)
		ss.later = append(ss.later, pendingMove{id, staging, "staging", "testing", store.KindPromote, "soak 0d in testing, tests full, gate passed", 0},
			pendingMove{id, prod, "production", "staging", store.KindPromote, "soak 7d in staging, tests full, gate passed", 0})
	}
}

// rollback rolls production back to prodID, the release before its head.
func (ss *streamSeeder) rollback(prodID int64) error {
	heads, err := ss.st.Heads(ss.ctx, ss.name)
	if err != nil {
		return err
	}
	for _, h := range heads {
		if h.Channel == "production" && h.Release.ID != prodID {
			if err := ss.st.Move(ss.ctx, store.Move{Stream: ss.name, Channel: "production", ReleaseID: prodID, Kind: store.KindRollback,
				Reason: "rollback: health checks failed after the update", At: ss.o.End.Add(-3 * time.Hour)}, h.Release.ID); err != nil {
				return err
			}
			ss.moves++
			ss.out.RolledBack = ss.name
		}
	}
	return nil
}

func digest(s, r int) string {
	return fmt.Sprintf("sha256:%064x", uint64(s)<<32|uint64(r)+1)
}

func packages(s, r int) []store.PackageChange {
	if r == 0 {
		return []store.PackageChange{{Name: "libc6", To: "2.36-9+deb12u1"}, {Name: "libssl3", To: "3.0.11-1~deb12u1"}}
	}
	return []store.PackageChange{{Name: cvePool[(s+r)%len(cvePool)].source, From: fmt.Sprintf("1.%d-1", r-1), To: fmt.Sprintf("1.%d-1", r)}}
}
