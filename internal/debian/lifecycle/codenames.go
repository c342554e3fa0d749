package lifecycle

import "slices"

// Codenames are Debian's release codenames, oldest first, then the
// rolling suites. The lifecycle data names the same series; this list
// needs no download, so a definition's release can be checked offline.
var Codenames = []string{
	"buzz", "rex", "bo", "hamm", "slink", "potato", "woody", "sarge", "etch",
	"lenny", "squeeze", "wheezy", "jessie", "stretch", "buster", "bullseye",
	"bookworm", "trixie", "forky", "duke", "sid", "experimental",
}

// Archived are the releases no longer on Debian's mirrors: their packages
// live only in Debian's archive of old releases.
var Archived = Codenames[:slices.Index(Codenames, "buster")+1]

// Known reports whether name is a Debian codename, and whether that
// release is archived (gone from the mirrors).
func Known(name string) (known, archived bool) {
	return slices.Contains(Codenames, name), slices.Contains(Archived, name)
}

// Closest returns the codename nearest to name (edit distance at most 2),
// or "".
func Closest(name string) string {
	best, bestD := "", 3
	for _, c := range Codenames {
		if d := distance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
