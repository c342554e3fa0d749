package spec

import (
	"strings"
	"testing"
)

func TestRepositoryValidation(t *testing.T) {
	head := "name: php\nversion: \"8.3\"\ndebian:\n  release: bookworm\narchitectures: [amd64]\npackages: [php8.3-cli]\nrepositories:\n"
	ok := "  - name: php\n    url: http://h.example/php\n    suites: [bookworm]\n    key: keys/php.asc\n    fingerprint: \"0123456789ABCDEF0123456789ABCDEF01234567\"\n    pins:\n      - packages: [\"php8.3*\"]\n        priority: 990\n    default_priority: 100\n"
	def, err := ParseDefinition("x.yaml", []byte(head+ok))
	if err != nil {
		t.Fatal(err)
	}
	r := def.Repositories[0]
	if r.Name != "php" || r.Pins[0].Priority != 990 || r.DefaultPriority != 100 || r.Flat() || def.KeyPath(r) != "keys/php.asc" {
		t.Errorf("parsed %+v", r)
	}
	for _, c := range []struct{ from, to, want string }{
		{"fingerprint: \"0123456789ABCDEF0123456789ABCDEF01234567\"", "fingerprint: \"0123 4567\"", "x.yaml:12:18: repositories[0].fingerprint"},
		{"priority: 990", "priority: 0", "x.yaml:15:19: repositories[0].pins[0].priority: 0 is not a valid apt priority"},
		{"url: http://h.example/php", "url: ftp://h.example/php", "repositories[0].url"},
		{"suites: [bookworm]", "suites: [\"./\"]\n    components: [main]", "a flat repository (suite \"./\") has no components"},
		{"name: php", "name: debian", "repositories[0].name: \"debian\" is Debian's own archive"},
		{"key: keys/php.asc", "key: /etc/php.asc", "repositories[0].key"},
	} {
		_, err := ParseDefinition("x.yaml", []byte(head+strings.Replace(ok, c.from, c.to, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want %q, got %v", c.to, c.want, err)
		}
	}
	if _, err := ParseDefinition("x.yaml", []byte(head+ok+strings.Replace(ok, "url: http://h.example/php", "url: http://h.example/other", 1))); err == nil || !strings.Contains(err.Error(), "duplicate repository \"php\"") {
		t.Errorf("duplicate name: %v", err)
	}
}
