// Package testrun runs a definition's tests against its built image:
// structure tests (paths, modes, owners, the image configuration and the
// hardening defaults) read the image's layers and need no runtime; command
// and service tests run the image through a container engine (podman or
// docker) read-only, without network unless a service must be reached, as
// the image's own user. Every outcome records what ran, what was expected
// and what happened, for the summary, JSON and JUnit reports.
package testrun

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// Status of a test.
type Status string

// Statuses.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Outcome is one test's result.
type Outcome struct {
	Name     string        `json:"name"`
	Kind     string        `json:"kind"` // path, config, command, service, hardening
	Status   Status        `json:"status"`
	Duration time.Duration `json:"duration_ns"`
	// Command is what ran (engine command lines, one per step), when
	// something ran.
	Command []string `json:"command,omitempty"`
	// Expected and Actual say what the test wanted and what it found.
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	// Message explains a failure or a skip in one line.
	Message string `json:"message,omitempty"`
	// Logs are the container's output for a failed service test.
	Logs string `json:"logs,omitempty"`
}

// Report is the outcome of one image's tests.
type Report struct {
	Definition string        `json:"definition"`
	Image      string        `json:"image"` // NAME:VERSION
	Arch       string        `json:"arch"`
	Digest     string        `json:"digest,omitempty"`
	Source     string        `json:"source,omitempty"` // where the image was read from
	Engine     string        `json:"engine,omitempty"`
	Tests      []Outcome     `json:"tests"`
	Duration   time.Duration `json:"duration_ns"`
	// Err is an error that kept the tests from running at all.
	Err string `json:"error,omitempty"`
}

// Failed counts failed tests (an image that could not be tested counts as
// one failure).
func (r *Report) Failed() int {
	n := 0
	if r.Err != "" {
		n++
	}
	for _, o := range r.Tests {
		if o.Status == Fail {
			n++
		}
	}
	return n
}

// Count returns the number of tests with status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, o := range r.Tests {
		if o.Status == s {
			n++
		}
	}
	return n
}

// Options say how to run.
type Options struct {
	// Engine runs command and service tests; nil skips them.
	Engine *Engine
	// EngineRef is an image the engine already holds (e.g. --image
	// localhost/python:3.11); "" loads the image under test into the engine.
	EngineRef string
	// KeepImage keeps an image temper loaded into the engine afterwards
	// (later runs then skip the load).
	KeepImage bool
	// CommandTimeout bounds each command test (default 2 minutes).
	CommandTimeout time.Duration
}

// Target is the image under test.
type Target struct {
	Def    *spec.Definition
	Image  v1.Image
	Source string
}

// Run runs every test of the definition against the image, in the
// definition's order after the implicit hardening checks.
func Run(ctx context.Context, t Target, opt Options) *Report {
	start := time.Now()
	rep := &Report{Definition: t.Def.File, Image: t.Def.Name + ":" + t.Def.Version, Source: t.Source}
	defer func() { rep.Duration = time.Since(start) }()
	if d, err := t.Image.Digest(); err == nil {
		rep.Digest = d.String()
	}
	tr, err := readTree(t.Image)
	if err != nil {
		rep.Err = err.Error()
		return rep
	}
	rep.Arch = debianArch(tr.arch)
	rep.Tests = append(rep.Tests, hardening(t.Def, tr)...)

	var eng *Engine
	runtimeSkip := ""
	switch {
	case opt.Engine == nil:
		runtimeSkip = "no container engine"
	case rep.Arch != HostArch():
		runtimeSkip = fmt.Sprintf("a %s image does not run on this %s machine", rep.Arch, HostArch())
	default:
		eng = opt.Engine
		rep.Engine = eng.Name
	}
	var img *loaded
	loadErr := ""
	needsEngine := false
	for _, test := range t.Def.Tests {
		needsEngine = needsEngine || test.Command != nil || test.Service != nil
	}
	if eng != nil && needsEngine {
		if opt.EngineRef != "" {
			img = &loaded{ref: opt.EngineRef}
		} else {
			img, err = eng.load(ctx, t.Image, "localhost/temper-test/"+t.Def.Name+":"+t.Def.Version+"-"+rep.Arch)
			if err != nil {
				loadErr = err.Error()
			}
			if !opt.KeepImage {
				defer eng.remove(context.WithoutCancel(ctx), img)
			}
		}
	}
	if opt.CommandTimeout == 0 {
		opt.CommandTimeout = 2 * time.Minute
	}
	for _, test := range t.Def.Tests {
		ts := time.Now()
		var o Outcome
		switch {
		case test.Path != nil:
			o = pathTest(tr, test.Path)
		case test.Config != nil:
			o = configTest(tr, test.Config)
		case runtimeSkip != "":
			o = Outcome{Status: Skip, Message: runtimeSkip}
		case loadErr != "":
			o = Outcome{Status: Fail, Message: "loading the image into " + eng.Name + ": " + loadErr}
		case test.Command != nil:
			o = commandTest(ctx, eng, img.ref, tr, test.Command, opt.CommandTimeout)
		case test.Service != nil:
			o = serviceTest(ctx, eng, img.ref, t.Def, tr, test.Service)
		}
		o.Name, o.Kind = test.Name, test.Kind()
		o.Duration = time.Since(ts)
		rep.Tests = append(rep.Tests, o)
	}
	return rep
}

func debianArch(goarch string) string {
	switch goarch {
	case "arm":
		return "armhf"
	case "386":
		return "i386"
	case "ppc64le":
		return "ppc64el"
	case "mips64le":
		return "mips64el"
	}
	return goarch
}

// ---- structure ----

func pathTest(tr *tree, pt *spec.PathTest) Outcome {
	e, ok := tr.stat(pt.Path)
	if !pt.Exists {
		if ok {
			return Outcome{Status: Fail, Expected: pt.Path + " absent", Actual: fmt.Sprintf("%s exists (%s %s)", pt.Path, e.Kind, describe(e))}
		}
		return Outcome{Status: Pass}
	}
	if !ok {
		return Outcome{Status: Fail, Expected: pt.Path + " exists", Actual: "no such file or directory"}
	}
	var want, got []string
	if pt.Mode != "" {
		m, _ := strconv.ParseUint(pt.Mode, 8, 32)
		if perm(e) != uint32(m) {
			want = append(want, "mode "+pt.Mode)
			got = append(got, fmt.Sprintf("mode %04o", perm(e)))
		}
	}
	if pt.Owner != "" {
		o := fmt.Sprintf("%d:%d", e.UID, e.GID)
		if o != pt.Owner {
			want = append(want, "owner "+pt.Owner)
			got = append(got, "owner "+o)
		}
	}
	if len(want) > 0 {
		return Outcome{Status: Fail, Expected: pt.Path + ": " + strings.Join(want, ", "), Actual: pt.Path + ": " + strings.Join(got, ", ")}
	}
	return Outcome{Status: Pass}
}

// perm is the mode as chmod writes it: permission bits plus setuid,
// setgid and sticky.
func perm(e *rootfs.Entry) uint32 {
	m := uint32(e.Mode.Perm())
	if e.Mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if e.Mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if e.Mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}

func describe(e *rootfs.Entry) string {
	return fmt.Sprintf("mode %04o owner %d:%d", perm(e), e.UID, e.GID)
}

func configTest(tr *tree, ct *spec.ConfigTest) Outcome {
	var want, got []string
	if ct.User != "" && !sameUser(tr, ct.User, tr.config.User) {
		want = append(want, "user "+ct.User)
		got = append(got, fmt.Sprintf("user %q", tr.config.User))
	}
	if ct.Entrypoint != nil && !equal(ct.Entrypoint, tr.config.Entrypoint) {
		want = append(want, "entrypoint "+fmt.Sprintf("%q", ct.Entrypoint))
		got = append(got, "entrypoint "+fmt.Sprintf("%q", tr.config.Entrypoint))
	}
	env := map[string]string{}
	for _, kv := range tr.config.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	keys := make([]string, 0, len(ct.Env))
	for k := range ct.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := env[k]; !ok || v != ct.Env[k] {
			want = append(want, fmt.Sprintf("%s=%s", k, ct.Env[k]))
			if ok {
				got = append(got, fmt.Sprintf("%s=%s", k, v))
			} else {
				got = append(got, k+" unset")
			}
		}
	}
	if len(want) > 0 {
		return Outcome{Status: Fail, Expected: strings.Join(want, "; "), Actual: strings.Join(got, "; ")}
	}
	return Outcome{Status: Pass}
}

// sameUser compares users as the runtime would: a name is looked up in the
// image's /etc/passwd is not possible without contents, so names compare
// equal to themselves and uid:gid compares numerically; "nonroot" is 65532.
func sameUser(tr *tree, want, got string) bool {
	if want == got {
		return true
	}
	norm := func(u string) string {
		if u == spec.DefaultUser {
			return fmt.Sprintf("%d:%d", spec.NonrootUID, spec.NonrootGID)
		}
		if _, err := strconv.Atoi(u); err == nil {
			return u + ":" + u
		}
		return u
	}
	return norm(want) == norm(got)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// shells are the paths an image without a shell must not have.
var shells = []string{"/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/bash", "/bin/dash", "/usr/bin/dash", "/usr/bin/rbash"}

// hardening checks temper's defaults on every image, except the ones the
// definition relaxed (which are reported as skipped).
func hardening(def *spec.Definition, tr *tree) []Outcome {
	var out []Outcome
	var setuid, writable []string
	tr.fs.Walk(func(e *rootfs.Entry) error {
		if e.Kind == rootfs.Symlink || e.Kind == rootfs.Hardlink {
			return nil
		}
		if e.Kind != rootfs.Dir && e.Mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			setuid = append(setuid, "/"+e.Path+" ("+describe(e)+")")
		}
		if e.Mode&0o002 != 0 && e.Path != "tmp" {
			writable = append(writable, "/"+e.Path)
		}
		return nil
	})
	o := Outcome{Name: "hardening: no setuid or setgid files", Kind: "hardening", Status: Pass}
	switch {
	case def.Hardening.AllowSetuid:
		o.Status, o.Message = Skip, "relaxed by hardening.allow_setuid"
	case len(setuid) > 0:
		o.Status, o.Expected, o.Actual = Fail, "no file with the setuid or setgid bit", strings.Join(setuid, ", ")
	}
	out = append(out, o)

	o = Outcome{Name: "hardening: no shell", Kind: "hardening", Status: Pass}
	var found []string
	for _, s := range shells {
		if e, ok := tr.stat(s); ok && e.Kind != rootfs.Dir {
			found = append(found, s)
		}
	}
	switch {
	case def.Shell:
		o.Status, o.Message = Skip, "relaxed by shell: true"
	case len(found) > 0:
		o.Status, o.Expected, o.Actual = Fail, "none of "+strings.Join(shells, ", "), "present: "+strings.Join(found, ", ")
	}
	out = append(out, o)

	o = Outcome{Name: "hardening: not root", Kind: "hardening", Status: Pass}
	u := tr.config.User
	uid, _, _ := strings.Cut(u, ":")
	switch {
	case def.Hardening.AllowRoot:
		o.Status, o.Message = Skip, "relaxed by hardening.allow_root"
	case u == "" || uid == "0" || uid == "root":
		o.Status, o.Expected, o.Actual = Fail, "a non-root user in the image config", fmt.Sprintf("user %q", u)
	}
	out = append(out, o)

	o = Outcome{Name: "hardening: nothing world-writable but /tmp", Kind: "hardening", Status: Pass}
	if len(writable) > 0 {
		o.Status, o.Expected, o.Actual = Fail, "only /tmp world-writable", strings.Join(writable, ", ")
	}
	out = append(out, o)
	return out
}

// ---- command ----

func commandTest(ctx context.Context, eng *Engine, ref string, tr *tree, ct *spec.CommandTest, timeout time.Duration) Outcome {
	args := []string{"run", "--rm", "--network", "none", "--read-only", "--user", runUser(tr)}
	if eng.Name == "docker" {
		args = append(args, "--tmpfs", "/tmp:rw,exec,mode=1777")
	}
	args = append(args, ref)
	args = append(args, ct.Args...)
	r := eng.run(ctx, timeout, args...)
	o := Outcome{Command: []string{CommandLine(r.argv)}}
	if r.err != nil {
		o.Status, o.Message = Fail, r.err.Error()
		o.Actual = actual(r)
		return o
	}
	var want []string
	ok := true
	want = append(want, fmt.Sprintf("exit %d", ct.Exit))
	if r.exit != ct.Exit {
		ok = false
	}
	if ct.Stdout != nil {
		want = append(want, "stdout "+matchString(ct.Stdout))
		ok = matches(ct.Stdout, r.stdout) && ok
	}
	if ct.Stderr != nil {
		want = append(want, "stderr "+matchString(ct.Stderr))
		ok = matches(ct.Stderr, r.stderr) && ok
	}
	o.Expected = strings.Join(want, ", ")
	if ok {
		o.Status = Pass
		return o
	}
	o.Status, o.Actual = Fail, actual(r)
	return o
}

func actual(r execResult) string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.exit, clip(r.stdout), clip(r.stderr))
}

func clip(s string) string {
	const max = 2000
	if len(s) > max {
		return s[:max/2] + "\n…\n" + s[len(s)-max/2:]
	}
	return s
}

func matchString(m *spec.Match) string {
	if m.Regex != "" {
		return fmt.Sprintf("matching /%s/", m.Regex)
	}
	return fmt.Sprintf("containing %q", m.Contains)
}

func matches(m *spec.Match, s string) bool {
	if m.Regex != "" {
		re, err := regexp.Compile("(?m)" + m.Regex)
		return err == nil && re.MatchString(s)
	}
	return strings.Contains(s, m.Contains)
}

func runUser(tr *tree) string {
	if tr.config.User == "" {
		return "0:0"
	}
	return tr.config.User
}

// ---- service ----

func serviceTest(ctx context.Context, eng *Engine, ref string, def *spec.Definition, tr *tree, st *spec.ServiceTest) (o Outcome) {
	timeout := st.Timeout
	if timeout == 0 {
		timeout = spec.DefaultServiceTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	port := strconv.Itoa(st.Port)
	args := []string{"run", "-d", "--read-only", "--user", runUser(tr), "-p", "127.0.0.1::" + port}
	if eng.Name == "docker" {
		args = append(args, "--tmpfs", "/tmp:rw,exec,mode=1777", "--tmpfs", "/run:rw,mode=0755")
	}
	for _, w := range def.Image.Writable {
		if eng.Name == "podman" {
			args = append(args, "--mount", "type=tmpfs,destination="+w+",tmpfs-mode=0755,chown=true")
		} else {
			// docker mounts tmpfs owned by root; uid/gid options are
			// kernel tmpfs options it passes through.
			uid, gid, _ := strings.Cut(runUser(tr), ":")
			args = append(args, "--tmpfs", w+":rw,mode=0755,uid="+uid+",gid="+gid)
		}
	}
	args = append(args, ref)
	start := eng.run(context.WithoutCancel(ctx), 2*time.Minute, args...)
	o.Command = append(o.Command, CommandLine(start.argv))
	if start.err != nil || start.exit != 0 {
		o.Status, o.Message, o.Actual = Fail, "the container did not start", actual(start)
		return o
	}
	id := strings.TrimSpace(start.stdout)
	if i := strings.LastIndexByte(id, '\n'); i >= 0 {
		id = id[i+1:]
	}
	defer func() {
		bg := context.WithoutCancel(ctx)
		if o.Status == Fail {
			logs := eng.run(bg, 30*time.Second, "logs", id)
			o.Logs = clip(logs.stdout + logs.stderr)
		}
		eng.run(bg, time.Minute, "rm", "-f", "-t", "2", id)
	}()
	running := func() (bool, string) {
		r := eng.run(context.WithoutCancel(ctx), 30*time.Second, "inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", id)
		f := strings.Fields(r.stdout)
		if len(f) == 2 && f[0] == "false" {
			return false, "the container exited with status " + f[1]
		}
		return true, ""
	}
	pr := eng.run(ctx, 30*time.Second, "port", id, port+"/tcp")
	hostPort := ""
	for _, line := range strings.Split(strings.TrimSpace(pr.stdout), "\n") {
		if h, p, err := net.SplitHostPort(strings.TrimSpace(line)); err == nil && (h == "127.0.0.1" || h == "0.0.0.0") {
			hostPort = net.JoinHostPort("127.0.0.1", p)
			break
		}
	}
	if hostPort == "" {
		o.Status, o.Message, o.Actual = Fail, "no published port for "+port+"/tcp", actual(pr)
		if ok, why := running(); !ok {
			o.Message = why + " before it was ready"
		}
		return o
	}
	// Wait: the wait command (inside the container) and the port (from
	// here) must both answer.
	var last string
	ready := false
	waitStep := ""
	if len(st.WaitCommand) > 0 {
		waitStep = CommandLine(append([]string{eng.Name, "exec", id}, st.WaitCommand...))
		o.Command = append(o.Command, waitStep)
	}
	for !ready {
		if ok, why := running(); !ok {
			o.Status, o.Message, o.Actual = Fail, why+" before it was ready", last
			return o
		}
		waited := true
		if len(st.WaitCommand) > 0 {
			r := eng.run(ctx, 30*time.Second, append([]string{"exec", id}, st.WaitCommand...)...)
			if r.err != nil || r.exit != 0 {
				waited, last = false, "wait command: "+actual(r)
			}
		}
		if waited {
			c, err := (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, "tcp", hostPort)
			if err != nil {
				waited, last = false, "port "+port+" (published at "+hostPort+"): "+err.Error()
			} else {
				c.Close()
			}
		}
		if waited {
			ready = true
			break
		}
		if time.Now().Add(300 * time.Millisecond).After(deadline) {
			o.Status, o.Message, o.Actual = Fail, fmt.Sprintf("not ready within %s", timeout), last
			return o
		}
		select {
		case <-ctx.Done():
		case <-time.After(300 * time.Millisecond):
		}
	}

	// Probe, retrying until it passes or time runs out: a port that
	// accepts connections may still be loading.
	if st.Probe.HTTP != nil {
		want := st.Probe.HTTP.Status
		if want == 0 {
			want = spec.DefaultHTTPStatus
		}
		url := "http://" + hostPort + st.Probe.HTTP.Path
		o.Command = append(o.Command, "GET "+url)
		o.Expected = fmt.Sprintf("HTTP %d from GET %s", want, st.Probe.HTTP.Path)
		for {
			got, body, err := httpGet(ctx, url)
			if err == nil && got == want {
				o.Status = Pass
				return o
			}
			if err != nil {
				o.Actual = err.Error()
			} else {
				o.Actual = fmt.Sprintf("HTTP %d, body %q", got, clip(body))
			}
			if !retry(ctx, deadline) {
				o.Status, o.Message = Fail, fmt.Sprintf("probe did not pass within %s", timeout)
				return o
			}
		}
	}
	probe := append([]string{"exec", id}, st.Probe.Args...)
	o.Expected = "probe exits 0"
	for {
		r := eng.run(ctx, 30*time.Second, probe...)
		if r.err == nil && r.exit == 0 {
			o.Command = append(o.Command, CommandLine(r.argv))
			o.Status = Pass
			return o
		}
		o.Actual = actual(r)
		if !retry(ctx, deadline) {
			o.Command = append(o.Command, CommandLine(r.argv))
			o.Status, o.Message = Fail, fmt.Sprintf("probe did not pass within %s", timeout)
			return o
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

// Source says where the images under test are read from.
type Source struct {
	// Layout is an OCI layout holding each definition's image under
	// NAME:VERSION (what temper build writes).
	Layout string
	// EngineRef is an image the engine already holds; it takes the place
	// of Layout (one definition only).
	EngineRef string
	// Arch is the architecture to test (default: this machine's).
	Arch string
}

// RunFile loads a definition and runs its tests against its image.
func RunFile(ctx context.Context, defPath string, src Source, opt Options) *Report {
	def, err := spec.LoadDefinition(defPath)
	if err != nil {
		return &Report{Definition: defPath, Err: err.Error()}
	}
	arch := src.Arch
	if arch == "" {
		arch = HostArch()
	}
	t := Target{Def: def}
	if src.EngineRef != "" {
		if opt.Engine == nil {
			return &Report{Definition: defPath, Image: def.Name + ":" + def.Version, Err: "--image needs a container engine"}
		}
		img, cleanup, err := FromEngine(opt.Engine, src.EngineRef)
		if err != nil {
			return &Report{Definition: defPath, Image: def.Name + ":" + def.Version, Arch: arch, Err: err.Error()}
		}
		defer cleanup()
		t.Image, t.Source = img, opt.Engine.Name+":"+src.EngineRef
		opt.EngineRef = src.EngineRef
	} else {
		ref := def.Name + ":" + def.Version
		img, err := FromLayout(src.Layout, ref, arch)
		if err != nil {
			return &Report{Definition: defPath, Image: ref, Arch: arch, Err: fmt.Sprintf("%v (build it first: temper build %s -o %s)", err, defPath, src.Layout)}
		}
		t.Image, t.Source = img, "oci:"+src.Layout+":"+ref
	}
	return Run(ctx, t, opt)
}

// RunFiles tests several definitions, parallel at a time (default 1), and
// returns their reports in the order given.
func RunFiles(ctx context.Context, files []string, src Source, opt Options, parallel int) []*Report {
	if parallel < 1 {
		parallel = 1
	}
	out := make([]*Report, len(files))
	sem := make(chan struct{}, parallel)
	done := make(chan struct{})
	for i, f := range files {
		go func() {
			sem <- struct{}{}
			out[i] = RunFile(ctx, f, src, opt)
			<-sem
			done <- struct{}{}
		}()
	}
	for range files {
		<-done
	}
	return out
}
