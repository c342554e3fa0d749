// Package fetch downloads Debian archive files over HTTP with sensible
// timeouts, bounded retries with backoff, and errors that say which URL
// failed, what happened and how many attempts were made.
//
// A transfer fails when no bytes arrive for Client.ReadTimeout, when it
// averages less than Client.MinRate over Client.RateWindow (a server that
// trickles), when one request (all its attempts) outlasts Client.Deadline,
// and when a body is larger than Client.MaxBytes (checked against
// Content-Length before reading, and while reading). The defaults of the
// last four come from internal/limits.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/temper-dev/temper/internal/limits"
)

// Defaults used by New, and by a Client whose fields are zero.
const (
	DefaultRetries     = 3
	DefaultBackoff     = 500 * time.Millisecond
	DefaultReadTimeout = 30 * time.Second

	// maxRetryAfter caps how long a Retry-After header can make us wait.
	maxRetryAfter = 60 * time.Second
)

// Client fetches archive files. The zero value is usable: a nil HTTP uses a
// client with DefaultTransport-like timeouts, a zero Backoff or ReadTimeout
// uses the default; Retries is used as is (New sets it to DefaultRetries).
type Client struct {
	// HTTP is the client used for requests. New sets one with dial, TLS
	// handshake and response header timeouts but no overall timeout.
	HTTP *http.Client
	// Retries is how many times a failed attempt is retried (attempts =
	// 1+Retries). 5xx, 429 and connection errors are retried; other 4xx are not.
	Retries int
	// Backoff is the wait before the first retry; it doubles per attempt and
	// has jitter added.
	Backoff time.Duration
	// ReadTimeout fails an attempt when no bytes arrive for this long
	// (including while waiting for the response headers).
	ReadTimeout time.Duration
	// UserAgent is sent as the User-Agent header, e.g. "temper/1.2.3".
	UserAgent string
	// Deadline bounds one Get, all attempts and waits included; zero
	// means limits.Get().RequestTime.
	Deadline time.Duration
	// MinRate (bytes per second) and RateWindow: an attempt whose body
	// arrives slower than MinRate on average over a RateWindow fails;
	// zero means the limits' defaults.
	MinRate    int64
	RateWindow time.Duration
	// MaxBytes bounds one response body; zero means the larger of the
	// per-.deb and per-index limits.
	MaxBytes int64
}

func (c *Client) deadline() time.Duration {
	if c.Deadline > 0 {
		return c.Deadline
	}
	return limits.Get().RequestTime
}

func (c *Client) rate() (int64, time.Duration) {
	l := limits.Get()
	r, w := c.MinRate, c.RateWindow
	if r <= 0 {
		r = l.MinRate
	}
	if w <= 0 {
		w = l.RateWindow
	}
	return r, w
}

func (c *Client) maxBytes() int64 {
	if c.MaxBytes > 0 {
		return c.MaxBytes
	}
	l := limits.Get()
	return max(l.Deb, l.Index)
}

// New returns a Client with the default settings and the given User-Agent.
func New(userAgent string) *Client {
	return &Client{
		HTTP:        NewHTTPClient(),
		Retries:     DefaultRetries,
		Backoff:     DefaultBackoff,
		ReadTimeout: DefaultReadTimeout,
		UserAgent:   userAgent,
	}
}

// NewHTTPClient returns the http.Client New uses: proxies from the
// environment, dial timeout 10s, TLS handshake timeout 10s, response header
// timeout 30s, no overall timeout, and no transparent decompression (archive
// files must arrive byte for byte as published so their hashes verify).
func NewHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          16,
		ForceAttemptHTTP2:     true,
		DisableCompression:    true,
	}}
}

var (
	defaultHTTPOnce sync.Once
	defaultHTTP     *http.Client
)

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	defaultHTTPOnce.Do(func() { defaultHTTP = NewHTTPClient() })
	return defaultHTTP
}

func (c *Client) backoff() time.Duration {
	if c.Backoff > 0 {
		return c.Backoff
	}
	return DefaultBackoff
}

func (c *Client) readTimeout() time.Duration {
	if c.ReadTimeout > 0 {
		return c.ReadTimeout
	}
	return DefaultReadTimeout
}

// Get downloads url into the writer returned by open. open is called once per
// attempt so that a retry starts from a fresh (empty) writer; a writer that
// implements io.Closer is not closed by Get.
//
// 5xx, 429 and connection errors (refused, reset, timeouts, stalls, bodies
// shorter than Content-Length) are retried with exponential backoff; other
// 4xx are not, and are returned as *StatusError. Errors from open or from the
// writer are not retried. Other failures are returned as *Error.
func (c *Client) Get(ctx context.Context, url string, open func() (io.Writer, error)) error {
	if _, err := http.NewRequest(http.MethodGet, url, nil); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	dl := c.deadline()
	ctx, cancel := context.WithTimeoutCause(ctx, dl, &DeadlineError{After: dl})
	defer cancel()
	attempts := 1 + max(c.Retries, 0)
	var last error
	for attempt := 1; attempt <= attempts; attempt++ {
		if attempt > 1 {
			if err := sleep(ctx, c.delay(attempt-1, last)); err != nil {
				return &Error{URL: url, Attempts: attempt - 1, Err: err}
			}
		}
		err := c.once(ctx, url, open)
		if err == nil {
			return nil
		}
		var we *writeError
		if errors.As(err, &we) {
			return fmt.Errorf("GET %s: writing: %w", url, we.err)
		}
		if ctx.Err() != nil {
			return &Error{URL: url, Attempts: attempt, Err: context.Cause(ctx)}
		}
		last = err
		if !retryable(err) {
			var se *StatusError
			if errors.As(err, &se) {
				return se
			}
			return &Error{URL: url, Attempts: attempt, Err: err}
		}
	}
	return &Error{URL: url, Attempts: attempts, Err: last}
}

// once performs one attempt.
func (c *Client) once(ctx context.Context, url string, open func() (io.Writer, error)) error {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rt := c.readTimeout()
	idle := time.AfterFunc(rt, func() { cancel(errStalled) })
	defer idle.Stop()

	req, err := http.NewRequestWithContext(actx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	var got int64
	// stalled reports a failure the idle timer caused (not the caller's
	// ctx) as a *StalledError.
	stalled := func(err error) error {
		if errors.Is(context.Cause(actx), errStalled) && ctx.Err() == nil {
			return &StalledError{After: rt, Got: got}
		}
		return err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return stalled(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(url, resp)
	}
	maxBody := c.maxBytes()
	if resp.ContentLength > maxBody {
		return &tooLargeError{max: maxBody, claimed: resp.ContentLength}
	}
	w, err := open()
	if err != nil {
		return &writeError{err}
	}
	rate := c.newRateCheck()
	buf := make([]byte, 64<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			idle.Reset(rt)
			got += int64(n)
			if got > maxBody {
				return &tooLargeError{max: maxBody}
			}
			if err := rate.add(n); err != nil {
				return err
			}
			if _, werr := w.Write(buf[:n]); werr != nil {
				return &writeError{werr}
			}
			idle.Reset(rt) // a slow writer is not a stalled server
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if err := stalled(rerr); err != rerr {
				return err
			}
			if errors.Is(rerr, io.ErrUnexpectedEOF) && resp.ContentLength >= 0 {
				return &TruncatedError{Got: got, Want: resp.ContentLength}
			}
			return rerr
		}
	}
	if resp.ContentLength >= 0 && got != resp.ContentLength {
		return &TruncatedError{Got: got, Want: resp.ContentLength}
	}
	return nil
}

// statusError is the error of a non-2xx response: a *StatusError, wrapped
// in a *retryAfterError when the response says when to retry. A little of
// the body is drained so that the connection can be reused.
func statusError(url string, resp *http.Response) error {
	se := &StatusError{URL: url, Status: resp.StatusCode}
	_, _ = io.CopyN(io.Discard, resp.Body, 4096)
	if ra := parseRetryAfter(resp.Header.Get("Retry-After")); ra > 0 {
		return &retryAfterError{StatusError: se, after: ra}
	}
	return se
}

// rateCheck fails a transfer whose body arrives slower than min bytes per
// second on average over a window (Client.MinRate, Client.RateWindow).
type rateCheck struct {
	min    int64
	window time.Duration
	start  time.Time // the current window's start
	got    int64     // bytes received in it
}

func (c *Client) newRateCheck() rateCheck {
	minRate, window := c.rate()
	return rateCheck{min: minRate, window: window, start: time.Now()}
}

// add counts n bytes just received; at the end of a window it returns a
// *SlowError if the window's average was below the minimum, and starts the
// next window.
func (r *rateCheck) add(n int) error {
	r.got += int64(n)
	if el := time.Since(r.start); el >= r.window {
		if float64(r.got) < float64(r.min)*el.Seconds() {
			return &SlowError{Got: r.got, Window: el.Round(time.Millisecond), Min: r.min}
		}
		r.start, r.got = time.Now(), 0
	}
	return nil
}

type limitWriter struct {
	buf []byte
	max int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.max > 0 && int64(len(l.buf))+int64(len(p)) > l.max {
		return 0, &tooLargeError{max: l.max}
	}
	l.buf = append(l.buf, p...)
	return len(p), nil
}

// GetBytes downloads url into memory. If max > 0, a body longer than max
// bytes is an error (not retried); max <= 0 means the per-index limit.
func (c *Client) GetBytes(ctx context.Context, url string, max int64) ([]byte, error) {
	if max <= 0 {
		max = limits.Get().Index
	}
	var lw *limitWriter
	err := c.Get(ctx, url, func() (io.Writer, error) {
		lw = &limitWriter{max: max}
		return lw, nil
	})
	if err != nil {
		var tl *tooLargeError
		if errors.As(err, &tl) {
			return nil, fmt.Errorf("GET %s: %w", url, tl)
		}
		return nil, err
	}
	return lw.buf, nil
}
