package lock_test

import (
	"strings"
	"testing"
)

// Every unknown package is named with its line; a release that is
// archived or misspelt gets the release line and a hint.
func TestHints(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"unknown packages", strings.Replace(pythonDef, "packages: [python3]", "packages:\n  - pyhton3\n  - python3\n  - nosuch=1.0\n", 1),
			[]string{"2 unknown package(s)", "python-3.11.yaml:7: package \"pyhton3\" not found in bookworm", "did you mean: python3", "python-3.11.yaml:9: package \"nosuch\" not found"}},
		{"archived release", strings.Replace(pythonDef, "release: bookworm", "release: buster", 1),
			[]string{"python-3.11.yaml:4: release buster is archived: its packages are no longer on Debian's mirrors"}},
		{"misspelt release", strings.Replace(pythonDef, "release: bookworm", "release: bokworm", 1),
			[]string{"python-3.11.yaml:4: release \"bokworm\" is not a Debian release codename; did you mean bookworm?"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.write(t, "python-3.11.yaml", tc.body)
			o := f.run(t)["python-3.11.yaml"]
			if o.Err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(o.Err.Error(), w) {
					t.Errorf("error %q lacks %q", o.Err, w)
				}
			}
		})
	}
}
