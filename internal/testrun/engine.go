package testrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/oci"
)

// Engine is a container engine command line: podman or docker.
type Engine struct {
	Name string // "podman" or "docker"
	Bin  string // the executable
	// Env is added to the engine's environment (e.g. CONTAINERS_CONF).
	Env []string
}

// Engines temper knows how to drive, in the order FindEngine tries them.
var Engines = []string{"podman", "docker"}

// FindEngine returns the engine named (podman or docker), or the first of
// Engines installed when name is "".
func FindEngine(name string) (*Engine, error) {
	names := Engines
	if name != "" {
		known := false
		for _, n := range Engines {
			known = known || n == name
		}
		if !known {
			return nil, fmt.Errorf("unknown container engine %q (known: %s)", name, strings.Join(Engines, ", "))
		}
		names = []string{name}
	}
	for _, n := range names {
		if bin, err := exec.LookPath(n); err == nil {
			return &Engine{Name: n, Bin: bin}, nil
		}
	}
	return nil, fmt.Errorf("no container engine found (looked for %s on $PATH)", strings.Join(names, ", "))
}

func (e *Engine) env() []string { return append(os.Environ(), e.Env...) }

// CommandLine is how a command is shown in reports.
func CommandLine(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`;&|<>()*?[]{}!#~") {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

// execResult is one engine invocation.
type execResult struct {
	argv           []string
	exit           int
	stdout, stderr string
	err            error // could not run, or timed out
}

func (e *Engine) run(ctx context.Context, timeout time.Duration, args ...string) execResult {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, e.Bin, args...)
	cmd.Env = e.env()
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := execResult{argv: append([]string{e.Name}, args...), stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		r.err, r.exit = fmt.Errorf("timed out after %s", timeout), -1
	case errors.As(err, &ee):
		r.exit = ee.ExitCode()
	default:
		r.err, r.exit = err, -1
	}
	return r
}

// loaded is an image the engine holds for the tests.
type loaded struct {
	ref     string // what to pass to run: the image ID, or the user's ref
	tag     string // the tag temper loaded it under ("" when not loaded by temper)
	created bool   // temper loaded it (and may remove it)
}

// load makes the engine hold img. It is addressed by its image ID (the
// config digest), so it is loaded only when the engine does not have it.
func (e *Engine) load(ctx context.Context, img v1.Image, tag string) (*loaded, error) {
	id, err := img.ConfigName()
	if err != nil {
		return nil, err
	}
	ref := id.Hex
	if r := e.run(ctx, time.Minute, "image", "inspect", "--format", "{{.Id}}", ref); r.err == nil && r.exit == 0 {
		return &loaded{ref: ref}, nil
	}
	dir, err := os.MkdirTemp("", "temper-test-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "image.tar")
	if err := oci.WriteTarball(file, img, tag); err != nil {
		return nil, err
	}
	r := e.run(ctx, 5*time.Minute, "load", "-q", "-i", file)
	if r.err != nil || r.exit != 0 {
		return nil, fmt.Errorf("%s: exit %d %v: %s", CommandLine(r.argv), r.exit, r.err, strings.TrimSpace(r.stderr+r.stdout))
	}
	return &loaded{ref: ref, tag: tag, created: true}, nil
}

// remove drops an image temper loaded.
func (e *Engine) remove(ctx context.Context, l *loaded) {
	if l == nil || !l.created {
		return
	}
	e.run(ctx, time.Minute, "rmi", "-f", l.ref)
}
