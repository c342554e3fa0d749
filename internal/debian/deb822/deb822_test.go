package deb822

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

// flat is a comparable rendering of a stanza.
type flat struct {
	Line   int
	Fields []string // "line|name|value"
}

func render(st *Stanza) flat {
	f := flat{Line: st.Line}
	for _, x := range st.Fields {
		f.Fields = append(f.Fields, fmt.Sprintf("%d|%s|%s", x.Line, x.Name, x.Value))
	}
	return f
}

func scanAll(sc *Scanner) ([]flat, error) {
	var out []flat
	for sc.Scan() {
		out = append(out, render(sc.Stanza()))
	}
	return out, sc.Err()
}

// readers returns the ways the streaming scanner is exercised.
func readers(data string) map[string]*Scanner {
	return map[string]*Scanner{
		"bytes":      NewBytesScanner([]byte(data)),
		"stream":     NewScanner(strings.NewReader(data)),
		"onebyte":    NewScanner(iotest.OneByteReader(strings.NewReader(data))),
		"tinybuf":    newScannerSize(strings.NewReader(data), 1),
		"halfreader": newScannerSize(iotest.HalfReader(strings.NewReader(data)), 7),
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestScanner(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []flat
		err  string
	}{
		{name: "empty", in: ""},
		{name: "only blank and comments", in: "\n\n# c\n  \n\t\n"},
		{
			name: "simple",
			in:   "Package: a\nVersion: 1\n",
			want: []flat{{1, []string{"1|Package|a", "2|Version|1"}}},
		},
		{
			name: "no final newline",
			in:   "Package: a\nVersion: 1",
			want: []flat{{1, []string{"1|Package|a", "2|Version|1"}}},
		},
		{
			name: "value trimming",
			in:   "A:   x y  \t\nB:\nC:   \nD:x",
			want: []flat{{1, []string{"1|A|x y", "2|B|", "3|C|", "4|D|x"}}},
		},
		{
			name: "multiple stanzas and blank lines",
			in:   "\n\nA: 1\n\n\n \n\t\nB: 2\nC: 3\n\n\n",
			want: []flat{
				{3, []string{"3|A|1"}},
				{8, []string{"8|B|2", "9|C|3"}},
			},
		},
		{
			name: "multi-line description",
			in:   "Package: p\nDescription: short\n long one\n .\n  indented\nHomepage: h\n",
			want: []flat{{1, []string{"1|Package|p", "2|Description|short\n long one\n .\n  indented", "6|Homepage|h"}}},
		},
		{
			name: "empty first line",
			in:   "SHA256:\n abc 1 main/x\n\tdef 2 main/y\n",
			want: []flat{{1, []string{"1|SHA256|\n abc 1 main/x\n\tdef 2 main/y"}}},
		},
		{
			name: "empty first line with trailing space",
			in:   "SHA256:  \n abc 1 main/x\n",
			want: []flat{{1, []string{"1|SHA256|\n abc 1 main/x"}}},
		},
		{
			name: "crlf",
			in:   "Package: a\r\nDescription: s\r\n long\r\n .\r\n\r\nPackage: b\r\n",
			want: []flat{
				{1, []string{"1|Package|a", "2|Description|s\n long\n ."}},
				{6, []string{"6|Package|b"}},
			},
		},
		{
			name: "trailing whitespace in multi-line value",
			in:   "D: s \n a  \n b\n",
			want: []flat{{1, []string{"1|D|s\n a\n b"}}},
		},
		{
			name: "comments",
			in:   "# head\nA: 1\n# mid\nB: x\n# inside\n y\n#\n\n# between\nC: 3\n# tail",
			want: []flat{
				{2, []string{"2|A|1", "4|B|x\n y"}},
				{10, []string{"10|C|3"}},
			},
		},
		{
			name: "colon in value",
			in:   "Url: http://x:80/a\n",
			want: []flat{{1, []string{"1|Url|http://x:80/a"}}},
		},
		{
			name: "continuation before any field",
			in:   "A: 1\n\n more\n",
			want: []flat{{1, []string{"1|A|1"}}},
			err:  "line 3: continuation line before any field",
		},
		{
			name: "missing colon",
			in:   "A: 1\nB 2\n",
			err:  "line 2: missing ':' in field",
		},
		{
			name: "empty name",
			in:   "\n\n: 2\n",
			err:  "line 3: empty field name",
		},
	}
	for _, tt := range tests {
		for mode, sc := range readers(tt.in) {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				got, err := scanAll(sc)
				if errString(err) != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				if show(got) != show(tt.want) {
					t.Fatalf("got\n%s\nwant\n%s", show(got), show(tt.want))
				}
				if tt.err != "" {
					var se *SyntaxError
					if !errors.As(err, &se) {
						t.Fatalf("error %T is not a *SyntaxError", err)
					}
				}
			})
		}
	}
}

func TestGet(t *testing.T) {
	sc := NewBytesScanner([]byte("Package: a\nMulti-Arch: same\nEmpty:\n"))
	if !sc.Scan() {
		t.Fatal(sc.Err())
	}
	st := sc.Stanza()
	if got := st.GetString("multi-arch"); got != "same" {
		t.Errorf("Get(multi-arch) = %q", got)
	}
	if got := st.GetString("PACKAGE"); got != "a" {
		t.Errorf("Get(PACKAGE) = %q", got)
	}
	if got := st.Get("missing"); got != nil {
		t.Errorf("Get(missing) = %q", got)
	}
	if got := st.Get("empty"); got == nil || len(got) != 0 {
		t.Errorf("Get(empty) = %#v", got)
	}
	if !st.Has("Empty") || st.Has("Multi") {
		t.Error("Has wrong")
	}
}

// TestBytesAliasing checks that bytes-mode values stay valid across Scans.
func TestBytesAliasing(t *testing.T) {
	data := []byte("A: 1\nD: x \n y\n\nA: 2\nD: z\r\n w\r\n\nA: 3\n")
	sc := NewBytesScanner(data)
	var kept []Field
	for sc.Scan() {
		kept = append(kept, sc.Stanza().Fields...)
	}
	if sc.Err() != nil {
		t.Fatal(sc.Err())
	}
	var got []string
	for _, f := range kept {
		got = append(got, string(f.Name)+"="+string(f.Value))
	}
	want := []string{"A=1", "D=x\n y", "A=2", "D=z\n w", "A=3"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q want %q", got, want)
	}
	// The first value aliases data.
	if &kept[0].Value[0] != &data[3] {
		t.Error("value does not alias input")
	}
}

type errReader struct{ n int }

func (r *errReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		r.n--
		return copy(p, "A: 1\n\n"), nil
	}
	return 0, errors.New("boom")
}

func TestReadError(t *testing.T) {
	sc := NewScanner(&errReader{n: 1})
	got, err := scanAll(sc)
	if err == nil || err.Error() != "boom" {
		t.Fatalf("err = %v", err)
	}
	_ = got
}

func TestStanzaTooLarge(t *testing.T) {
	sc := newScannerSize(strings.NewReader("A: "+strings.Repeat("x", 100)+"\n"), 16)
	sc.maxSize = 64
	_, err := scanAll(sc)
	if err == nil || !strings.Contains(err.Error(), "stanza longer than 64 bytes") {
		t.Fatalf("err = %v", err)
	}
}

// chunkReader returns reads of the sizes given by its pattern.
type chunkReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(r.sizes) > 0 {
		n = int(r.sizes[r.i%len(r.sizes)])%13 + 1
		r.i++
	}
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func FuzzScanner(f *testing.F) {
	f.Add([]byte("Package: a\nVersion: 1\n\nPackage: b\nDescription: x\n y\n .\n z\n"), []byte{3, 200})
	f.Add([]byte("A: 1\r\n\r\n# c\nB:\n x\n\n\n"), []byte{1})
	f.Add([]byte(" x\n"), []byte{})
	f.Add([]byte("A 1\n"), []byte{5})
	f.Add([]byte("A: x \n y\n# c\n z\n\t\n:\n"), []byte{0, 9})
	f.Fuzz(func(t *testing.T, data, sizes []byte) {
		want, werr := scanAll(NewBytesScanner(data))
		for _, sc := range []*Scanner{
			newScannerSize(&chunkReader{data: data, sizes: sizes}, 1),
			newScannerSize(bytes.NewReader(data), 64),
		} {
			got, gerr := scanAll(sc)
			if errString(gerr) != errString(werr) {
				t.Fatalf("streaming err %v, bytes err %v", gerr, werr)
			}
			if show(got) != show(want) {
				t.Fatalf("streaming\n%s\nbytes\n%s", show(got), show(want))
			}
		}
		sc := NewBytesScanner(data)
		for sc.Scan() {
			for _, f := range sc.Stanza().Fields {
				if len(f.Name) == 0 || bytes.ContainsAny(f.Name, ":\n") {
					t.Fatalf("bad field name %q", f.Name)
				}
				if bytes.HasPrefix(f.Value, []byte{' '}) || bytes.HasSuffix(f.Value, []byte{' '}) {
					t.Fatalf("untrimmed value %q", f.Value)
				}
			}
		}
	})
}

func benchFile(b *testing.B) []byte {
	name := os.Getenv("TEMPER_BENCH_PACKAGES")
	if name == "" {
		b.Skip("TEMPER_BENCH_PACKAGES not set")
	}
	data, err := os.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkBytesScanner(b *testing.B) {
	data := benchFile(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		sc := NewBytesScanner(data)
		n := 0
		for sc.Scan() {
			n += len(sc.Stanza().Fields)
		}
		if sc.Err() != nil {
			b.Fatal(sc.Err())
		}
	}
}

func BenchmarkStreamScanner(b *testing.B) {
	data := benchFile(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		sc := NewScanner(bytes.NewReader(data))
		n := 0
		for sc.Scan() {
			n += len(sc.Stanza().Fields)
		}
		if sc.Err() != nil {
			b.Fatal(sc.Err())
		}
	}
}

func show(v []flat) string { return fmt.Sprintf("%#v", v) }

// TestLongComments checks that blank lines and comments before a stanza do
// not count against the stanza size limit.
func TestLongComments(t *testing.T) {
	in := strings.Repeat("# a comment line\n\n", 100) + "A: 1\n"
	sc := newScannerSize(strings.NewReader(in), 16)
	sc.maxSize = 64
	got, err := scanAll(sc)
	if err != nil {
		t.Fatal(err)
	}
	if want := []flat{{201, []string{"201|A|1"}}}; show(got) != show(want) {
		t.Fatalf("got %s", show(got))
	}
}
