package spec

import (
	"strings"
	"testing"
)

// TestRepositoryEndOfSupport: end_of_support: is a day, bare (YAML's
// timestamp) or quoted; anything else is refused at its line.
func TestRepositoryEndOfSupport(t *testing.T) {
	head := "name: php\nversion: \"8.3\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [php8.3-cli]\nrepositories:\n"
	repo := "  - name: php\n    url: http://h.example/php\n    suites: [bookworm]\n    key: keys/php.asc\n    fingerprint: \"0123456789ABCDEF0123456789ABCDEF01234567\"\n"
	for _, v := range []string{"2027-06-30", "\"2027-06-30\""} {
		def, err := ParseDefinition("x.yaml", []byte(head+repo+"    end_of_support: "+v+"\n"))
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if got := def.Repositories[0].EndOfSupport; got != "2027-06-30" {
			t.Errorf("%s: end of support %q", v, got)
		}
	}
	if def, err := ParseDefinition("x.yaml", []byte(head+repo)); err != nil || def.Repositories[0].EndOfSupport != "" {
		t.Errorf("none: %v %+v", err, def)
	}
	for _, v := range []string{"2027-13-01", "soon", "2027-06-30T00:00:00Z", "20270630", "[2027-06-30]"} {
		_, err := ParseDefinition("x.yaml", []byte(head+repo+"    end_of_support: "+v+"\n"))
		if err == nil || !strings.Contains(err.Error(), "x.yaml:13:21: repositories[0].end_of_support: expected a day as YYYY-MM-DD, e.g. 2027-06-30") {
			t.Errorf("%s: %v", v, err)
		}
	}
}
