package fetch

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// trickle writes one byte every interval until the client goes away.
func trickle(interval time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := w.Write([]byte{'x'}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(interval):
			}
		}
	}
}

// A server that trickles bytes (never stalling long enough for
// ReadTimeout) fails the minimum transfer rate.
func TestTrickleBelowMinRate(t *testing.T) {
	srv := serve(t, trickle(20*time.Millisecond))
	c := testClient()
	c.Retries = 0
	c.MinRate, c.RateWindow = 1000, 300*time.Millisecond
	start := time.Now()
	_, err := c.GetBytes(context.Background(), srv.URL+"/Packages", 0)
	var se *SlowError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a *SlowError", err)
	}
	mustContain(t, err, srv.URL+"/Packages", "too slow", "minimum rate of 1000 bytes/s")
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v", el)
	}
}

// The per-request deadline bounds all attempts, however the server
// behaves.
func TestRequestDeadline(t *testing.T) {
	srv := serve(t, trickle(10*time.Millisecond))
	c := testClient()
	c.Deadline = 300 * time.Millisecond
	c.MinRate = 1 // never too slow: only the deadline can stop it
	_, err := c.GetBytes(context.Background(), srv.URL+"/x.deb", 0)
	var de *DeadlineError
	if !errors.As(err, &de) {
		t.Fatalf("got %v, want a *DeadlineError", err)
	}
	mustContain(t, err, srv.URL+"/x.deb", "per-request deadline of 300ms")
}

// A Content-Length over the limit is refused before the body is read;
// a body over it without Content-Length is cut off at the limit.
func TestBodyLimit(t *testing.T) {
	h, n := counting(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/claims" {
			w.Header().Set("Content-Length", strconv.FormatInt(100000000000, 10))
			w.WriteHeader(http.StatusOK)
			return
		}
		for range 100 {
			w.Write(make([]byte, 1000))
		}
	})
	srv := serve(t, h)
	c := testClient()
	c.MaxBytes = 10000
	_, err := c.GetBytes(context.Background(), srv.URL+"/claims", 1<<40)
	mustContain(t, err, "100000000000 bytes (Content-Length) larger than the 10000-byte limit")
	if got := n.Load(); got != 1 {
		t.Errorf("%d requests: a limit is not retried", got)
	}
	_, err = c.GetBytes(context.Background(), srv.URL+"/stream", 1<<40)
	mustContain(t, err, "larger than the 10000-byte limit")
}
