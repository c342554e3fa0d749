package deb822

import (
	"errors"
	"fmt"
	"testing"
)

// What the Release, apt sources and status/copyright readers need of the
// one reader: folded values with the line of every continuation line (also
// across comments), several stanzas, errors that say which kind of line is
// wrong, the fields before it, and a lenient mode for hand-written files.
func TestValueLines(t *testing.T) {
	in := "# sources\nTypes: deb\nURIs: http://a/debian\n# between\n  http://b/debian\t\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n# inside\n\tabc\n\nSHA256:\n 0 1 x\n"
	sc := NewBytesScanner([]byte(in))
	var got []string
	for sc.Scan() {
		st := sc.Stanza()
		got = append(got, fmt.Sprintf("stanza %d", st.Line))
		for i := range st.Fields {
			for _, l := range st.ValueLines(&st.Fields[i]) {
				got = append(got, fmt.Sprintf("%d %s %q", l.Num, st.Fields[i].Name, l.Text))
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"stanza 2",
		`2 Types "deb"`,
		`3 URIs "http://a/debian"`,
		`5 URIs "http://b/debian"`,
		`6 Signed-By ""`,
		`7 Signed-By "-----BEGIN PGP PUBLIC KEY BLOCK-----"`,
		`8 Signed-By "."`,
		`10 Signed-By "abc"`,
		"stanza 12",
		`12 SHA256 ""`,
		`13 SHA256 "0 1 x"`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestSyntaxErrorKinds(t *testing.T) {
	for in, want := range map[string]error{
		" cont\nA: b\n":  ErrContinuation,
		"A: b\nno colon": ErrNoColon,
		"A: b\n: x\n":    ErrEmptyName,
	} {
		sc := NewBytesScanner([]byte(in))
		for sc.Scan() {
		}
		var se *SyntaxError
		if err := sc.Err(); !errors.Is(err, want) || !errors.As(err, &se) || err.Error() != fmt.Sprintf("line %d: %s", se.Line, want) {
			t.Errorf("%q: got %v, want %v", in, err, want)
		}
		// The fields before the malformed line stay readable.
		if n := len(sc.Stanza().Fields); (want == ErrContinuation) != (n == 0) {
			t.Errorf("%q: %d fields kept", in, n)
		}
	}
}

func TestLenient(t *testing.T) {
	in := " stray\nFiles: *\nCopyright 2001 someone\n continued\n: empty name\nLicense: GPL-2+\n"
	sc := NewBytesScanner([]byte(in))
	sc.SetLenient()
	if !sc.Scan() {
		t.Fatal(sc.Err())
	}
	st := sc.Stanza()
	var got []string
	for i := range st.Fields {
		for _, l := range st.ValueLines(&st.Fields[i]) {
			got = append(got, fmt.Sprintf("%d %s %q", l.Num, st.Fields[i].Name, l.Text))
		}
	}
	want := []string{`2 Files "*"`, `4 Files "continued"`, `5  "empty name"`, `6 License "GPL-2+"`}
	if st.Line != 2 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("line %d, got %q, want %q", st.Line, got, want)
	}
	if sc.Scan() || sc.Err() != nil {
		t.Errorf("more: %v", sc.Err())
	}
}

func TestLineText(t *testing.T) {
	data := []byte("a\r\nb  \nc")
	for n, want := range map[int]string{1: "a", 2: "b  ", 3: "c", 4: ""} {
		if got := string(LineText(data, n)); got != want {
			t.Errorf("line %d: %q, want %q", n, got, want)
		}
	}
}
