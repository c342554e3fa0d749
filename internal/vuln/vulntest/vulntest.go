// Package vulntest makes security tracker fixtures for tests that lock
// real definitions: entries naming the lock's real source packages and
// versions, so matching against the live archive's current state gives
// known statuses.
package vulntest

import (
	"encoding/json"
	"sort"

	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/vuln"
)

// Fixture IDs: FixableID is fixed after the locked version of one source,
// FixedID at exactly the locked version of another.
const (
	FixableID = "CVE-2099-0001"
	FixedID   = "CVE-2099-0002"
)

// Tracker returns a tracker JSON export for the lock's release with two
// entries: FixableID for the first source (in name order) at a
// fixed_version just above its locked one, FixedID for the second at its
// locked version. It also returns those two sources.
func Tracker(l *spec.Lock) ([]byte, [2]string) {
	versions := map[string]string{}
	for _, a := range l.Architectures {
		if a == nil {
			continue
		}
		for _, p := range a.Packages {
			versions[p.Source] = vuln.SourceVersion(p)
		}
	}
	names := make([]string, 0, len(versions))
	for n := range versions {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) < 2 {
		panic("vulntest: the lock needs two source packages")
	}
	entry := func(fixed, urgency string) map[string]any {
		return map[string]any{
			"description": "a fixture entry naming the locked version",
			"scope":       "remote",
			"releases": map[string]any{l.Release: map[string]any{
				"status": "resolved", "repositories": map[string]string{l.Release: fixed},
				"fixed_version": fixed, "urgency": urgency,
			}},
		}
	}
	a, b := names[0], names[1]
	// "+temper1" sorts after the version it extends (dpkg ordering).
	doc := map[string]any{
		a: map[string]any{FixableID: entry(versions[a]+"+temper1", "low")},
		b: map[string]any{FixedID: entry(versions[b], "medium")},
	}
	data, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		panic(err)
	}
	return data, [2]string{a, b}
}
