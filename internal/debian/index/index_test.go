package index

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"unsafe"

	"github.com/temper-dev/temper/internal/debian/deb822"
)

var fixtureWant = []Package{
	{
		Name: "libfoo1", Version: "1.2-3+b1", Architecture: "amd64", MultiArch: "same",
		Source: "foo", SourceVersion: "1.2-3",
		Priority: "optional", Section: "libs",
		Maintainer:  "Foo Maintainers <foo@example.org>",
		Homepage:    "https://foo.example.org/",
		Description: "shared library for foo",
		Depends:     "libc6 (>= 2.34), libbar2 (>= 0.9)",
		PreDepends:  "dpkg (>= 1.15.6~)",
		Breaks:      "libfoo0 (<< 1.0)",
		Replaces:    "libfoo0 (<< 1.0)",
		Filename:    "pool/main/f/foo/libfoo1_1.2-3+b1_amd64.deb",
		Size:        45678, InstalledSize: 120,
		SHA256: "1111111111111111111111111111111111111111111111111111111111111111",
	},
	{
		Name: "base-thing", Version: "12.4+deb12u5", Architecture: "amd64", MultiArch: "foreign",
		Source: "base-thing", SourceVersion: "12.4+deb12u5",
		Essential: true,
		Priority:  "required", Section: "admin",
		Maintainer:  "Base Team <base@example.org>",
		Description: "miscellaneous base system things",
		Provides:    "base, thing-base (= 12.4)",
		PreDepends:  "awk",
		Filename:    "pool/main/b/base-thing/base-thing_12.4+deb12u5_amd64.deb",
		Size:        70824, InstalledSize: 281,
		SHA256: "ABCDEFabcdef0123456789ABCDEFabcdef0123456789ABCDEFabcdef01234567",
	},
	{
		Name: "foo-tools", Version: "1.2-3", Architecture: "all", MultiArch: "foreign",
		Source: "foo", SourceVersion: "1.2-3",
		Priority: "optional", Section: "utils",
		Maintainer:  "Foo Maintainers <foo@example.org>",
		Description: "tools for foo",
		Depends:     "libfoo1 (>= 1.2), python3:any, perl | perl-base",
		Recommends:  "foo-doc", Suggests: "bar", Conflicts: "old-foo-tools",
		Filename: "pool/main/f/foo/foo-tools_1.2-3_all.deb",
		Size:     9000, InstalledSize: 33,
		SHA256: "2222222222222222222222222222222222222222222222222222222222222222",
	},
	{
		Name: "foo-tools", Version: "1.1-1", Architecture: "all",
		Source: "foo", SourceVersion: "1.1-1",
		Priority: "optional", Section: "utils",
		Maintainer:  "Foo Maintainers <foo@example.org>",
		Description: "tools for foo (old version)",
		Filename:    "pool/main/f/foo/foo-tools_1.1-1_all.deb",
		Size:        8000,
		SHA256:      "3333333333333333333333333333333333333333333333333333333333333333",
	},
}

func readFixture(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/Packages")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parseReaderAll(r interface{ Read([]byte) (int, error) }) ([]Package, error) {
	var out []Package
	err := ParseReader(r, func(p *Package) error {
		out = append(out, *p)
		return nil
	})
	return out, err
}

func TestParseFixture(t *testing.T) {
	data := readFixture(t)
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, fixtureWant) {
		t.Fatalf("Parse:\n got %+v\nwant %+v", got, fixtureWant)
	}
	// Interned values are shared.
	if unsafePtr(got[2].Maintainer) != unsafePtr(got[3].Maintainer) {
		t.Error("Maintainer not interned")
	}

	got, err = parseReaderAll(iotest.OneByteReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, fixtureWant) {
		t.Fatalf("ParseReader:\n got %+v\nwant %+v", got, fixtureWant)
	}
}

// TestParseCRLF checks CRLF input and case-insensitive field names.
func TestParseCRLF(t *testing.T) {
	data := strings.ReplaceAll(string(readFixture(t)), "\n", "\r\n")
	data = strings.ReplaceAll(data, "Multi-Arch:", "multi-arch:")
	data = strings.ReplaceAll(data, "Depends:", "DEPENDS:")
	got, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, fixtureWant) {
		t.Fatalf("Parse:\n got %+v\nwant %+v", got, fixtureWant)
	}
}

// TestParseSplit forces the parallel path on the fixture.
func TestParseSplit(t *testing.T) {
	old := minChunk
	minChunk = 1
	defer func() { minChunk = old }()
	data := readFixture(t)
	big := bytes.Repeat(append(data, '\n'), 50)
	for _, n := range []int{2, 3, 7} {
		cs := split(big, n)
		if len(cs) < 2 {
			t.Fatalf("split into %d chunks", len(cs))
		}
	}
	got, err := Parse(big)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4*50 {
		t.Fatalf("got %d packages", len(got))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], fixtureWant[i%4]) {
			t.Fatalf("package %d: %+v", i, got[i])
		}
	}
	// Line numbers in errors are absolute.
	bad := append(bytes.Clone(big), "Package: x\nVersion: 1\n"...)
	_, err = Parse(bad)
	lines := bytes.Count(big, []byte("\n")) + 1
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != lines {
		t.Fatalf("err = %v, want line %d", err, lines)
	}
}

func TestParseErrors(t *testing.T) {
	const ok = "Package: a\nVersion: 1\nArchitecture: all\nFilename: pool/a.deb\nSize: 10\nSHA256: " +
		"1111111111111111111111111111111111111111111111111111111111111111\n"
	tests := []struct {
		name, in, err string
	}{
		{"no package", "Version: 1\n", "line 1: stanza has no Package field"},
		{"no version", strings.Replace(ok, "Version: 1\n", "", 1), "line 1: package a: missing Version field"},
		{"no arch", strings.Replace(ok, "Architecture: all\n", "", 1), "line 1: package a: missing Architecture field"},
		{"no filename", "\n" + strings.Replace(ok, "Filename: pool/a.deb\n", "", 1), "line 2: package a: missing Filename field"},
		{"no sha256", strings.Replace(ok, "SHA256:", "MD5sum:", 1), "line 1: package a: missing SHA256 field"},
		{"no size", strings.Replace(ok, "Size: 10\n", "", 1), "line 1: package a: missing Size field"},
		{"bad size", strings.Replace(ok, "Size: 10", "Size: 1x0", 1), `line 5: package a: invalid Size "1x0"`},
		{"negative size", strings.Replace(ok, "Size: 10", "Size: -1", 1), `line 5: package a: invalid Size "-1"`},
		{"bad installed size", ok + "Installed-Size: big\n", `line 7: package a: invalid Installed-Size "big"`},
		{"bad sha256", strings.Replace(ok, "SHA256: 1", "SHA256: z", 1), `line 6: package a: invalid SHA256 "z111111111111111111111111111111111111111111111111111111111111111"`},
		{"bad source", ok + "Source: foo (1.0\n", `line 7: package a: invalid Source "foo (1.0"`},
		{"bad essential", ok + "Essential: maybe\n", `line 7: package a: invalid Essential "maybe" (want yes or no)`},
		{"second stanza", ok + "\nPackage: b\n", "line 8: package b: missing Version field"},
		{"syntax", ok + "\nPackage b\n", "line 8: missing ':' in field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			if err == nil || err.Error() != tt.err {
				t.Fatalf("Parse err = %v, want %q", err, tt.err)
			}
			_, err = parseReaderAll(strings.NewReader(tt.in))
			if err == nil || err.Error() != tt.err {
				t.Fatalf("ParseReader err = %v, want %q", err, tt.err)
			}
		})
	}
	var se *deb822.SyntaxError
	if _, err := Parse([]byte(" x\n")); !errors.As(err, &se) {
		t.Errorf("syntax error is %T", err)
	}
}

func TestParseReaderCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := ParseReader(bytes.NewReader(readFixture(t)), func(*Package) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Fatalf("err = %v after %d calls", err, n)
	}
}

func TestParseEmpty(t *testing.T) {
	got, err := Parse(nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("Parse(nil) = %v, %v", got, err)
	}
}

func benchData(b *testing.B) []byte {
	name := os.Getenv("TEMPER_BENCH_PACKAGES")
	if name == "" {
		b.Skip("TEMPER_BENCH_PACKAGES not set (path of a decompressed Packages index)")
	}
	data, err := os.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkParse(b *testing.B) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var n int
	defer cpuMetric(b)()
	for b.Loop() {
		pkgs, err := Parse(data)
		if err != nil {
			b.Fatal(err)
		}
		n = len(pkgs)
	}
	b.ReportMetric(float64(n), "pkgs")
}

// cpuMetric reports the process CPU time (user+system, all threads) per
// operation: on a shared machine it is steadier than wall time. Call as
// defer cpuMetric(b)() right before the timed loop.
func cpuMetric(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkParseSerial is Parse on one goroutine.
func BenchmarkParseSerial(b *testing.B) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	defer cpuMetric(b)()
	for b.Loop() {
		if _, err := parseChunk(data, make([]Package, 0, len(data)/700+16)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseReader(b *testing.B) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	defer cpuMetric(b)()
	for b.Loop() {
		n := 0
		err := ParseReader(bytes.NewReader(data), func(*Package) error {
			n++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanOnly is the deb822 scanner alone over the same input, for
// comparison.
func BenchmarkScanOnly(b *testing.B) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	defer cpuMetric(b)()
	for b.Loop() {
		sc := deb822.NewBytesScanner(data)
		for sc.Scan() {
		}
		if sc.Err() != nil {
			b.Fatal(sc.Err())
		}
	}
}

func unsafePtr(s string) *byte { return unsafe.StringData(s) }

// TestParseSplitOverflow uses stanzas far smaller than the estimate assumes,
// so chunks outgrow their regions of the result slice.
func TestParseSplitOverflow(t *testing.T) {
	old := minChunk
	minChunk = 1
	defer func() { minChunk = old }()
	var sb strings.Builder
	for i := range 500 {
		fmt.Fprintf(&sb, "Package: p%d\nVersion: 1\nArchitecture: all\nFilename: f\nSize: %d\nSHA256: %064d\n\n", i, i, i)
	}
	data := []byte(sb.String())
	for _, procs := range []int{1, 2, 4} {
		prev := runtime.GOMAXPROCS(procs)
		got, err := Parse(data)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 500 {
			t.Fatalf("GOMAXPROCS=%d: %d packages", procs, len(got))
		}
		for i, p := range got {
			if p.Name != fmt.Sprintf("p%d", i) || p.Size != int64(i) {
				t.Fatalf("GOMAXPROCS=%d: package %d = %+v", procs, i, p)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(readFixtureF(f))
	f.Add([]byte("Package: a\nVersion: 1\nArchitecture: all\nFilename: f\nSize: 1\nSHA256: " + strings.Repeat("a", 64) + "\nSource: b (2)\nDepends: x,\n y\n"))
	f.Add([]byte("Package: a\r\nEssential: no\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want, werr := Parse(data)
		got, gerr := parseReaderAll(iotest.HalfReader(bytes.NewReader(data)))
		if errString(werr) != errString(gerr) {
			t.Fatalf("Parse err %v, ParseReader err %v", werr, gerr)
		}
		if werr != nil {
			return
		}
		if len(want) == 0 && len(got) == 0 {
			return
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("Parse %+v\nParseReader %+v", want, got)
		}
		for _, p := range want {
			if p.Name == "" || p.Source == "" || p.SourceVersion == "" || len(p.SHA256) != 64 {
				t.Fatalf("incomplete package %+v", p)
			}
			if strings.Contains(p.Depends, "\n") || strings.Contains(p.Description, "\n") {
				t.Fatalf("unfolded value in %+v", p)
			}
		}
	})
}

func readFixtureF(f *testing.F) []byte {
	data, err := os.ReadFile("testdata/Packages")
	if err != nil {
		f.Fatal(err)
	}
	return data
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
