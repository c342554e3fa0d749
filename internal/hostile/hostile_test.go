package hostile_test

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/maintscript"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/hostile"
	"github.com/temper-dev/temper/internal/limits"
)

// The cases run with the default limits, each in a child process whose
// address space is capped (ulimit -v): before the limits, each of them
// crashed temper allocating what the input claimed. The parent asserts
// the child's exit (the expected error, no crash) and its peak RSS.
var cases = map[string]func() error{
	"tar header claims 1 TB": func() error {
		return walk(hostile.Deb(ctl, nil, "data.tar", hostile.ClaimingTar("./big", 1<<40, []byte("x"))))
	},
	"tar header claims 3 GB": func() error {
		return walk(hostile.Deb(ctl, nil, "data.tar", hostile.ClaimingTar("./big", 3<<30, []byte("x"))))
	},
	"xz bomb in Walk": func() error {
		return walk(hostile.Deb(ctl, nil, "data.tar.xz", hostile.ZerosTarXZ(80<<20)))
	},
	"xz bomb in Transcode": func() error {
		_, err := deb.Transcode(context.Background(), "evil_1_amd64.deb", hostile.Deb(ctl, nil, "data.tar.xz", hostile.ZerosTarXZ(80<<20)))
		return err
	},
	"Packages Size 100000000000": func() error {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("deb")) }))
		defer srv.Close()
		dir, _ := os.MkdirTemp("", "hostile-cache-")
		defer os.RemoveAll(dir)
		c, _ := cache.Open(dir)
		f := &pool.Fetcher{Mirrors: archive.Mirrors{Archive: srv.URL, Security: srv.URL}, Cache: c, HTTP: fetch.New("test")}
		_, _, err := f.Fetch(context.Background(), []pool.Item{{Name: "evil", Version: "1", Suite: "bookworm", Filename: "pool/e/evil.deb", SHA256: strings.Repeat("ab", 32), Size: 100000000000}})
		return err
	},
	"postinst doubling a variable": func() error {
		return stopped(maintscript.Evaluate(hostile.Scripts["doubling"], maintscript.Env{}))
	},
	"postinst nesting 50000 ifs": func() error {
		return stopped(maintscript.Evaluate(hostile.Scripts["nested-if"], maintscript.Env{}))
	},
	"postinst endless loop": func() error {
		return stopped(maintscript.Evaluate(hostile.Scripts["endless-func"], maintscript.Env{}))
	},
}

var ctl = hostile.Control("evil", "1", "amd64")

func walk(b []byte) error {
	d, err := deb.Open("evil_1_amd64.deb", b)
	if err != nil {
		return err
	}
	return d.Walk(func(h *tar.Header, r io.Reader) error {
		if h.Typeflag == tar.TypeReg {
			_, err := deb.ReadEntry(r, h.Size)
			return err
		}
		return nil
	})
}

func stopped(c maintscript.Calls) error {
	if c.Stopped == "" {
		return nil
	}
	return errors.New(c.Stopped)
}

func TestMain(m *testing.M) {
	if name := os.Getenv("HOSTILE_CASE"); name != "" {
		err := cases[name]()
		// The peak RSS of this process alone: the kernel's Maxrss of
		// a child the (large) test process started includes the
		// parent's, which exec inherits through vfork.
		if st, rerr := os.ReadFile("/proc/self/status"); rerr == nil {
			for _, line := range strings.Split(string(st), "\n") {
				if strings.HasPrefix(line, "VmHWM:") {
					fmt.Println(line)
				}
			}
		}
		var le *limits.Error
		switch {
		case errors.As(err, &le) || err != nil && strings.Contains(err.Error(), "budget") ||
			err != nil && (strings.Contains(err.Error(), "nesting deeper") || strings.Contains(err.Error(), "string longer")):
			fmt.Println("contained:", err)
			os.Exit(0)
		default:
			fmt.Println("not contained:", err)
			os.Exit(3)
		}
	}
	os.Exit(m.Run())
}

// Every case ends in a limit error within 60 s, under a 4 GiB address
// space cap, with a peak RSS (the child's own VmHWM) under 200 MiB.
func TestHostileInChild(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not found")
	}
	for name := range cases {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "-c", `ulimit -v 4194304 && exec "$0"`, os.Args[0])
			cmd.Env = append(os.Environ(), "HOSTILE_CASE="+name)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var rss int64 // KiB
			for _, line := range strings.Split(string(out), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &rss)
				}
			}
			if rss == 0 {
				t.Fatalf("the child reported no VmHWM:\n%s", out)
			}
			t.Logf("peak RSS %d MiB: %s", rss>>10, strings.TrimSpace(string(out)))
			if rss > 200<<10 {
				t.Errorf("peak RSS %d MiB, bound 200 MiB", rss>>10)
			}
		})
	}
}
