// Package fakeengine is a container engine made of Go values, for
// hermetic tests of internal/testrun: command tests answer from a
// function, and a service is whatever listens at the address the test
// gives (an httptest.Server, a closed port). It runs nothing and holds no
// images; it records the calls made to it.
package fakeengine

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/testrun"
)

// Engine answers testrun's requests. The zero value runs every command
// successfully and starts services that publish nothing.
type Engine struct {
	// LoadErr fails Load.
	LoadErr error
	// Image is what Save returns.
	Image v1.Image
	// OnRun answers Run (command tests); nil exits 0 without output.
	OnRun func(c testrun.Container) testrun.Result
	// StartExit is the exit status of starting a service (non-zero: it
	// did not start).
	StartExit int
	// Addr is the host:port a service's port is published at.
	Addr string
	// OnExec answers Exec (wait commands, command probes); nil exits 0.
	OnExec func(args []string) testrun.Result
	// ExitStatus, when set, is the status a service exited with.
	ExitStatus string
	// Log is the services' output.
	Log string

	mu    sync.Mutex
	calls []string
	n     int
}

var _ testrun.Engine = (*Engine)(nil)

// Calls are the requests made so far, one line each (e.g. "start c1").
func (e *Engine) Calls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.calls...)
}

func (e *Engine) record(format string, a ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, fmt.Sprintf(format, a...))
}

// Name is "fake".
func (e *Engine) Name() string { return "fake" }

// Load "loads" the image under its tag.
func (e *Engine) Load(_ context.Context, _ v1.Image, tag string) (string, bool, error) {
	e.record("load %s", tag)
	if e.LoadErr != nil {
		return "", false, e.LoadErr
	}
	return tag, true, nil
}

// Unload records the removal.
func (e *Engine) Unload(_ context.Context, ref string) { e.record("unload %s", ref) }

// Save returns Image.
func (e *Engine) Save(ref string) (v1.Image, func(), error) {
	e.record("save %s", ref)
	if e.Image == nil {
		return nil, nil, fmt.Errorf("fake: no image %s", ref)
	}
	return e.Image, func() {}, nil
}

// Run answers with OnRun.
func (e *Engine) Run(ctx context.Context, timeout time.Duration, c testrun.Container) testrun.Result {
	e.record("run %s as %s %q", c.Image, c.User, c.Args)
	r := testrun.Result{}
	if e.OnRun != nil {
		r = e.OnRun(c)
	}
	r.Argv = append([]string{"fake", "run", "--user", c.User, c.Image}, c.Args...)
	return r
}

// Start "starts" a service container with a new id.
func (e *Engine) Start(_ context.Context, c testrun.Container) (string, testrun.Result) {
	e.mu.Lock()
	e.n++
	id := "c" + strconv.Itoa(e.n)
	e.mu.Unlock()
	e.record("start %s as %s port %d writable %q", id, c.User, c.Port, c.Writable)
	return id, testrun.Result{Argv: []string{"fake", "run", "-d", "--user", c.User, c.Image}, Exit: e.StartExit, Stdout: id + "\n"}
}

// Port returns Addr.
func (e *Engine) Port(_ context.Context, id string, port int) (string, testrun.Result) {
	return e.Addr, testrun.Result{Argv: []string{"fake", "port", id, strconv.Itoa(port) + "/tcp"}, Stdout: e.Addr}
}

// Exec answers with OnExec.
func (e *Engine) Exec(_ context.Context, id string, args []string) testrun.Result {
	r := testrun.Result{}
	if e.OnExec != nil {
		r = e.OnExec(args)
	}
	r.Argv = append([]string{"fake", "exec", id}, args...)
	return r
}

// Exited reports ExitStatus.
func (e *Engine) Exited(_ context.Context, id string) (string, bool) {
	return e.ExitStatus, e.ExitStatus != ""
}

// Logs returns Log.
func (e *Engine) Logs(_ context.Context, id string) string { return e.Log }

// Remove records the removal.
func (e *Engine) Remove(_ context.Context, id string) { e.record("remove %s", id) }
