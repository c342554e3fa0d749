package changelog

import "testing"

// FuzzParse: any changelog text parses or fails, never panics; Between
// works on whatever parsed. Seeds: testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte("openssl (3.0.15-1~deb12u1) bookworm-security; urgency=high\n\n  * Fix CVE-2024-5535.\n\n -- A <a@b>  Mon, 02 Sep 2024 10:00:00 +0000\n\nopenssl (3.0.14-1) unstable; urgency=medium\n\n  * New.\n\n -- A <a@b>  Mon, 01 Jul 2024 10:00:00 +0000\n"))
	f.Add([]byte("x (1) y; urgency=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := Parse(data)
		if err != nil || len(entries) == 0 {
			return
		}
		Between(entries, entries[len(entries)-1].Version, entries[0].Version)
	})
}
