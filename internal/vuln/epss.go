package vuln

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// EPSS is FIRST's Exploit Prediction Scoring System score of a CVE.
type EPSS struct {
	Score      float64 `json:"score"`
	Percentile float64 `json:"percentile"`
}

// ParseEPSS reads FIRST's daily CSV (cve,epss,percentile), gzip-compressed
// or not; lines starting with '#' (the model version header) are skipped.
func ParseEPSS(data []byte) (map[string]EPSS, error) {
	var r io.Reader = bytes.NewReader(data)
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("EPSS: %w", err)
		}
		r = zr
	}
	out := map[string]EPSS{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || t[0] == '#' || strings.HasPrefix(t, "cve,") {
			continue
		}
		f := strings.Split(t, ",")
		if len(f) < 3 {
			return nil, fmt.Errorf("EPSS line %d: want cve,epss,percentile", line)
		}
		s, err1 := strconv.ParseFloat(f[1], 64)
		p, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("EPSS line %d: scores are not numbers", line)
		}
		out[f[0]] = EPSS{Score: s, Percentile: p}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("EPSS: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("EPSS: no scores")
	}
	return out, nil
}
