package assemble

import (
	"fmt"
	"strings"

	"github.com/temper-dev/temper/internal/accounts"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

type account struct {
	name       string
	uid, gid   int
	home, sh   string
	createHome bool
}

// accounts writes /etc/passwd and /etc/group: base-passwd's masters (or
// root and nobody), nonroot and the definition's accounts, with their
// home directories.
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
		passwd = accounts.NoLoginShells(passwd)
	}
	if group == nil {
		group = []byte("root:x:0:\nnogroup:x:65534:\n")
	}
	users := accounts.Passwd(passwd)
	groups := accounts.Group(group)
	accts := []account{{name: spec.DefaultUser, uid: spec.NonrootUID, gid: spec.NonrootGID, home: "/home/nonroot", sh: accounts.Nologin, createHome: true}}
	for _, a := range b.in.Def.Image.Accounts {
		sh := a.Shell
		if sh == "" {
			sh = accounts.Nologin
		}
		accts = append(accts, account{name: a.Name, uid: a.UID, gid: a.GID, home: a.Home, sh: sh, createHome: true})
	}
	for _, a := range accts {
		if uid, ok := users.ID(a.name); ok {
			if uid != a.uid {
				return fmt.Errorf("build: account %s: uid %d, but /etc/passwd already has %s with uid %d", a.name, a.uid, a.name, uid)
			}
		} else {
			if n, ok := users.Name(a.uid); ok {
				return fmt.Errorf("build: account %s: uid %d already belongs to %s", a.name, a.uid, n)
			}
			passwd = accounts.AppendLine(passwd, fmt.Sprintf("%s:x:%d:%d::%s:%s", a.name, a.uid, a.gid, a.home, a.sh))
			users.Add(a.name, a.uid)
			b.report.Users = append(b.report.Users, fmt.Sprintf("%s %d:%d %s", a.name, a.uid, a.gid, a.home))
		}
		if _, ok := groups.Name(a.gid); !ok {
			if _, taken := groups.ID(a.name); !taken {
				group = accounts.AppendLine(group, fmt.Sprintf("%s:x:%d:", a.name, a.gid))
				groups.Add(a.name, a.gid)
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
	return nil
}

// runUser resolves image.user (default nonroot) to uid and gid by the
// image's /etc/passwd and /etc/group as written.
func (b *builder) runUser() (int, int, error) {
	u := b.in.Def.Image.User
	if u == "" {
		u = spec.DefaultUser
	}
	id, err := accounts.Resolve(u, b.data("etc/passwd"), b.data("etc/group"))
	if err != nil {
		return 0, 0, fmt.Errorf("build: image.user %w", err)
	}
	return id.UID, id.GID, nil
}

// data is the content of the file at p ("" when there is none).
func (b *builder) data(p string) []byte {
	if e, ok := b.fs.Get(p); ok && e.Kind == rootfs.File {
		return e.Data
	}
	return nil
}
