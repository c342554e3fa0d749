package vuln

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sameIndex parses data with the decoder and with the former encoding/json
// path and fails unless both give the same index, or both refuse the data.
func sameIndex(t *testing.T, data []byte) {
	t.Helper()
	got, err := ParseTrackerBytes(data)
	want, werr := parseTrackerJSON(data)
	if (err == nil) != (werr == nil) {
		t.Fatalf("decoder error %v, encoding/json error %v, on %q", err, werr, data)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("indexes differ on %q:\ndecoder   %+v\nreference %+v", data, got, want)
	}
}

// trackerCases: the fixture and the corners of encoding/json's behaviour
// the decoder must reproduce.
var trackerCases = []string{
	`{}`,
	`{"a": {}}`,
	` { "a\\\"b" : {"CVE-1": {"description": "braces } { and \\\" quotes ]", "releases": {"sid": {"status": "open", "urgency": "low"}}}}, "c": {} } `,
	`{"s": {"CVE-1": {"description": "\u00e9\ud83d\ude00 \ud800 \udc00x \ud83d\u0041 \u002F\/\b\f\n\r\t", "releases": {"sid": null}}}}`,
	"{\"s\": {\"CVE-1\": {\"description\": \"bad \xff\xfe utf8 \xed\xa0\x80 é\", \"releases\": {\"s\xffid\": {}}}}}",
	`{"s": {"CVE-2": {"releases": {"sid": {"status": "resolved", "fixed_version": "1.0", "urgency": "low**"}}}, "CVE-1": {"releases": {"trixie": {"status": "open"}, "bookworm": {"status": "open", "urgency": " medium ** "}}}}}`,
	`{"s": {"CVE-1": {"DESCRIPTION": "x", "Releases": {"sid": {"STATUS": "open", "ſtatus": "resolved", "Fixed_Version": "2", "NoDSA": "Minor", "NODSA_REASON": "postponed"}}}}}`,
	`{"s": {"CVE-1": {"releases": {"sid": {"nodsa": true}, "trixie": {"nodsa": false}, "bookworm": {"nodsa": null, "nodsa_reason": 12.5e3}, "a": {"nodsa": {"x" : [1, 2]}, "nodsa_reason": [ ]}}}}}`,
	`{"s": {"CVE-1": {"releases": {"sid": {"nodsa": "x", "nodsa": null}, "trixie": {"nodsa": null, "nodsa": "y", "nodsa_reason": "ignored", "nodsa_reason": null}}}}}`,
	`{"s": {"CVE-1": {"description": "a", "description": null, "releases": {"sid": {"status": "open", "status": null, "urgency": "low", "urgency": "high"}}}}}`,
	`{"s": {"CVE-1": {"releases": {"sid": {"status": "open"}}, "releases": {"trixie": {}, "sid": {"urgency": "low"}}}}}`,
	`{"s": {"CVE-1": {"releases": {"sid": {}}, "releases": null}}}`,
	`{"s": {"CVE-1": {"releases": {"sid": {}}}, "CVE-1": {"description": "second"}, "CVE-2": null}}`,
	`{"s": {"CVE-1": {"scope": "remote", "debianbug": 1034720, "x": [true, false, null, -0.5, {"a": {}}], "releases": {"sid": {"repositories": {"sid": "1"}, "next_point_update": [], "status": "open"}}}}}`,
	`{"a": {}, "a": {"CVE-1": {"releases": {"sid": {}}}}}`,
	// refused
	`[]`, `{"openssl": {"CVE-1": {"releases": 3}}}`, `{"a": {}} x`, `{"a": {}`,
	`{"s": {"CVE-1": {"description": 3}}}`, `{"s": {"CVE-1": {"releases": {"sid": {"status": true}}}}}`,
	`{"s": {"CVE-1": {"releases": {"sid": 3}}}}`, `{"s": {"CVE-1": "x"}}`, `{"s": {"CVE-1": {"x": 01}}}`,
	`{"s": {"CVE-1": {"x": 1.}}}`, `{"s": {"CVE-1": {"x": -}}}`, `{"s": {"CVE-1": {"x": tru}}}`, `{"s": {"CVE-1": {"x": "\x"}}}`,
	`{"s": {"CVE-1": {"x": "\u12"}}}`, "{\"s\": {\"CVE-1\": {\"x\": \"a\tb\"}}}", `{"s": {"CVE-1": {"x": [1,]}}}`, `{"s": {"CVE-1": {"x": {"a" 1}}}}`,
	`{"s": {"CVE-1": {"x": [}]}}}`, `{"s": {"CVE-1": {,}}}`, `{"s": {"CVE-1": {"x": 1 2}}}`,
}

func TestTrackerDecoderDifferential(t *testing.T) {
	data, err := os.ReadFile("testdata/tracker.json")
	if err != nil {
		t.Fatal(err)
	}
	sameIndex(t, data)
	for _, c := range trackerCases {
		sameIndex(t, []byte(c))
	}
	deep := `{"s": {"CVE-1": {"x": ` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}}}`
	sameIndex(t, []byte(deep))
}

// TestTrackerDecoderGenerated: the benchmark's generator, a smaller file
// (700 sources, 3,200 entries, about 2 MB).
func TestTrackerDecoderGenerated(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tracker.json")
	if err := writeTracker(p, 700, 3200); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := ParseTrackerBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	want, err := parseTrackerJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Len() != 3200*3 || !reflect.DeepEqual(ix, want) {
		t.Fatalf("indexes differ (%d records)", ix.Len())
	}
}

// TestTrackerDecoderOffset: an error names the byte offset in the file.
func TestTrackerDecoderOffset(t *testing.T) {
	_, err := ParseTrackerBytes([]byte(`{"a": {}, "s": {"CVE-1": {"x": tru}}}`))
	if err == nil || !strings.Contains(err.Error(), "byte 34") || !strings.Contains(err.Error(), `source "s"`) {
		t.Fatalf("error %v, want one naming byte 34 of source s", err)
	}
}

func FuzzTrackerDecoder(f *testing.F) {
	if data, err := os.ReadFile("testdata/tracker.json"); err == nil {
		f.Add(data)
	}
	for _, c := range trackerCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameIndex(t, data)
	})
}
