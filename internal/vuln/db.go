package vuln

import (
	"errors"
	"fmt"
	"time"

	"github.com/temper-dev/temper/internal/debian/cache"
)

// DB is the vulnerability data one scan uses.
type DB struct {
	Index *Index
	KEV   map[string]KEV  // by CVE id; nil when no KEV data
	EPSS  map[string]EPSS // by CVE id; nil when no EPSS data

	// Data describes each data set the DB was loaded from.
	Data Data
}

// Data is the provenance and age of a DB's data sets, as reports show it.
type Data struct {
	Tracker *Dataset `json:"tracker"`
	KEV     *Dataset `json:"kev"`
	EPSS    *Dataset `json:"epss,omitempty"`
}

// Files names data set files to read instead of temper's cached copies;
// an empty name means "the copy `temper vuln update` kept".
type Files struct{ Tracker, KEV, EPSS string }

// Load assembles a DB from the files given and, for the others, the copies
// in the cache. The tracker is required; KEV and EPSS are used when present.
func Load(c *cache.Cache, files Files, now time.Time) (*DB, error) {
	db := &DB{}
	data, st, err := source(c, Tracker, files.Tracker, true)
	if err != nil {
		return nil, err
	}
	if db.Index, err = TrackerIndex(c, data, st.SHA256); err != nil {
		return nil, err
	}
	db.Data.Tracker = datasetOf(st, now)
	if data, st, err = source(c, KEVFeed, files.KEV, false); err != nil {
		return nil, err
	} else if st.SHA256 != "" {
		if db.KEV, err = ParseKEV(data); err != nil {
			return nil, err
		}
		db.Data.KEV = datasetOf(st, now)
	}
	if data, st, err = source(c, EPSSFeed, files.EPSS, false); err != nil {
		return nil, err
	} else if st.SHA256 != "" {
		if db.EPSS, err = ParseEPSS(data); err != nil {
			return nil, err
		}
		db.Data.EPSS = datasetOf(st, now)
	}
	return db, nil
}

// source returns a data set's bytes and state: from file when one is named,
// otherwise from the cache. For the tracker it does not read the JSON from
// the cache (data is nil): TrackerIndex finds the index by digest.
func source(c *cache.Cache, k Kind, file string, required bool) ([]byte, State, error) {
	if file != "" {
		return readFile(file, k)
	}
	st, ok, err := LoadState(c, k)
	if err != nil || !ok {
		if err == nil && required {
			err = errNoData(k)
		}
		return nil, State{}, err
	}
	if k == Tracker {
		return nil, st, nil
	}
	data, err := c.Read(st.SHA256)
	if err != nil {
		return nil, State{}, fmt.Errorf("%s data %s: %w (run `temper vuln update`)", k, st.SHA256[:12], err)
	}
	return data, st, nil
}

// TrackerIndex returns the index of the tracker JSON whose SHA-256 is sum:
// the cached compact index when there is one, otherwise it parses data
// (read from the cache when nil) and caches the index for next time.
func TrackerIndex(c *cache.Cache, data []byte, sum string) (*Index, error) {
	if c != nil {
		if raw, err := c.GetRef(indexRef(sum)); err == nil {
			if ix, err := UnmarshalIndex(raw); err == nil {
				return ix, nil
			}
		} else if !errors.Is(err, cache.ErrNotFound) {
			return nil, err
		}
	}
	if data == nil {
		var err error
		if data, err = c.Read(sum); err != nil {
			return nil, fmt.Errorf("tracker data %s: %w (run `temper vuln update`)", sum[:12], err)
		}
	}
	ix, err := ParseTrackerBytes(data)
	if err != nil {
		return nil, err
	}
	if c != nil {
		if raw, err := ix.MarshalBinary(); err == nil {
			_ = c.PutRef(indexRef(sum), raw) // a cache that cannot be written only costs speed
		}
	}
	return ix, nil
}
