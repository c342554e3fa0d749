package testrun

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/temper-dev/temper/internal/spec"
)

// service is a service test's container while it runs.
type service struct {
	eng      Engine
	id       string
	port     int    // the container's port
	hostPort string // where it is published on the loopback
	timeout  time.Duration
	deadline time.Time
}

// serviceTest starts the image in the background, waits until it is
// ready and probes it, all within the test's timeout; a failed test keeps
// the container's logs.
func serviceTest(ctx context.Context, eng Engine, ref string, def *spec.Definition, tr *tree, st *spec.ServiceTest) (o Outcome) {
	timeout := st.Timeout
	if timeout == 0 {
		timeout = spec.DefaultServiceTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	s, ok := startService(ctx, eng, Container{Image: ref, User: runUser(tr), Port: st.Port, Writable: def.Image.Writable}, &o)
	if !ok {
		return o
	}
	s.timeout = timeout
	s.deadline, _ = ctx.Deadline()
	defer s.stop(ctx, &o)
	if s.published(ctx, &o) && s.wait(ctx, st.WaitCommand, &o) {
		s.probe(ctx, st.Probe, &o)
	}
	return o
}

// startService starts the container; on failure o says why.
func startService(ctx context.Context, eng Engine, c Container, o *Outcome) (*service, bool) {
	id, r := eng.Start(context.WithoutCancel(ctx), c)
	o.Command = append(o.Command, CommandLine(r.Argv))
	if r.Err != nil || r.Exit != 0 {
		o.Status, o.Message, o.Actual = Fail, "the container did not start", actual(r)
		return nil, false
	}
	return &service{eng: eng, id: id, port: c.Port}, true
}

// stop keeps the logs of a failed test and removes the container.
func (s *service) stop(ctx context.Context, o *Outcome) {
	bg := context.WithoutCancel(ctx)
	if o.Status == Fail {
		o.Logs = clip(s.eng.Logs(bg, s.id))
	}
	s.eng.Remove(bg, s.id)
}

// exited says why the container stopped, or "" while it runs.
func (s *service) exited(ctx context.Context) string {
	if status, ok := s.eng.Exited(context.WithoutCancel(ctx), s.id); ok {
		return "the container exited with status " + status
	}
	return ""
}

// published finds where the engine published the service port.
func (s *service) published(ctx context.Context, o *Outcome) bool {
	hostPort, r := s.eng.Port(ctx, s.id, s.port)
	if hostPort == "" {
		o.Status, o.Message, o.Actual = Fail, "no published port for "+strconv.Itoa(s.port)+"/tcp", actual(r)
		if why := s.exited(ctx); why != "" {
			o.Message = why + " before it was ready"
		}
		return false
	}
	s.hostPort = hostPort
	return true
}

// wait waits until the wait command (inside the container) and the port
// (from here) both answer.
func (s *service) wait(ctx context.Context, waitCommand []string, o *Outcome) bool {
	if len(waitCommand) > 0 {
		o.Command = append(o.Command, CommandLine(append([]string{s.eng.Name(), "exec", s.id}, waitCommand...)))
	}
	var last string
	for {
		if why := s.exited(ctx); why != "" {
			o.Status, o.Message, o.Actual = Fail, why+" before it was ready", last
			return false
		}
		var ready bool
		if ready, last = s.ready(ctx, waitCommand); ready {
			return true
		}
		if time.Now().Add(300 * time.Millisecond).After(s.deadline) {
			o.Status, o.Message, o.Actual = Fail, fmt.Sprintf("not ready within %s", s.timeout), last
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// ready tries the wait command and the port once; when not ready, it says
// what did not answer.
func (s *service) ready(ctx context.Context, waitCommand []string) (bool, string) {
	if len(waitCommand) > 0 {
		if r := s.eng.Exec(ctx, s.id, waitCommand); r.Err != nil || r.Exit != 0 {
			return false, "wait command: " + actual(r)
		}
	}
	c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", s.hostPort)
	if err != nil {
		return false, "port " + strconv.Itoa(s.port) + " (published at " + s.hostPort + "): " + err.Error()
	}
	c.Close()
	return true, ""
}

// probe runs the probe, retrying until it passes or time runs out: a
// port that accepts connections may still be loading.
func (s *service) probe(ctx context.Context, p spec.Probe, o *Outcome) {
	if p.HTTP != nil {
		s.probeHTTP(ctx, p.HTTP, o)
		return
	}
	o.Expected = "probe exits 0"
	for {
		r := s.eng.Exec(ctx, s.id, p.Args)
		if r.Err == nil && r.Exit == 0 {
			o.Command = append(o.Command, CommandLine(r.Argv))
			o.Status = Pass
			return
		}
		o.Actual = actual(r)
		if !retry(ctx, s.deadline) {
			o.Command = append(o.Command, CommandLine(r.Argv))
			o.Status, o.Message = Fail, fmt.Sprintf("probe did not pass within %s", s.timeout)
			return
		}
	}
}

func (s *service) probeHTTP(ctx context.Context, h *spec.HTTPProbe, o *Outcome) {
	want := h.Status
	if want == 0 {
		want = spec.DefaultHTTPStatus
	}
	url := "http://" + s.hostPort + h.Path
	o.Command = append(o.Command, "GET "+url)
	o.Expected = fmt.Sprintf("HTTP %d from GET %s", want, h.Path)
	for {
		got, body, err := httpGet(ctx, url)
		if err == nil && got == want {
			o.Status = Pass
			return
		}
		if err != nil {
			o.Actual = err.Error()
		} else {
			o.Actual = fmt.Sprintf("HTTP %d, body %q", got, clip(body))
		}
		if !retry(ctx, s.deadline) {
			o.Status, o.Message = Fail, fmt.Sprintf("probe did not pass within %s", s.timeout)
			return
		}
	}
}

func retry(ctx context.Context, deadline time.Time) bool {
	if time.Now().Add(500 * time.Millisecond).After(deadline) {
		return false
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(500 * time.Millisecond):
		return true
	}
}

func httpGet(ctx context.Context, url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b), nil
}
