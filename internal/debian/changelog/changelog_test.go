package changelog

import (
	"slices"
	"testing"
)

const text = `foo (1.0-1+deb12u1) bookworm-security; urgency=high

  * Non-maintainer upload by the Security Team.
  * Fix heap overflow in the parser (CVE-2026-1111).
  * Fix use-after-free in foo_free() (CVE-2026-22222, CVE-2026-1111).

 -- Security Team <team@security.example.org>  Mon, 05 Jan 2026 10:00:00 +0000

foo (1.0-1) unstable; urgency=medium

  * Initial release; an old issue (CVE-2020-0001) was fixed before.

 -- Maintainer <m@example.org>  Mon, 01 Jan 2024 10:00:00 +0000
`

func TestParseAndBetween(t *testing.T) {
	entries, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Version != "1.0-1+deb12u1" || entries[0].Urgency != "high" || entries[0].Distribution != "bookworm-security" {
		t.Fatalf("%+v", entries)
	}
	cves, urg, vers := Between(entries, "1.0-1", "1.0-1+deb12u1")
	if !slices.Equal(cves, []string{"CVE-2026-1111", "CVE-2026-22222"}) || urg != "high" || !slices.Equal(vers, []string{"1.0-1+deb12u1"}) {
		t.Errorf("between: %v %q %v", cves, urg, vers)
	}
	if cves, _, _ := Between(entries, "0.9-1", "1.0-1"); !slices.Equal(cves, []string{"CVE-2020-0001"}) {
		t.Errorf("older range: %v", cves)
	}
}

func TestParseNoEntries(t *testing.T) {
	if _, err := Parse([]byte("  * not a header\n")); err == nil {
		t.Fatal("want an error for a changelog without entries")
	}
}
