package testrun_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/testrun"
	"github.com/temper-dev/temper/internal/testrun/fakeengine"
)

// fakeImage is a small image for this machine that runs as redis, whom
// its /etc/passwd makes 999:999.
func fakeImage(t *testing.T) v1.Image {
	t.Helper()
	f := rootfs.New()
	for _, e := range []*rootfs.Entry{
		{Path: "etc/passwd", Kind: rootfs.File, Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/usr/sbin/nologin\nredis:x:999:999::/var/lib/redis:/usr/sbin/nologin\n")},
		{Path: "etc/group", Kind: rootfs.File, Mode: 0o644, Data: []byte("root:x:0:\nredis:x:999:\n")},
		{Path: "usr/bin/redis-server", Kind: rootfs.File, Mode: 0o755, Data: []byte("\x7fELF")},
	} {
		if err := f.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	layer, err := oci.Layer(f, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	img, err := oci.Image(layer, oci.ImageConfig{Architecture: goArch(), User: "redis"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// goArch is this machine's architecture as an image config names it.
func goArch() string {
	switch a := testrun.HostArch(); a {
	case "armhf":
		return "arm"
	case "i386":
		return "386"
	case "ppc64el":
		return "ppc64le"
	case "mips64el":
		return "mips64le"
	default:
		return a
	}
}

// runOne runs the single test in tests (YAML) with the fake engine and
// returns its outcome.
func runOne(t *testing.T, eng *fakeengine.Engine, test string) testrun.Outcome {
	t.Helper()
	d, err := spec.ParseDefinition("x.yaml", []byte("name: x\nversion: \"1\"\ndebian: {release: bookworm}\narchitectures: [amd64]\npackages: [redis-server]\n"+
		"image: {user: \"999:999\", writable: [/var/lib/redis]}\ntests:\n  - name: the test\n    "+test+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep := testrun.Run(context.Background(), testrun.Target{Def: d, Image: fakeImage(t)}, testrun.Options{Engine: eng})
	if rep.Err != "" || rep.Engine != "fake" {
		t.Fatalf("report: %+v", rep)
	}
	for _, o := range rep.Tests {
		if o.Name == "the test" {
			return o
		}
	}
	t.Fatalf("no outcome: %+v", rep.Tests)
	return testrun.Outcome{}
}

func output(exit int, stdout string) func(testrun.Container) testrun.Result {
	return func(testrun.Container) testrun.Result { return testrun.Result{Exit: exit, Stdout: stdout} }
}

func TestCommandFake(t *testing.T) {
	for _, c := range []struct {
		name     string
		test     string
		run      func(testrun.Container) testrun.Result
		status   testrun.Status
		expected string
		actual   string
		message  string
	}{
		{"passes", `command: {args: [--version], stdout: {contains: "v=7"}}`, output(0, "Redis server v=7.0.15\n"),
			testrun.Pass, `exit 0, stdout containing "v=7"`, "", ""},
		{"exit code", `command: {args: [--version]}`, output(1, ""),
			testrun.Fail, "exit 0", `exit 1, stdout "", stderr ""`, ""},
		{"expected exit code", `command: {args: [--bad], exit: 1}`, output(1, ""),
			testrun.Pass, "exit 1", "", ""},
		{"stdout", `command: {args: [--version], stdout: {regex: "^Redis server v=8"}}`, output(0, "Redis server v=7.0.15\n"),
			testrun.Fail, "exit 0, stdout matching /^Redis server v=8/", `exit 0, stdout "Redis server v=7.0.15\n", stderr ""`, ""},
		{"timeout", `command: {args: [--version]}`, func(testrun.Container) testrun.Result {
			return testrun.Result{Exit: -1, Err: errors.New("timed out after 2m0s")}
		}, testrun.Fail, "", `exit -1, stdout "", stderr ""`, "timed out after 2m0s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			eng := &fakeengine.Engine{OnRun: c.run}
			o := runOne(t, eng, c.test)
			if o.Status != c.status || o.Expected != c.expected || o.Actual != c.actual || o.Message != c.message {
				t.Errorf("got %s expected %q actual %q message %q\nwant %s expected %q actual %q message %q",
					o.Status, o.Expected, o.Actual, o.Message, c.status, c.expected, c.actual, c.message)
			}
			// The image runs as its own user, resolved by its /etc/passwd.
			if len(o.Command) != 1 || !strings.HasPrefix(o.Command[0], "fake run --user 999:999 localhost/temper-test/x:1-") {
				t.Errorf("command %q", o.Command)
			}
			calls := strings.Join(eng.Calls(), "\n")
			if !strings.HasPrefix(calls, "load localhost/temper-test/x:1-") || !strings.Contains(calls, "\nunload ") {
				t.Errorf("calls:\n%s", calls)
			}
		})
	}
}

func TestLoadFailsFake(t *testing.T) {
	o := runOne(t, &fakeengine.Engine{LoadErr: errors.New("no space left")}, `command: {args: [--version]}`)
	if o.Status != testrun.Fail || o.Message != "loading the image into fake: no space left" {
		t.Errorf("%+v", o)
	}
}

// closedAddr is a loopback address nothing listens at.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func httpService(t *testing.T, status int, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func exits(code int) func([]string) testrun.Result {
	return func([]string) testrun.Result { return testrun.Result{Exit: code, Stderr: "not yet"} }
}

func TestServiceFake(t *testing.T) {
	const (
		httpProbe = `service: {port: 8080, timeout: 1s, probe: {http: {path: /healthz}}}`
		execProbe = `service: {port: 6379, timeout: 1s, wait_command: [redis-cli, ping], probe: {args: [redis-cli, ping]}}`
	)
	for _, c := range []struct {
		name    string
		test    string
		eng     func(t *testing.T) *fakeengine.Engine
		status  testrun.Status
		message string
		actual  string // a part of it
		command []string
	}{
		{"ready", httpProbe, func(t *testing.T) *fakeengine.Engine {
			return &fakeengine.Engine{Addr: httpService(t, 200, "ok")}
		}, testrun.Pass, "", "", []string{"fake run -d --user 999:999", "GET http://"}},
		{"ready with a wait command", execProbe, func(t *testing.T) *fakeengine.Engine {
			return &fakeengine.Engine{Addr: httpService(t, 200, "ok")}
		}, testrun.Pass, "", "", []string{"fake run -d", "fake exec c1 redis-cli ping", "fake exec c1 redis-cli ping"}},
		{"never ready", httpProbe, func(t *testing.T) *fakeengine.Engine {
			return &fakeengine.Engine{Addr: closedAddr(t), Log: "listening on 8081"}
		}, testrun.Fail, "not ready within 1s", "port 8080 (published at 127.0.0.1:", []string{"fake run -d"}},
		{"wait command fails", execProbe, func(t *testing.T) *fakeengine.Engine {
			return &fakeengine.Engine{Addr: httpService(t, 200, "ok"), OnExec: exits(1)}
		}, testrun.Fail, "not ready within 1s", `wait command: exit 1, stdout "", stderr "not yet"`, []string{"fake run -d", "fake exec c1 redis-cli ping"}},
		{"probe fails", httpProbe, func(t *testing.T) *fakeengine.Engine {
			return &fakeengine.Engine{Addr: httpService(t, 503, "down")}
		}, testrun.Fail, "probe did not pass within 1s", `HTTP 503, body "down"`, []string{"fake run -d", "GET http://"}},
		{"exited", httpProbe, func(t *testing.T) *fakeengine.Engine {
			return &fakeengine.Engine{Addr: closedAddr(t), ExitStatus: "3"}
		}, testrun.Fail, "the container exited with status 3 before it was ready", "", []string{"fake run -d"}},
		{"no port", httpProbe, func(t *testing.T) *fakeengine.Engine {
			return &fakeengine.Engine{}
		}, testrun.Fail, "no published port for 8080/tcp", "exit 0", []string{"fake run -d"}},
		{"did not start", httpProbe, func(t *testing.T) *fakeengine.Engine {
			return &fakeengine.Engine{StartExit: 125}
		}, testrun.Fail, "the container did not start", "exit 125", []string{"fake run -d"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			eng := c.eng(t)
			o := runOne(t, eng, c.test)
			if o.Status != c.status || o.Message != c.message || !strings.Contains(o.Actual, c.actual) {
				t.Errorf("got %s message %q actual %q\nwant %s message %q actual containing %q", o.Status, o.Message, o.Actual, c.status, c.message, c.actual)
			}
			if len(o.Command) != len(c.command) {
				t.Fatalf("command %q, want %q", o.Command, c.command)
			}
			for i, p := range c.command {
				if !strings.HasPrefix(o.Command[i], p) {
					t.Errorf("command %d: %q, want %q...", i, o.Command[i], p)
				}
			}
			if o.Status == testrun.Fail && o.Logs != eng.Log {
				t.Errorf("logs %q, want %q", o.Logs, eng.Log)
			}
			calls := strings.Join(eng.Calls(), "\n")
			if !strings.Contains(calls, `start c1 as 999:999 port `) || !strings.Contains(calls, `writable ["/var/lib/redis"]`) {
				t.Errorf("calls:\n%s", calls)
			}
			if started := c.name != "did not start"; started != strings.Contains(calls, "\nremove c1") {
				t.Errorf("container removed: %v, want %v:\n%s", !started, started, calls)
			}
		})
	}
}

func TestRunFilesOrder(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		files = append(files, dir+"/"+n+".yaml")
	}
	reports := testrun.RunFiles(context.Background(), files, testrun.Source{Layout: dir}, testrun.Options{}, 2)
	for i, r := range reports {
		if r.Definition != files[i] || r.Err == "" {
			t.Errorf("report %d: %s %q, want %s and an error", i, r.Definition, r.Err, files[i])
		}
	}
}
