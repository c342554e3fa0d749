package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// The errors a Get returns, and how Error describes them.

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

// tooLargeError is a body over a limit: limitWriter's, or Client.MaxBytes.
type tooLargeError struct{ max, claimed int64 }

func (e *tooLargeError) Error() string {
	if e.claimed > 0 {
		return fmt.Sprintf("response of %d bytes (Content-Length) larger than the %d-byte limit (TEMPER_LIMIT_DEB, TEMPER_LIMIT_INDEX)", e.claimed, e.max)
	}
	return fmt.Sprintf("response larger than the %d-byte limit", e.max)
}
