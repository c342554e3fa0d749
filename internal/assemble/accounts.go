package assemble

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

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
