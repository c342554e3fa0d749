package testrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/temper-dev/temper/internal/oci"
)

// CLI is a container engine driven through its command line: podman or
// docker.
type CLI struct {
	Program string // "podman" or "docker"
	Bin     string // the executable
	// Env is added to the engine's environment (e.g. CONTAINERS_CONF).
	Env []string
}

var _ Engine = (*CLI)(nil)

// Engines temper knows how to drive, in the order FindEngine tries them.
var Engines = []string{"podman", "docker"}

// FindEngine returns the engine named (podman or docker), or the first of
// Engines installed when name is "".
func FindEngine(name string) (*CLI, error) {
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
			return &CLI{Program: n, Bin: bin}, nil
		}
	}
	return nil, fmt.Errorf("no container engine found (looked for %s on $PATH)", strings.Join(names, ", "))
}

// Name is the program's name.
func (e *CLI) Name() string { return e.Program }

func (e *CLI) env() []string { return append(os.Environ(), e.Env...) }

// run runs the engine with args within timeout (none when 0).
func (e *CLI) run(ctx context.Context, timeout time.Duration, args ...string) Result {
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
	r := Result{Argv: append([]string{e.Program}, args...), Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		r.Err, r.Exit = fmt.Errorf("timed out after %s", timeout), -1
	case errors.As(err, &ee):
		r.Exit = ee.ExitCode()
	default:
		r.Err, r.Exit = err, -1
	}
	return r
}

// Load makes the engine hold img. It is addressed by its image ID (the
// config digest), so it is loaded only when the engine does not have it.
func (e *CLI) Load(ctx context.Context, img v1.Image, tag string) (string, bool, error) {
	id, err := img.ConfigName()
	if err != nil {
		return "", false, err
	}
	ref := id.Hex
	if r := e.run(ctx, time.Minute, "image", "inspect", "--format", "{{.Id}}", ref); r.Err == nil && r.Exit == 0 {
		return ref, false, nil
	}
	dir, err := os.MkdirTemp("", "temper-test-load-")
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "image.tar")
	if err := oci.WriteTarball(file, img, tag); err != nil {
		return "", false, err
	}
	r := e.run(ctx, 5*time.Minute, "load", "-q", "-i", file)
	if r.Err != nil || r.Exit != 0 {
		return "", false, fmt.Errorf("%s: exit %d %v: %s", CommandLine(r.Argv), r.Exit, r.Err, strings.TrimSpace(r.Stderr+r.Stdout))
	}
	return ref, true, nil
}

// Unload drops an image Load loaded.
func (e *CLI) Unload(ctx context.Context, ref string) {
	e.run(ctx, time.Minute, "rmi", "-f", ref)
}

// Save reads an image the engine holds (e.g. localhost/python:3.11) by
// saving it to a temporary docker-archive.
func (e *CLI) Save(ref string) (v1.Image, func(), error) {
	dir, err := os.MkdirTemp("", "temper-test-save-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	file := filepath.Join(dir, "image.tar")
	cmd := exec.Command(e.Bin, "image", "save", "-o", file, ref)
	cmd.Env = e.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("%s image save %s: %v: %s", e.Program, ref, err, strings.TrimSpace(string(out)))
	}
	img, err := tarball.ImageFromPath(file, nil)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("reading %s saved by %s: %w", ref, e.Program, err)
	}
	return img, cleanup, nil
}

// Run runs c with --rm, without network. docker gets the writable /tmp
// podman gives a read-only container by itself.
func (e *CLI) Run(ctx context.Context, timeout time.Duration, c Container) Result {
	args := []string{"run", "--rm", "--network", "none", "--read-only", "--user", c.User}
	if e.Program == "docker" {
		args = append(args, "--tmpfs", "/tmp:rw,exec,mode=1777")
	}
	args = append(args, c.Image)
	args = append(args, c.Args...)
	return e.run(ctx, timeout, args...)
}

// Start runs c detached with its port published on 127.0.0.1 and a tmpfs
// on each writable directory, owned by the container's user.
func (e *CLI) Start(ctx context.Context, c Container) (string, Result) {
	args := []string{"run", "-d", "--read-only", "--user", c.User, "-p", "127.0.0.1::" + strconv.Itoa(c.Port)}
	if e.Program == "docker" {
		args = append(args, "--tmpfs", "/tmp:rw,exec,mode=1777", "--tmpfs", "/run:rw,mode=0755")
	}
	for _, w := range c.Writable {
		if e.Program == "podman" {
			args = append(args, "--mount", "type=tmpfs,destination="+w+",tmpfs-mode=0755,chown=true")
		} else {
			// docker mounts tmpfs owned by root; uid/gid options are
			// kernel tmpfs options it passes through.
			uid, gid, _ := strings.Cut(c.User, ":")
			args = append(args, "--tmpfs", w+":rw,mode=0755,uid="+uid+",gid="+gid)
		}
	}
	args = append(args, c.Image)
	r := e.run(ctx, 2*time.Minute, args...)
	id := strings.TrimSpace(r.Stdout)
	if i := strings.LastIndexByte(id, '\n'); i >= 0 {
		id = id[i+1:]
	}
	return id, r
}

// Port asks the engine where port/tcp is published on the loopback.
func (e *CLI) Port(ctx context.Context, id string, port int) (string, Result) {
	r := e.run(ctx, 30*time.Second, "port", id, strconv.Itoa(port)+"/tcp")
	for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
		if h, p, err := net.SplitHostPort(strings.TrimSpace(line)); err == nil && (h == "127.0.0.1" || h == "0.0.0.0") {
			return net.JoinHostPort("127.0.0.1", p), r
		}
	}
	return "", r
}

// Exec runs args in the container.
func (e *CLI) Exec(ctx context.Context, id string, args []string) Result {
	return e.run(ctx, 30*time.Second, append([]string{"exec", id}, args...)...)
}

// Exited inspects the container's state.
func (e *CLI) Exited(ctx context.Context, id string) (string, bool) {
	r := e.run(ctx, 30*time.Second, "inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", id)
	f := strings.Fields(r.Stdout)
	if len(f) == 2 && f[0] == "false" {
		return f[1], true
	}
	return "", false
}

// Logs returns the container's stdout and stderr.
func (e *CLI) Logs(ctx context.Context, id string) string {
	r := e.run(ctx, 30*time.Second, "logs", id)
	return r.Stdout + r.Stderr
}

// Remove removes the container, stopping it first (two seconds' grace).
func (e *CLI) Remove(ctx context.Context, id string) {
	e.run(ctx, time.Minute, "rm", "-f", "-t", "2", id)
}
