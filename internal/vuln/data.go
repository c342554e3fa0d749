package vuln

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/temper-dev/temper/internal/debian/cache"
)

// Kind names one of the data sets.
type Kind string

// The data sets, with the publishers' URLs (temper.yaml's
// vulnerability_data: overrides them for mirrors and air-gapped sites).
const (
	Tracker  Kind = "tracker"
	KEVFeed  Kind = "kev"
	EPSSFeed Kind = "epss"
)

// DefaultURLs are where the publishers serve the data sets.
var DefaultURLs = map[Kind]string{
	Tracker:  "https://security-tracker.debian.org/tracker/data/json",
	KEVFeed:  "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
	EPSSFeed: "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
}

// maxSize bounds each download: the tracker export is tens of MB today.
var maxSize = map[Kind]int64{Tracker: 1 << 30, KEVFeed: 64 << 20, EPSSFeed: 256 << 20}

// State is what temper remembers of the last copy of a data set it kept:
// the content itself is in the cache under SHA256.
type State struct {
	URL          string    `json:"url"` // or the file it was read from
	SHA256       string    `json:"sha256"`
	Size         int64     `json:"size"`
	FetchedAt    time.Time `json:"fetched_at"` // when the publisher last confirmed it (a 304 counts)
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
}

func stateRef(k Kind) string     { return "vuln/state/" + string(k) }
func indexRef(sum string) string { return "vuln/index/2/" + sum }
func errNoData(k Kind) error     { return &NoDataError{Kind: k} }

// NoDataError is Load's error when a required data set was never fetched
// (and no file names it): callers that may go on without data, such as a
// build whose gate is skipped, recognise it with errors.As.
type NoDataError struct{ Kind Kind }

func (e *NoDataError) Error() string {
	return fmt.Sprintf("no %s data: run `temper vuln update` (or pass --%s FILE)", e.Kind, e.Kind)
}

// LoadState returns the state of data set k, or ok=false when temper has none.
func LoadState(c *cache.Cache, k Kind) (State, bool, error) {
	raw, err := c.GetRef(stateRef(k))
	if errors.Is(err, cache.ErrNotFound) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, err
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		return State{}, false, fmt.Errorf("vulnerability data state %s: %w", k, err)
	}
	return st, true, nil
}

func saveState(c *cache.Cache, k Kind, st State) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return c.PutRef(stateRef(k), raw)
}

// Dataset is how a report describes the data it was made from.
type Dataset struct {
	Source     string    `json:"source"` // URL or file
	SHA256     string    `json:"sha256"`
	FetchedAt  time.Time `json:"fetched_at"`
	AgeSeconds int64     `json:"age_seconds"`
}

// Age is how old the data was at the time of the report.
func (d *Dataset) Age() time.Duration { return time.Duration(d.AgeSeconds) * time.Second }

func datasetOf(st State, now time.Time) *Dataset {
	return &Dataset{Source: st.URL, SHA256: st.SHA256, FetchedAt: st.FetchedAt.UTC(), AgeSeconds: int64(now.Sub(st.FetchedAt).Seconds())}
}

// readFile reads a data set given on the command line and describes it:
// its age is the file's modification time.
func readFile(path string, k Kind) ([]byte, State, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, State{}, err
	}
	if fi.Size() > maxSize[k] {
		return nil, State{}, fmt.Errorf("%s: %d bytes, over the %d-byte limit for %s data", path, fi.Size(), maxSize[k], k)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, State{}, err
	}
	return data, State{URL: path, SHA256: sum(data), Size: int64(len(data)), FetchedAt: fi.ModTime()}, nil
}

func sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}
