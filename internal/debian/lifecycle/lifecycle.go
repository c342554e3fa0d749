// Package lifecycle reads Debian's lifecycle data: distro-info-data's
// /usr/share/distro-info/debian.csv, the dates each release was created,
// released, and leaves regular, LTS and ELTS security support. It reads the
// CSV, takes it out of the distro-info-data .deb, and fetches that .deb from
// an archive.
//
// It says nothing about what a date means to an image (whether a release is
// past its support, how a report shows it): that is the caller's policy.
package lifecycle

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"time"
)

// Release is one release's row of the lifecycle data. Zero dates are
// unknown (not announced yet).
type Release struct {
	Version, Codename, Series string
	Created, Release          time.Time
	EOL, EOLLTS, EOLELTS      time.Time
}

// Path is where distro-info-data ships Debian's lifecycle data (relative to
// the root of the .deb's data).
const Path = "usr/share/distro-info/debian.csv"

// ParseCSV reads distro-info-data's debian.csv (columns version, codename,
// series, created, release, eol, eol-lts, eol-elts; the last ones may be
// missing or empty) and returns its rows keyed by series (the codename in
// lower case, e.g. "bookworm"). Rows without a series are left out.
func ParseCSV(data []byte) (map[string]Release, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("debian.csv: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("debian.csv: empty")
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimSpace(h)] = i
	}
	if _, ok := col["series"]; !ok {
		return nil, fmt.Errorf("debian.csv: no series column in header %q", strings.Join(rows[0], ","))
	}
	get := func(row []string, name string) string {
		if i, ok := col[name]; ok && i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	out := map[string]Release{}
	for n, row := range rows[1:] {
		lc := Release{Version: get(row, "version"), Codename: get(row, "codename"), Series: get(row, "series")}
		for _, f := range []struct {
			col string
			dst *time.Time
		}{{"created", &lc.Created}, {"release", &lc.Release}, {"eol", &lc.EOL}, {"eol-lts", &lc.EOLLTS}, {"eol-elts", &lc.EOLELTS}} {
			v := get(row, f.col)
			if v == "" {
				continue
			}
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return nil, fmt.Errorf("debian.csv line %d: %s %q: %w", n+2, f.col, v, err)
			}
			*f.dst = t
		}
		if lc.Series != "" {
			out[lc.Series] = lc
		}
	}
	return out, nil
}
