package resolve

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/temper-dev/temper/internal/debian/archive"
)

// Pin is one apt_preferences(5) record: which package versions it applies
// to and the Pin-Priority it gives them.
//
// A pin whose Packages is empty or ["*"] is a general pin (it gives its
// priority to whole package files: suites of an archive or repository); one
// that names packages (names, globs such as "php8.3*", or /regex/) is a
// specific pin. As in apt, for each version the first specific pin that
// matches decides its priority; failing that, each of its package files
// takes the priority of the first general pin that matches the file, or the
// file's default (500; 1 for NotAutomatic suites, 100 with
// ButAutomaticUpgrades), and the version has the highest of its files'.
type Pin struct {
	// Packages are apt's "Package:" entries.
	Packages []string
	// Release is apt's "Pin: release" value: comma-separated key=value
	// conditions on the suite's Release file: o= Origin, l= Label, a=
	// Suite (archive), n= Codename, v= Version, c= component, b=
	// architecture. Values may be globs. "" matches every release.
	Release string
	// Origin is apt's "Pin: origin" value: the host name the package file
	// was fetched from. "" matches every host.
	Origin string
	// Repository restricts the pin to one designated repository's files
	// (by name), or to Debian's own suites with DebianRepository: temper's
	// way of writing a pin that names the source a definition declared.
	Repository string
	// Priority is apt's Pin-Priority: above 1000 even downgrades, 990 the
	// target release, 500 the default, 100 installed, 1 NotAutomatic, and
	// below 0 never installed. 0 is not a valid priority.
	Priority int
}

// DebianRepository is the Repository a pin names to apply to Debian's own
// suites only.
const DebianRepository = "debian"

// Policy is an ordered list of pins (an apt preferences file).
type Policy struct {
	Pins []Pin
}

// Default priorities, as apt gives them.
const (
	DefaultPriority      = 500
	NotAutomaticPriority = 1
	AutoUpgradesPriority = 100
)

// matcher is a compiled Pin.
type matcher struct {
	pin      Pin
	general  bool
	names    map[string]bool
	globs    []string
	regexps  []*regexp.Regexp
	releaseC [][2]string
}

func compilePins(p *Policy) ([]matcher, error) {
	if p == nil {
		return nil, nil
	}
	out := make([]matcher, 0, len(p.Pins))
	for i, pin := range p.Pins {
		m := matcher{pin: pin, names: map[string]bool{}}
		if pin.Priority == 0 || pin.Priority < -32768 || pin.Priority > 32767 {
			return nil, fmt.Errorf("pin %d: priority %d: must be a non-zero integer between -32768 and 32767 (apt's Pin-Priority)", i+1, pin.Priority)
		}
		if len(pin.Packages) == 0 || len(pin.Packages) == 1 && pin.Packages[0] == "*" {
			m.general = true
		}
		for _, pat := range pin.Packages {
			switch {
			case m.general:
			case len(pat) > 2 && strings.HasPrefix(pat, "/") && strings.HasSuffix(pat, "/"):
				re, err := regexp.Compile(pat[1 : len(pat)-1])
				if err != nil {
					return nil, fmt.Errorf("pin %d: package %q: %v", i+1, pat, err)
				}
				m.regexps = append(m.regexps, re)
			case strings.ContainsAny(pat, "*?["):
				if _, err := path.Match(pat, ""); err != nil {
					return nil, fmt.Errorf("pin %d: package %q: bad glob: %v", i+1, pat, err)
				}
				m.globs = append(m.globs, pat)
			default:
				m.names[pat] = true
			}
		}
		if pin.Release != "" {
			for _, cond := range strings.Split(pin.Release, ",") {
				k, v, ok := strings.Cut(strings.TrimSpace(cond), "=")
				if !ok || !strings.Contains("olanvcb", k) || len(k) != 1 {
					return nil, fmt.Errorf("pin %d: release %q: write key=value conditions separated by commas, keys o (origin), l (label), a (suite), n (codename), v (version), c (component), b (architecture)", i+1, pin.Release)
				}
				m.releaseC = append(m.releaseC, [2]string{k, v})
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// matchesName reports whether a specific pin names the package.
func (m *matcher) matchesName(name string) bool {
	if m.names[name] {
		return true
	}
	for _, g := range m.globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	for _, re := range m.regexps {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// matchesFile reports whether the pin's release, origin and repository
// conditions hold for the package file p comes from.
func (m *matcher) matchesFile(p *archive.Package) bool {
	switch m.pin.Repository {
	case "":
	case DebianRepository:
		if p.Repository != "" {
			return false
		}
	default:
		if p.Repository != m.pin.Repository {
			return false
		}
	}
	if m.pin.Origin != "" {
		u, err := url.Parse(p.Base)
		if err != nil || !strings.EqualFold(u.Hostname(), m.pin.Origin) {
			return false
		}
	}
	if len(m.releaseC) > 0 {
		if p.From == nil || p.From.Release == nil {
			return false
		}
		rel := p.From.Release
		for _, c := range m.releaseC {
			var field string
			switch c[0] {
			case "o":
				field = rel.Origin
			case "l":
				field = rel.Label
			case "a":
				field = rel.Suite
			case "n":
				field = rel.Codename
			case "v":
				field = rel.Version
			case "c":
				field = p.Component
			case "b":
				field = p.Architecture
			}
			if !globEqual(c[1], field) {
				return false
			}
		}
	}
	return true
}

func globEqual(pattern, s string) bool {
	if strings.ContainsAny(pattern, "*?[") {
		ok, _ := path.Match(pattern, s)
		return ok
	}
	return pattern == s
}

// filePriority is the priority of p's package file: the first general pin
// that matches it, else the suite's default.
func filePriority(ms []matcher, p *archive.Package) int {
	for i := range ms {
		if ms[i].general && ms[i].matchesFile(p) {
			return ms[i].pin.Priority
		}
	}
	if p.From != nil && p.From.Release != nil && p.From.Release.NotAutomatic {
		if p.From.Release.ButAutomaticUpgrades {
			return AutoUpgradesPriority
		}
		return NotAutomaticPriority
	}
	return DefaultPriority
}

// priorities computes the priority of each of a name's versions (vs,
// highest version first; equal versions from several suites are one apt
// version with several files) and returns apt's candidate: the version of
// highest priority, the highest version among equals, none when every
// priority is below 1.
func priorities(ms []matcher, vs []*archive.Package) (cand *archive.Package, prio []int) {
	prio = make([]int, len(vs))
	for i := 0; i < len(vs); {
		j := i + 1
		for j < len(vs) && vs[j].Version == vs[i].Version {
			j++
		}
		group := vs[i:j]
		p, specific := 0, false
		for k := range ms {
			if ms[k].general || !ms[k].matchesName(group[0].Name) {
				continue
			}
			for _, v := range group {
				if ms[k].matchesFile(v) {
					p, specific = ms[k].pin.Priority, true
					break
				}
			}
			if specific {
				break
			}
		}
		if !specific {
			p = filePriority(ms, group[0])
			for _, v := range group[1:] {
				p = max(p, filePriority(ms, v))
			}
		}
		for k := i; k < j; k++ {
			prio[k] = p
		}
		i = j
	}
	best := 0
	for i, p := range prio {
		if p > best {
			best, cand = p, vs[i]
		}
	}
	return cand, prio
}
