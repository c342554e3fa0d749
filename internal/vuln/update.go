package vuln

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/debian/cache"
)

// UpdateOptions configure Update.
type UpdateOptions struct {
	HTTP      *http.Client // nil: http.DefaultClient
	UserAgent string
	Now       func() time.Time // nil: time.Now
}

// Outcome says what Update did.
type Outcome string

// Update outcomes.
const (
	Unchanged Outcome = "not modified" // the server answered 304, or the content is the one kept
	Updated   Outcome = "updated"
)

// Update fetches data set k from src (an http(s) URL, or a file) and keeps
// it in the cache once it parses: a download that is truncated, too large or
// not valid JSON/CSV never replaces the copy kept before. It sends the
// previous ETag and Last-Modified when the server gave them, and for the
// tracker it also builds and caches the compact index.
func Update(ctx context.Context, c *cache.Cache, k Kind, src string, opt UpdateOptions) (State, Outcome, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	prev, had, err := LoadState(c, k)
	if err != nil {
		return State{}, "", err
	}
	var data []byte
	var st State
	if isURL(src) {
		var notModified bool
		data, st, notModified, err = download(ctx, k, src, prev, had, opt)
		if err != nil {
			return State{}, "", err
		}
		if notModified {
			prev.FetchedAt = now()
			return prev, Unchanged, saveState(c, k, prev)
		}
		st.FetchedAt = now()
	} else if data, st, err = readFile(src, k); err != nil {
		return State{}, "", err
	}
	if err := validate(c, k, data, st.SHA256); err != nil {
		return State{}, "", fmt.Errorf("%s: %w (the copy kept before is unchanged)", src, err)
	}
	if err := c.WriteBytes(st.SHA256, data); err != nil {
		return State{}, "", err
	}
	out := Updated
	if had && prev.SHA256 == st.SHA256 {
		out = Unchanged
	}
	return st, out, saveState(c, k, st)
}

// validate parses the data as its kind; for the tracker this also caches
// the compact index, so the first scan after an update is a warm one.
func validate(c *cache.Cache, k Kind, data []byte, sum string) error {
	var err error
	switch k {
	case Tracker:
		_, err = TrackerIndex(c, data, sum)
	case KEVFeed:
		_, err = ParseKEV(data)
	case EPSSFeed:
		_, err = ParseEPSS(data)
	default:
		err = fmt.Errorf("unknown data set %q", k)
	}
	return err
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// download GETs src with the validators of the previous copy when it came
// from the same URL. The body is read whole, up to the size limit.
func download(ctx context.Context, k Kind, src string, prev State, had bool, opt UpdateOptions) ([]byte, State, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, State{}, false, err
	}
	if opt.UserAgent != "" {
		req.Header.Set("User-Agent", opt.UserAgent)
	}
	if had && prev.URL == src {
		if prev.ETag != "" {
			req.Header.Set("If-None-Match", prev.ETag)
		}
		if prev.LastModified != "" {
			req.Header.Set("If-Modified-Since", prev.LastModified)
		}
	}
	client := opt.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, State{}, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && had {
		return nil, State{}, true, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, State{}, false, fmt.Errorf("GET %s: %s", src, resp.Status)
	}
	limit := maxSize[k]
	if resp.ContentLength > limit {
		return nil, State{}, false, fmt.Errorf("GET %s: %d bytes, over the %d-byte limit for %s data", src, resp.ContentLength, limit, k)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, State{}, false, fmt.Errorf("GET %s: %w", src, err)
	}
	if int64(len(data)) > limit {
		return nil, State{}, false, fmt.Errorf("GET %s: over the %d-byte limit for %s data", src, limit, k)
	}
	if resp.ContentLength >= 0 && int64(len(data)) != resp.ContentLength {
		return nil, State{}, false, fmt.Errorf("GET %s: truncated: %d of %d bytes", src, len(data), resp.ContentLength)
	}
	st := State{URL: src, SHA256: sum(data), Size: int64(len(data)), ETag: resp.Header.Get("ETag"), LastModified: strings.TrimSpace(resp.Header.Get("Last-Modified"))}
	return data, st, false, nil
}
