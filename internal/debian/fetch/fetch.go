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
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
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

// DeadlineError is a request that outlasted Client.Deadline.
type DeadlineError struct{ After time.Duration }

func (e *DeadlineError) Error() string {
	return fmt.Sprintf("no complete response within the per-request deadline of %v (TEMPER_LIMIT_REQUEST_TIME)", e.After)
}

// SlowError is a transfer slower than Client.MinRate over a window.
type SlowError struct {
	Got    int64         // bytes received in the window
	Window time.Duration // the window
	Min    int64         // the minimum rate, bytes per second
}

func (e *SlowError) Error() string {
	return fmt.Sprintf("too slow: %d bytes in %v, below the minimum rate of %d bytes/s (TEMPER_LIMIT_MIN_RATE)", e.Got, e.Window, e.Min)
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

// StatusError is a non-2xx HTTP response.
type StatusError struct {
	URL    string
	Status int
}

func (e *StatusError) Error() string {
	return "GET " + e.URL + ": " + statusText(e.Status)
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

// IsNotFound reports whether err is (or wraps) a 404 or 410 response.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusGone)
}

// Error is a download that failed, possibly after several attempts. Err is
// the failure of the last attempt; it may be a *StatusError, a *TruncatedError,
// a *StalledError, a context error or a network error.
type Error struct {
	URL      string
	Attempts int
	Err      error
}

func (e *Error) Error() string {
	what, hint := describe(e.Err)
	s := "GET " + e.URL + ": " + what
	if e.Attempts == 1 {
		s += " after 1 attempt"
	} else {
		s += " after " + strconv.Itoa(e.Attempts) + " attempts"
	}
	if hint != "" {
		s += ": " + hint
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// TruncatedError is a response body that ended before Content-Length bytes.
type TruncatedError struct {
	Got, Want int64
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("truncated body: got %d of %d bytes", e.Got, e.Want)
}

// StalledError is a transfer during which no bytes arrived for Timeout.
type StalledError struct {
	After time.Duration // the ReadTimeout that expired
	Got   int64         // body bytes received before the stall
}

func (e *StalledError) Error() string {
	return fmt.Sprintf("stalled: no data received for %v (after %d body bytes)", e.After, e.Got)
}

const reachHint = "is the archive reachable? set --archive to a mirror you can reach"

// describe turns the last attempt's error into "what happened" and a hint.
func describe(err error) (what, hint string) {
	var se *StatusError
	var te *TruncatedError
	var st *StalledError
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &se):
		if se.Status >= 500 || se.Status == http.StatusTooManyRequests {
			return statusText(se.Status), "the server is failing or overloaded; try again later or set --archive to another mirror"
		}
		return statusText(se.Status), ""
	case errors.As(err, new(*DeadlineError)), errors.As(err, new(*SlowError)), errors.As(err, new(*tooLargeError)):
		return err.Error(), ""
	case errors.Is(err, context.Canceled):
		return "canceled", ""
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded", ""
	case errors.As(err, &te):
		return te.Error(), reachHint
	case errors.As(err, &st):
		return st.Error(), reachHint
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", reachHint
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset", reachHint
	case errors.As(err, &dns):
		return "cannot resolve host " + dns.Name + " (" + dns.Err + ")", reachHint
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout (" + unwrapURLError(err).Error() + ")", reachHint
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed mid-transfer (truncated body)", reachHint
	}
	return unwrapURLError(err).Error(), reachHint
}

// unwrapURLError strips the `Get "url": ` prefix net/http adds, since our
// messages already name the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// writeError marks a failure of the caller's writer (not retried).
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// errStalled is the cancellation cause used by the idle-read timer.
var errStalled = errors.New("stalled")

// retryable reports whether an attempt that failed with err should be retried.
func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status >= 500 || se.Status == http.StatusTooManyRequests
	}
	var we *writeError
	if errors.As(err, &we) {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.As(err, new(*tooLargeError)) {
		return false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return false
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
		return false
	}
	return !errors.Is(err, http.ErrSchemeMismatch)
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

// delay returns the wait before retry number n (1-based).
func (c *Client) delay(n int, last error) time.Duration {
	d := c.backoff() << (n - 1)
	if d <= 0 || d > time.Hour { // overflow guard
		d = time.Hour
	}
	d += time.Duration(rand.Int64N(int64(d)/2 + 1)) // up to +50% jitter
	var ra *retryAfterError
	if errors.As(last, &ra) && ra.after > d {
		d = ra.after
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// retryAfterError wraps a 429/503 StatusError carrying a Retry-After delay.
type retryAfterError struct {
	*StatusError
	after time.Duration
}

func (e *retryAfterError) Unwrap() error { return e.StatusError }

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(v); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	return min(max(d, 0), maxRetryAfter)
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
		se := &StatusError{URL: url, Status: resp.StatusCode}
		// Drain a little so the connection can be reused.
		_, _ = io.CopyN(io.Discard, resp.Body, 4096)
		if ra := parseRetryAfter(resp.Header.Get("Retry-After")); ra > 0 {
			return &retryAfterError{StatusError: se, after: ra}
		}
		return se
	}
	maxBody := c.maxBytes()
	if resp.ContentLength > maxBody {
		return &tooLargeError{max: maxBody, claimed: resp.ContentLength}
	}
	w, err := open()
	if err != nil {
		return &writeError{err}
	}
	minRate, window := c.rate()
	winStart, winGot := time.Now(), int64(0)
	buf := make([]byte, 64<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			idle.Reset(rt)
			got += int64(n)
			if got > maxBody {
				return &tooLargeError{max: maxBody}
			}
			winGot += int64(n)
			if el := time.Since(winStart); el >= window {
				if float64(winGot) < float64(minRate)*el.Seconds() {
					return &SlowError{Got: winGot, Window: el.Round(time.Millisecond), Min: minRate}
				}
				winStart, winGot = time.Now(), 0
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

// tooLargeError is a body over a limit: limitWriter's, or Client.MaxBytes.
type tooLargeError struct{ max, claimed int64 }

func (e *tooLargeError) Error() string {
	if e.claimed > 0 {
		return fmt.Sprintf("response of %d bytes (Content-Length) larger than the %d-byte limit (TEMPER_LIMIT_DEB, TEMPER_LIMIT_INDEX)", e.claimed, e.max)
	}
	return fmt.Sprintf("response larger than the %d-byte limit", e.max)
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
