package assemble

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// exists reports whether p (absolute or relative to the root) names an
// entry in the image, following symlinks.
func (b *builder) exists(p string) (*rootfs.Entry, bool) {
	r, err := b.fs.Resolve(p, true)
	if err != nil {
		return nil, false
	}
	e, ok := b.fs.Get(r)
	return e, ok
}

// putFile writes a root-owned file temper generates, resolving its parent
// directory inside the image.
func (b *builder) putFile(p string, mode fs.FileMode, data []byte) error {
	return b.putEntry(&rootfs.Entry{Path: p, Kind: rootfs.File, Mode: mode, Data: data})
}

func (b *builder) putEntry(e *rootfs.Entry) error {
	dir, base := path.Split(e.Path)
	rdir, err := b.fs.Resolve(dir, true)
	if err != nil {
		return fmt.Errorf("build: /%s: %w", e.Path, err)
	}
	if rdir != "" {
		base = rdir + "/" + base
	}
	e.Path = base
	if err := b.fs.Put(e); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	return nil
}

// postinstEnv is what a package's postinst sees on a fresh install:
// "configure" with no previous version, dpkg's variables, and the image
// for its file tests.
func (b *builder) postinstEnv(p *pkg) shellEnv {
	return shellEnv{
		test: b.shellTest,
		vars: map[string]string{
			"DPKG_MAINTSCRIPT_PACKAGE": p.name,
			"DPKG_MAINTSCRIPT_ARCH":    p.arch,
			"DPKG_MAINTSCRIPT_NAME":    "postinst",
			"DPKG_ROOT":                "",
		},
		args: []string{"configure", ""},
	}
}

// ---- update-alternatives ----

func (b *builder) alternatives() error {
	type cand struct {
		altInstall
		pkg string
	}
	best := map[string]cand{}
	var names []string
	for _, p := range b.pkgs {
		script, ok := p.control["postinst"]
		if !ok || !bytes.Contains(script, []byte("update-alternatives")) {
			continue
		}
		for _, in := range alternativesFromScript(string(script), b.postinstEnv(p)) {
			if !strings.HasPrefix(in.Link, "/") || !strings.HasPrefix(in.Path, "/") {
				continue
			}
			if _, ok := b.exists(in.Path); !ok {
				continue
			}
			old, seen := best[in.Name]
			if !seen {
				names = append(names, in.Name)
			}
			if !seen || in.Priority > old.Priority {
				best[in.Name] = cand{in, p.name}
			}
		}
	}
	sort.Strings(names)
	for _, name := range names {
		c := best[name]
		if b.link(c.Link, c.Path) {
			b.report.Alternatives = append(b.report.Alternatives,
				fmt.Sprintf("%s -> %s (priority %d, %s)", strings.TrimPrefix(c.Link, "/"), c.Path, c.Priority, c.pkg))
		}
		for _, s := range c.Slaves {
			if _, ok := b.exists(s.Path); !ok || !strings.HasPrefix(s.Link, "/") {
				continue
			}
			if b.link(s.Link, s.Path) {
				b.report.Alternatives = append(b.report.Alternatives,
					fmt.Sprintf("%s -> %s (slave of %s)", strings.TrimPrefix(s.Link, "/"), s.Path, name))
			}
		}
	}
	return nil
}

// ---- ucf conffiles ----

// conffiles installs the configuration files postinsts hand to ucf (php's
// php.ini from php.ini-production, its mods-available/*.ini): on a fresh
// install ucf copies the package's pristine file to the conffile path,
// and so does temper. A file already there (shipped by a package) is
// kept; image.files, applied later, can replace any of them.
func (b *builder) conffiles() error {
	for _, p := range b.pkgs {
		script, ok := p.control["postinst"]
		if !ok || !bytes.Contains(script, []byte("ucf")) {
			continue
		}
		for _, in := range ucfFromScript(string(script), b.postinstEnv(p)) {
			src, ok := b.exists(in.New)
			if !ok || src.Kind != rootfs.File {
				continue // a temporary file the script generated, or pruned
			}
			if _, ok := b.exists(in.Dest); ok {
				continue
			}
			dest, err := rootfs.Clean(in.Dest)
			if err != nil || dest == "" || b.pruned != nil && b.pruned(dest) {
				continue
			}
			if err := b.putFile(dest, 0o644, src.Data); err != nil {
				return err
			}
			b.report.Conffiles = append(b.report.Conffiles, fmt.Sprintf("%s from %s (%s)", dest, in.New, p.name))
		}
	}
	return nil
}

// link creates the alternative link -> target, as update-alternatives
// would, without the /etc/alternatives indirection. Like it, it does not
// replace a file a package ships.
func (b *builder) link(link, target string) bool {
	l, err := rootfs.Clean(link)
	if err != nil || l == "" {
		return false
	}
	dir, base := path.Split(l)
	rdir, err := b.fs.Resolve(dir, true)
	if err != nil {
		return false
	}
	if rdir != "" {
		base = rdir + "/" + base
	}
	if old, ok := b.fs.Get(base); ok && old.Kind != rootfs.Symlink {
		return false
	}
	if b.pruned != nil && b.pruned(base) {
		return false
	}
	return b.fs.Put(&rootfs.Entry{Path: base, Kind: rootfs.Symlink, Mode: 0o777, Target: target}) == nil
}

// shellTest answers [ -e path ] and friends from the image.
func (b *builder) shellTest(op, p string) bool {
	if !strings.HasPrefix(p, "/") {
		return true // relative to an unknown working directory
	}
	if op == "-L" || op == "-h" {
		r, err := b.fs.Resolve(p, false)
		if err != nil {
			return false
		}
		e, ok := b.fs.Get(r)
		return ok && e.Kind == rootfs.Symlink
	}
	e, ok := b.exists(p)
	if !ok {
		return false
	}
	switch op {
	case "-f":
		return e.Kind == rootfs.File || e.Kind == rootfs.Hardlink
	case "-d":
		return e.Kind == rootfs.Dir
	case "-x":
		return e.Mode&0o111 != 0
	case "-s":
		return e.Kind != rootfs.File || len(e.Data) > 0
	}
	return true
}

// ---- base-files ----

var releaseVersions = map[string]string{
	"buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14", "duke": "15",
}

func (b *builder) baseFiles() error {
	// /run, /run/lock and the /var links base-files' postinst makes.
	for _, d := range []struct {
		p    string
		mode fs.FileMode
	}{{"run", 0o755}, {"run/lock", 0o755}, {"tmp", 0o777 | fs.ModeSticky}, {"var", 0o755}, {"root", 0o700}} {
		if err := b.dir(d.p, d.mode, 0, 0); err != nil {
			return err
		}
	}
	for _, l := range []struct{ p, target string }{{"var/run", "/run"}, {"var/lock", "/run/lock"}, {"var/tmp", "/tmp"}} {
		if e, ok := b.fs.Get(l.p); ok {
			if e.Kind == rootfs.Symlink {
				continue
			}
			if e.Kind == rootfs.Dir && b.empty(l.p) {
				b.fs.Remove(l.p)
			} else {
				continue // a package put something there: leave it
			}
		}
		if err := b.fs.Put(&rootfs.Entry{Path: l.p, Kind: rootfs.Symlink, Mode: 0o777, Target: l.target}); err != nil {
			return fmt.Errorf("build: /%s: %w", l.p, err)
		}
	}
	if !b.has("base-files") {
		if _, ok := b.exists("usr/lib/os-release"); !ok {
			if err := b.putFile("usr/lib/os-release", 0o644, osRelease(b.in.Release)); err != nil {
				return err
			}
		}
		if _, ok := b.fs.Get("etc/os-release"); !ok {
			if err := b.putEntry(&rootfs.Entry{Path: "etc/os-release", Kind: rootfs.Symlink, Mode: 0o777, Target: "../usr/lib/os-release"}); err != nil {
				return err
			}
		}
	}
	// nsswitch.conf: base-files' postinst installs its default copy.
	if _, ok := b.exists("etc/nsswitch.conf"); !ok {
		data := []byte(defaultNsswitch)
		if e, ok := b.exists("usr/share/base-files/nsswitch.conf"); ok && e.Kind == rootfs.File {
			data = e.Data
		}
		if err := b.putFile("etc/nsswitch.conf", 0o644, data); err != nil {
			return err
		}
	}
	if w := b.in.Def.Image.Workdir; w != "" {
		if _, ok := b.exists(w); !ok {
			if err := b.dir(strings.TrimPrefix(w, "/"), 0o755, 0, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

const defaultNsswitch = `passwd:         files
group:          files
shadow:         files
gshadow:        files

hosts:          files dns
networks:       files

protocols:      files
services:       files
ethers:         files
rpc:            files
`

func osRelease(release string) []byte {
	var buf bytes.Buffer
	v := releaseVersions[release]
	if v != "" {
		fmt.Fprintf(&buf, "PRETTY_NAME=\"Debian GNU/Linux %s (%s)\"\n", v, release)
	} else {
		fmt.Fprintf(&buf, "PRETTY_NAME=\"Debian GNU/Linux %s\"\n", release)
	}
	buf.WriteString("NAME=\"Debian GNU/Linux\"\n")
	if v != "" {
		fmt.Fprintf(&buf, "VERSION_ID=\"%s\"\nVERSION=\"%s (%s)\"\n", v, v, release)
	}
	fmt.Fprintf(&buf, "VERSION_CODENAME=%s\nID=debian\n", release)
	return buf.Bytes()
}

func (b *builder) empty(dir string) bool {
	prefix := dir + "/"
	for _, p := range b.fs.Paths() {
		if strings.HasPrefix(p, prefix) {
			return false
		}
	}
	return true
}

// dir makes sure p is a directory, creating it (and root-owned parents)
// with the given mode and owner; an existing directory gets them too.
func (b *builder) dir(p string, mode fs.FileMode, uid, gid int) error {
	r, err := b.fs.Resolve(p, true)
	if err != nil {
		return fmt.Errorf("build: /%s: %w", p, err)
	}
	if e, ok := b.fs.Get(r); ok {
		if e.Kind != rootfs.Dir {
			return fmt.Errorf("build: /%s: is a %s, not a directory", p, e.Kind)
		}
		e.Mode, e.UID, e.GID = mode, uid, gid
		return nil
	}
	return b.putEntry(&rootfs.Entry{Path: r, Kind: rootfs.Dir, Mode: mode, UID: uid, GID: gid})
}

// ---- passwd and group ----

type account struct {
	name       string
	uid, gid   int
	home, sh   string
	createHome bool
}

// noLoginShells points accounts whose login shell the image does not have
// (base-passwd gives root /bin/bash) at /usr/sbin/nologin, as distroless
// does: an image without a shell should not claim one.
func noLoginShells(passwd []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(passwd, []byte("\n")) {
		f := bytes.Split(bytes.TrimRight(line, "\n"), []byte(":"))
		if len(f) == 7 {
			switch string(f[6]) {
			case "/bin/sh", "/bin/bash", "/bin/dash", "/usr/bin/sh", "/usr/bin/bash", "/usr/bin/dash", "/bin/rbash":
				f[6] = []byte("/usr/sbin/nologin")
				line = append(bytes.Join(f, []byte(":")), '\n')
			}
		}
		out = append(out, line...)
	}
	return out
}

func (b *builder) accounts() error {
	var passwd, group []byte
	if b.has("base-passwd") {
		if e, ok := b.exists("usr/share/base-passwd/passwd.master"); ok && e.Kind == rootfs.File {
			passwd = append([]byte(nil), e.Data...)
		}
		if e, ok := b.exists("usr/share/base-passwd/group.master"); ok && e.Kind == rootfs.File {
			group = append([]byte(nil), e.Data...)
		}
	}
	if passwd == nil {
		passwd = []byte("root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
	}
	if !b.in.Def.Shell {
		passwd = noLoginShells(passwd)
	}
	if group == nil {
		group = []byte("root:x:0:\nnogroup:x:65534:\n")
	}
	users := parseIDs(passwd, 2)
	groups := parseIDs(group, 2)
	accts := []account{{name: spec.DefaultUser, uid: spec.NonrootUID, gid: spec.NonrootGID, home: "/home/nonroot", sh: "/usr/sbin/nologin", createHome: true}}
	for _, a := range b.in.Def.Image.Accounts {
		sh := a.Shell
		if sh == "" {
			sh = "/usr/sbin/nologin"
		}
		accts = append(accts, account{name: a.Name, uid: a.UID, gid: a.GID, home: a.Home, sh: sh, createHome: true})
	}
	for _, a := range accts {
		if uid, ok := users.byName[a.name]; ok {
			if uid != a.uid {
				return fmt.Errorf("build: account %s: uid %d, but /etc/passwd already has %s with uid %d", a.name, a.uid, a.name, uid)
			}
		} else {
			if n, ok := users.byID[a.uid]; ok {
				return fmt.Errorf("build: account %s: uid %d already belongs to %s", a.name, a.uid, n)
			}
			passwd = appendLine(passwd, fmt.Sprintf("%s:x:%d:%d::%s:%s", a.name, a.uid, a.gid, a.home, a.sh))
			users.add(a.name, a.uid)
			b.report.Users = append(b.report.Users, fmt.Sprintf("%s %d:%d %s", a.name, a.uid, a.gid, a.home))
		}
		if _, ok := groups.byID[a.gid]; !ok {
			if _, taken := groups.byName[a.name]; !taken {
				group = appendLine(group, fmt.Sprintf("%s:x:%d:", a.name, a.gid))
				groups.add(a.name, a.gid)
			}
		}
		if a.createHome && a.home != "" && a.home != "/nonexistent" && a.home != "/" {
			if err := b.dir(strings.TrimPrefix(a.home, "/"), 0o700, a.uid, a.gid); err != nil {
				return err
			}
		}
	}
	if err := b.putFile("etc/passwd", 0o644, passwd); err != nil {
		return err
	}
	if err := b.putFile("etc/group", 0o644, group); err != nil {
		return err
	}
	b.users = users
	b.groups = groups
	return nil
}

type idTable struct {
	byName map[string]int
	byID   map[int]string
}

func (t *idTable) add(name string, id int) {
	t.byName[name] = id
	if _, ok := t.byID[id]; !ok {
		t.byID[id] = name
	}
}

// parseIDs reads name:x:id lines of passwd or group (field is the id's index).
func parseIDs(data []byte, field int) *idTable {
	t := &idTable{byName: map[string]int{}, byID: map[int]string{}}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) <= field || f[0] == "" {
			continue
		}
		if id, err := strconv.Atoi(f[field]); err == nil {
			t.add(f[0], id)
		}
	}
	return t
}

func appendLine(data []byte, line string) []byte {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	return append(append(data, line...), '\n')
}

// runUser resolves image.user to uid and gid.
func (b *builder) runUser() (int, int, error) {
	u := b.in.Def.Image.User
	if u == "" {
		u = spec.DefaultUser
	}
	if us, gs, ok := strings.Cut(u, ":"); ok {
		uid, err1 := strconv.Atoi(us)
		gid, err2 := strconv.Atoi(gs)
		if err1 != nil || err2 != nil {
			return 0, 0, fmt.Errorf("build: image.user %q: not uid:gid", u)
		}
		return uid, gid, nil
	}
	uid, ok := b.users.byName[u]
	if !ok {
		return 0, 0, fmt.Errorf("build: image.user %q is not in /etc/passwd", u)
	}
	e, _ := b.exists("etc/passwd")
	for _, line := range strings.Split(string(e.Data), "\n") {
		if f := strings.Split(line, ":"); len(f) > 3 && f[0] == u {
			if gid, err := strconv.Atoi(f[3]); err == nil {
				return uid, gid, nil
			}
		}
	}
	return uid, uid, nil
}

// ---- CA certificates ----

// caCert is one CA certificate file ca-certificates ships.
type caCert struct {
	path  string // usr/share/ca-certificates/...crt
	entry *rootfs.Entry
}

// caCertFiles lists every *.crt under usr/share/ca-certificates, sorted by
// path: what update-ca-certificates enables by default.
func (b *builder) caCertFiles() []caCert {
	var out []caCert
	for _, p := range b.fs.Paths() {
		if !strings.HasPrefix(p, "usr/share/ca-certificates/") || !strings.HasSuffix(p, ".crt") {
			continue
		}
		e, _ := b.fs.Get(p)
		if e.Kind == rootfs.Hardlink {
			e, _ = b.fs.Get(e.Target)
		}
		if e == nil || e.Kind != rootfs.File {
			continue
		}
		out = append(out, caCert{path: p, entry: e})
	}
	return out
}

func (b *builder) caBundle() error {
	if !b.has("ca-certificates") {
		return nil
	}
	var buf bytes.Buffer
	n := 0
	for _, c := range b.caCertFiles() {
		e := c.entry
		buf.Write(e.Data)
		if len(e.Data) > 0 && e.Data[len(e.Data)-1] != '\n' {
			buf.WriteByte('\n')
		}
		n++
	}
	if n == 0 {
		return nil
	}
	if err := b.putFile(CABundle, 0o644, buf.Bytes()); err != nil {
		return err
	}
	b.report.Env = append(b.report.Env, "SSL_CERT_FILE=/"+CABundle)
	return nil
}

// ---- dpkg status.d ----

const statusDir = "var/lib/dpkg/status.d"

func (b *builder) status() error {
	if err := b.dir(statusDir, 0o755, 0, 0); err != nil {
		return err
	}
	for _, p := range b.pkgs {
		ctrl := bytes.TrimRight(p.control["control"], "\n")
		var out bytes.Buffer
		lines := bytes.SplitAfter(ctrl, []byte("\n"))
		done := false
		for _, l := range lines {
			out.Write(l)
			if !done && bytes.HasPrefix(l, []byte("Package:")) {
				if !bytes.HasSuffix(l, []byte("\n")) {
					out.WriteByte('\n')
				}
				out.WriteString("Status: install ok installed\n")
				done = true
			}
		}
		if !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteByte('\n')
		}
		if err := b.putFile(statusDir+"/"+p.name, 0o644, out.Bytes()); err != nil {
			return err
		}
		if md5, ok := p.control["md5sums"]; ok {
			if err := b.putFile(statusDir+"/"+p.name+".md5sums", 0o644, md5); err != nil {
				return err
			}
		}
	}
	return nil
}

// ---- permissions ----

func (b *builder) permissions() error {
	var setuid []string
	for _, p := range b.fs.Paths() {
		e, _ := b.fs.Get(p)
		if e.Kind == rootfs.Symlink {
			continue
		}
		if !b.in.Def.Hardening.AllowSetuid && e.Kind != rootfs.Dir && e.Mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			e.Mode &^= fs.ModeSetuid | fs.ModeSetgid
			setuid = append(setuid, p)
		}
		if e.Mode&0o002 != 0 && p != "tmp" {
			e.Mode &^= 0o002
			if e.Kind == rootfs.Dir {
				e.Mode &^= fs.ModeSticky
			}
		}
	}
	if len(setuid) > 0 {
		b.report.Removed = append(b.report.Removed, fmt.Sprintf("setuid/setgid bits (%d %s: %s)",
			len(setuid), plural(len(setuid), "file"), strings.Join(setuid, ", ")))
	}
	return nil
}

// ---- image.writable ----

func (b *builder) writable() error {
	uid, gid, err := b.runUser()
	if err != nil {
		return err
	}
	if uid == 0 && !b.in.Def.Hardening.AllowRoot {
		return fmt.Errorf("build: image.user %q runs as root; set hardening.allow_root: true to allow it", b.in.Def.Image.User)
	}
	for _, w := range b.in.Def.Image.Writable {
		p, err := rootfs.Clean(w)
		if err != nil || p == "" {
			return fmt.Errorf("build: image.writable %q: not a directory in the image", w)
		}
		if err := b.dir(p, 0o755, uid, gid); err != nil {
			return err
		}
	}
	return nil
}
