package lifecycle

import (
	"strings"
	"testing"
	"time"
)

func TestParseCSV(t *testing.T) {
	data := "version,codename,series,created,release,eol,eol-lts,eol-elts\n" +
		"12,Bookworm,bookworm,2021-08-14,2023-06-10,2026-06-10,2028-06-30,2033-06-30\n" +
		"13,Trixie,trixie,2023-06-10\n" +
		",Sid,sid,1993-08-16\n"
	rows, err := ParseCSV([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	b := rows["bookworm"]
	if b.Version != "12" || b.Codename != "Bookworm" || !b.EOLLTS.Equal(time.Date(2028, 6, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("bookworm: %+v", b)
	}
	if tr := rows["trixie"]; !tr.Release.IsZero() || !tr.EOL.IsZero() || tr.Created.IsZero() {
		t.Errorf("trixie: missing columns are unknown dates: %+v", tr)
	}
	if len(rows) != 3 {
		t.Errorf("%d rows", len(rows))
	}
}

func TestParseCSVErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                                  "debian.csv: empty",
		"version,codename\n12,Bookworm\n":   "no series column",
		"series,eol\nbookworm,2026-13-01\n": "debian.csv line 2: eol \"2026-13-01\"",
	} {
		if _, err := ParseCSV([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", in, err, want)
		}
	}
}
