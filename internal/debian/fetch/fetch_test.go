package fetch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func testClient() *Client {
	c := New("temper/test")
	c.Backoff = time.Millisecond
	return c
}

// counting wraps a handler and counts requests.
func counting(h http.HandlerFunc) (http.HandlerFunc, *atomic.Int32) {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}, &n
}

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func mustContain(t *testing.T, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want one mentioning %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestOK(t *testing.T) {
	body := bytes.Repeat([]byte("Package: x\n"), 50000)
	h, n := counting(func(w http.ResponseWriter, r *http.Request) {
		if ua := r.Header.Get("User-Agent"); ua != "temper/test" {
			t.Errorf("User-Agent = %q", ua)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	srv := serve(t, h)
	var buf bytes.Buffer
	err := testClient().Get(context.Background(), srv.URL+"/dists/x/Release", func() (io.Writer, error) {
		buf.Reset()
		return &buf, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), body) || n.Load() != 1 {
		t.Fatalf("got %d bytes in %d requests", buf.Len(), n.Load())
	}
	got, err := testClient().GetBytes(context.Background(), srv.URL, 0)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GetBytes: %d bytes, %v", len(got), err)
	}
}

func TestNoTransparentDecompression(t *testing.T) {
	// A gzip-encoded response must arrive as the raw bytes.
	raw := []byte("\x1f\x8b not really gzip")
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(raw)
	})
	got, err := testClient().GetBytes(context.Background(), srv.URL, 0)
	if err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("GetBytes = %q, %v", got, err)
	}
}

func TestNotFoundNotRetried(t *testing.T) {
	h, n := counting(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	srv := serve(t, h)
	u := srv.URL + "/dists/nosuch/InRelease"
	_, err := testClient().GetBytes(context.Background(), u, 0)
	if !IsNotFound(err) {
		t.Fatalf("IsNotFound(%v) = false", err)
	}
	if want := "GET " + u + ": 404 Not Found"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 404 || se.URL != u {
		t.Errorf("StatusError = %+v", se)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1", n.Load())
	}
}

func TestRetry500ThenOK(t *testing.T) {
	var calls atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	})
	var opened int
	var buf bytes.Buffer
	err := testClient().Get(context.Background(), srv.URL, func() (io.Writer, error) {
		opened++
		buf.Reset()
		return &buf, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != "ok" || calls.Load() != 3 {
		t.Errorf("body %q after %d requests", buf.String(), calls.Load())
	}
	if opened != 1 {
		t.Errorf("writer opened %d times, want 1 (only for 2xx responses)", opened)
	}
}

func TestRetry429(t *testing.T) {
	var calls atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "ok")
	})
	got, err := testClient().GetBytes(context.Background(), srv.URL, 0)
	if err != nil || string(got) != "ok" || calls.Load() != 2 {
		t.Fatalf("GetBytes = %q, %v after %d requests", got, err, calls.Load())
	}
}

func TestAlways500(t *testing.T) {
	h, n := counting(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusServiceUnavailable)
	})
	srv := serve(t, h)
	c := testClient()
	c.Retries = 4
	_, err := c.GetBytes(context.Background(), srv.URL+"/x", 0)
	mustContain(t, err, "GET "+srv.URL+"/x", "503 Service Unavailable", "after 5 attempts")
	if n.Load() != 5 {
		t.Errorf("%d requests, want 5", n.Load())
	}
	var fe *Error
	if !errors.As(err, &fe) || fe.Attempts != 5 {
		t.Errorf("Error = %+v", fe)
	}
	if IsNotFound(err) {
		t.Error("IsNotFound(503) = true")
	}
}

func TestTruncatedBody(t *testing.T) {
	h, n := counting(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		w.Write(bytes.Repeat([]byte("a"), 100))
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	})
	srv := serve(t, h)
	c := testClient()
	c.Retries = 1
	var opened int
	err := c.Get(context.Background(), srv.URL+"/pool/a.deb", func() (io.Writer, error) {
		opened++
		return io.Discard, nil
	})
	mustContain(t, err, "GET "+srv.URL+"/pool/a.deb", "truncated", "100 of 1000 bytes", "after 2 attempts", "--archive")
	var te *TruncatedError
	if !errors.As(err, &te) {
		t.Errorf("error %v is not a *TruncatedError", err)
	}
	if n.Load() != 2 || opened != 2 {
		t.Errorf("%d requests, %d writers; want 2, 2", n.Load(), opened)
	}
}

func TestStalledServer(t *testing.T) {
	h, n := counting(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	srv := serve(t, h)
	c := testClient()
	c.Retries = 1
	c.ReadTimeout = 100 * time.Millisecond
	start := time.Now()
	_, err := c.GetBytes(context.Background(), srv.URL, 0)
	mustContain(t, err, "stalled", "no data received for 100ms", "after 2 attempts")
	var se *StalledError
	if !errors.As(err, &se) || se.Got != 7 {
		t.Errorf("StalledError = %+v", se)
	}
	if n.Load() != 2 {
		t.Errorf("%d requests, want 2", n.Load())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestStalledBeforeHeaders(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c := testClient()
	c.Retries = 0
	c.ReadTimeout = 50 * time.Millisecond
	_, err := c.GetBytes(context.Background(), srv.URL, 0)
	mustContain(t, err, "stalled", "after 1 attempt")
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	u := "http://" + addr + "/debian/dists/bookworm/InRelease"
	_, err = testClient().GetBytes(context.Background(), u, 0)
	mustContain(t, err, "GET "+u+": connection refused after 4 attempts: is the archive reachable? set --archive to a mirror you can reach")
}

func TestContextCanceled(t *testing.T) {
	h, n := counting(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	srv := serve(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := testClient().GetBytes(ctx, srv.URL, 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	mustContain(t, err, "canceled", "after 1 attempt")
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1", n.Load())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestContextCanceledDuringBackoff(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	c := testClient()
	c.Backoff = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := c.GetBytes(ctx, srv.URL, 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestGetBytesMax(t *testing.T) {
	h, n := counting(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 1000))
	})
	srv := serve(t, h)
	_, err := testClient().GetBytes(context.Background(), srv.URL, 999)
	mustContain(t, err, "GET "+srv.URL, "999-byte limit")
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1 (not retried)", n.Load())
	}
	got, err := testClient().GetBytes(context.Background(), srv.URL, 1000)
	if err != nil || len(got) != 1000 {
		t.Errorf("GetBytes at limit: %d bytes, %v", len(got), err)
	}
}

func TestWriterErrorNotRetried(t *testing.T) {
	h, n := counting(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "data") })
	srv := serve(t, h)
	boom := errors.New("disk full")
	err := testClient().Get(context.Background(), srv.URL, func() (io.Writer, error) { return nil, boom })
	if !errors.Is(err, boom) || n.Load() != 1 {
		t.Fatalf("err = %v after %d requests", err, n.Load())
	}
	mustContain(t, err, "GET "+srv.URL)
}

func TestZeroClient(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	var c Client
	got, err := c.GetBytes(context.Background(), srv.URL, 0)
	if err != nil || string(got) != "ok" {
		t.Fatalf("GetBytes = %q, %v", got, err)
	}
}

func TestBadURL(t *testing.T) {
	_, err := testClient().GetBytes(context.Background(), "http://bad host/x", 0)
	mustContain(t, err, "GET http://bad host/x")
}
