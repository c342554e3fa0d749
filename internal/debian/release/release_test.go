package release_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/release"
)

func TestParse(t *testing.T) {
	f, err := release.Parse([]byte(sampleRelease))
	if err != nil {
		t.Fatal(err)
	}
	if f.Origin != "Debian" || f.Label != "Debian" || f.Suite != "stable" || f.Codename != "trixie" || f.Version != "13.8" {
		t.Errorf("identity fields: %+v", f)
	}
	if want := time.Date(2026, 11, 21, 9, 15, 44, 0, time.UTC); !f.Date.Equal(want) || f.Date.Location() != time.UTC {
		t.Errorf("Date = %v, want %v", f.Date, want)
	}
	if want := time.Date(2026, 11, 28, 9, 15, 44, 0, time.UTC); !f.ValidUntil.Equal(want) {
		t.Errorf("ValidUntil = %v, want %v", f.ValidUntil, want)
	}
	if !f.AcquireByHash {
		t.Error("AcquireByHash = false")
	}
	if strings.Join(f.Architectures, ",") != "all,amd64,arm64" {
		t.Errorf("Architectures = %q", f.Architectures)
	}
	if strings.Join(f.Components, ",") != "main,contrib,non-free-firmware,non-free" {
		t.Errorf("Components = %q", f.Components)
	}
	want := []release.FileHash{
		{"contrib/Contents-all", 1961125, "0f2c6a1a8ef4b1ac3f5c8d4c5c2b6f8e0f2c6a1a8ef4b1ac3f5c8d4c5c2b6f8e"},
		{"main/binary-amd64/Packages.xz", 9481232, "9e0b5aabb2465b3d2e7a7fe27f9913846277833f7a2826e7767acccff5b588c5"},
		{"main/binary-amd64/Release", 123, strings.Repeat("1", 64)},
		{"README", 0, strings.Repeat("2", 64)},
	}
	if len(f.SHA256) != len(want) {
		t.Fatalf("SHA256 = %v, want %v", f.SHA256, want)
	}
	for i := range want {
		if f.SHA256[i] != want[i] {
			t.Errorf("SHA256[%d] = %+v, want %+v", i, f.SHA256[i], want[i])
		}
	}
}

func TestParseMinimal(t *testing.T) {
	f, err := release.Parse([]byte("Suite: sid\r\nCodename: sid\r\nAcquire-By-Hash: no\r\n\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Suite != "sid" || f.AcquireByHash || !f.Date.IsZero() || !f.ValidUntil.IsZero() || len(f.SHA256) != 0 {
		t.Errorf("got %+v", f)
	}
	if err := f.CheckValid("x", time.Now()); err != nil {
		t.Errorf("CheckValid without Valid-Until: %v", err)
	}
}

func TestParseFieldNamesCaseInsensitive(t *testing.T) {
	f, err := release.Parse([]byte("suite: stable\nsha256:\n " + strings.Repeat("a", 64) + " 1 x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Suite != "stable" || len(f.SHA256) != 1 {
		t.Errorf("got %+v", f)
	}
}

func TestParseErrors(t *testing.T) {
	hash := strings.Repeat("a", 64)
	for _, tc := range []struct {
		name, body, want string
	}{
		{"empty", "", "empty"},
		{"blank", "\n\n", "empty"},
		{"no colon", "Suite stable\n", "line 1"},
		{"continuation first", " foo\nSuite: x\n", "continuation"},
		{"duplicate", "Suite: a\nsuite: b\n", "line 2: duplicate field suite"},
		{"two stanzas", "Suite: a\n\nSuite: b\n", "more than one stanza"},
		{"bad date", "Date: yesterday\n", "line 1: Date"},
		{"bad zone", "Date: Sat, 11 Jul 2026 10:16:37 CEST\n", "Date"},
		{"bad valid-until", "Suite: a\nValid-Until: Sat, 32 Jul 2026 10:16:37 UTC\n", "line 2: Valid-Until"},
		{"short hash", "SHA256:\n abc 1 x\n", "line 2: SHA256"},
		{"non-hex hash", "SHA256:\n " + strings.Repeat("g", 64) + " 1 x\n", "not hex"},
		{"missing path", "SHA256:\n " + hash + " 1\n", "line 2"},
		{"extra column", "SHA256:\n " + hash + " 1 x y\n", "line 2"},
		{"negative size", "SHA256:\n " + hash + " -1 x\n", "bad size"},
		{"bad size", "SHA256:\n " + hash + " 1k x\n", "bad size"},
		{"value on field line", "SHA256: " + hash + "\n", "SHA256"},
		{"absolute path", "SHA256:\n " + hash + " 1 /etc/passwd\n", "leaves the suite"},
		{"dotdot path", "SHA256:\n " + hash + " 1 main/../../x\n", "leaves the suite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := release.Parse([]byte(tc.body))
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tc.body)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse(%q) = %v, want error containing %q", tc.body, err, tc.want)
			}
		})
	}
}

func TestParseDates(t *testing.T) {
	want := time.Date(2026, 7, 1, 10, 16, 37, 0, time.UTC)
	for _, s := range []string{
		"Wed, 01 Jul 2026 10:16:37 UTC",
		"Wed, 1 Jul 2026 10:16:37 UTC",
		"Wed,  1 Jul 2026 10:16:37 GMT",
		"Wed, 01 Jul 2026 10:16:37 +0000",
		"Wed, 01 Jul 2026 12:16:37 +0200",
		"01 Jul 2026 10:16:37 UTC",
	} {
		f, err := release.Parse([]byte("Date: " + s + "\n"))
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if !f.Date.Equal(want) || f.Date.Location() != time.UTC {
			t.Errorf("%q: got %v, want %v", s, f.Date, want)
		}
	}
}

func TestLookupAndByHashPath(t *testing.T) {
	f, err := release.Parse([]byte(sampleRelease))
	if err != nil {
		t.Fatal(err)
	}
	h, ok := f.Lookup("main/binary-amd64/Packages.xz")
	if !ok || h.Size != 9481232 || h.SHA256 != "9e0b5aabb2465b3d2e7a7fe27f9913846277833f7a2826e7767acccff5b588c5" {
		t.Errorf("Lookup = %+v, %v", h, ok)
	}
	if _, ok := f.Lookup("main/binary-amd64/Packages.gz"); ok {
		t.Error("Lookup found an unlisted file")
	}
	if _, ok := f.Lookup("contrib/Contents-all.gz"); ok {
		t.Error("Lookup found a file listed only under MD5Sum")
	}
	for path, want := range map[string]string{
		"main/binary-amd64/Packages.xz": "main/binary-amd64/by-hash/SHA256/9e0b5aabb2465b3d2e7a7fe27f9913846277833f7a2826e7767acccff5b588c5",
		"README":                        "by-hash/SHA256/" + strings.Repeat("2", 64),
		"main/binary-amd64/Packages.gz": "",
	} {
		if got := f.ByHashPath(path); got != want {
			t.Errorf("ByHashPath(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestCheckValid(t *testing.T) {
	f, err := release.Parse([]byte(sampleRelease))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.CheckValid("trixie/InRelease", f.ValidUntil.Add(-time.Hour)); err != nil {
		t.Errorf("before Valid-Until: %v", err)
	}
	now := time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC)
	err = f.CheckValid("trixie/InRelease", now)
	if err == nil {
		t.Fatal("after Valid-Until: no error")
	}
	if !errors.Is(err, release.ErrExpired) {
		t.Errorf("error %v does not wrap ErrExpired", err)
	}
	for _, want := range []string{"trixie/InRelease", `"stable"`, "Sat, 28 Nov 2026 09:15:44 UTC", "Thu, 24 Dec 2026 18:00:00 UTC", "--allow-expired"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sampleRelease))
	f.Add([]byte("Suite: a\n\nSuite: b\n"))
	f.Add([]byte("SHA256:\n " + strings.Repeat("a", 64) + " 1 x\n\tcont\n"))
	f.Add([]byte("Date: Sat, 11 Jul 2026 10:16:37 +0000\r\nValid-Until: 1 Jan 2000 00:00:00 GMT\r\n"))
	f.Add([]byte(" \n:\n#c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rf, err := release.Parse(data)
		if err != nil {
			return
		}
		for _, h := range rf.SHA256 {
			if _, ok := rf.Lookup(h.Path); !ok {
				t.Fatalf("Lookup(%q) failed for a listed file", h.Path)
			}
			if p := rf.ByHashPath(h.Path); !strings.Contains(p, "by-hash/SHA256/") {
				t.Fatalf("ByHashPath(%q) = %q", h.Path, p)
			}
			if len(h.SHA256) != 64 || h.Size < 0 {
				t.Fatalf("bad entry %+v", h)
			}
		}
		_ = rf.CheckValid("fuzz", time.Now())
	})
}
