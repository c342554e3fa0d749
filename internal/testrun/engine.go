package testrun

import (
	"context"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Engine runs the images under test: what command and service tests ask
// of a container engine, and nothing else. CLI drives podman or docker;
// internal/testrun/fakeengine answers from Go values, for hermetic tests.
//
// An Engine does not judge: it reports what ran (Result.Argv) and what
// came back, and the tests decide what passes.
type Engine interface {
	// Name is the engine's name in reports (e.g. "podman").
	Name() string

	// Load makes the engine hold img (tagged tag if it must be loaded) and
	// returns the reference to run it by; loaded says Load put it there,
	// and Unload may drop it again.
	Load(ctx context.Context, img v1.Image, tag string) (ref string, loaded bool, err error)
	// Unload drops an image Load loaded.
	Unload(ctx context.Context, ref string)
	// Save reads an image the engine already holds; cleanup releases what
	// reading it needed.
	Save(ref string) (img v1.Image, cleanup func(), err error)

	// Run runs c to completion within timeout, without network (command
	// tests).
	Run(ctx context.Context, timeout time.Duration, c Container) Result
	// Start starts c in the background with c.Port published on
	// 127.0.0.1 (service tests) and returns its id.
	Start(ctx context.Context, c Container) (id string, r Result)
	// Port returns the host:port at which the container's port is
	// published ("" when none is).
	Port(ctx context.Context, id string, port int) (hostPort string, r Result)
	// Exec runs args in the running container.
	Exec(ctx context.Context, id string, args []string) Result
	// Exited reports whether the container stopped, with its exit status.
	Exited(ctx context.Context, id string) (status string, exited bool)
	// Logs returns the container's output so far.
	Logs(ctx context.Context, id string) string
	// Remove stops and removes the container.
	Remove(ctx context.Context, id string)
}

// Container is how a test runs the image: read-only, as User.
type Container struct {
	Image string // the engine's reference
	User  string // uid:gid
	// Args follow the image: the entrypoint's arguments (command tests).
	Args []string
	// Port is published on 127.0.0.1 (service tests).
	Port int
	// Writable are directories mounted as tmpfs owned by User (service
	// tests).
	Writable []string
}

// Result is one engine invocation.
type Result struct {
	Argv           []string // what ran, for reports
	Exit           int
	Stdout, Stderr string
	Err            error // could not run, or timed out
}

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
