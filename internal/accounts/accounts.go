// Package accounts reads and writes an image's /etc/passwd and /etc/group
// and answers the one question every stage asks about them: which uid and
// gid does the definition's image.user (or an image config's User) mean?
// The assembler asks it to own image.writable directories, the build to
// write the image config, and `temper test` to run and compare users.
//
// It works on the files' bytes only: it does not know where they come
// from (base-passwd, temper's defaults, the definition) and does not
// decide which accounts an image gets.
package accounts

import (
	"fmt"
	"strconv"
	"strings"
)

// ID is a user's uid and primary gid.
type ID struct {
	UID, GID int
	// text is uid:gid as the source wrote it (the definition's "uid:gid",
	// or the fields of /etc/passwd), so that the image config records the
	// very digits the source gave.
	text string
}

// String is uid:gid as written where the numbers were read.
func (id ID) String() string {
	if id.text == "" {
		return fmt.Sprintf("%d:%d", id.UID, id.GID)
	}
	return id.text
}

// Resolve answers which uid and gid user means in an image whose
// /etc/passwd and /etc/group hold passwd and group. One rule for every
// caller:
//
//   - "uid:gid" (two numbers): those numbers, as written;
//   - "uid" (a number): uid and a group of the same number;
//   - "name": the uid and primary gid of name's line in /etc/passwd;
//   - "user:group" with a name on either side: each name looked up, the
//     user in /etc/passwd and the group in /etc/group.
//
// An empty user or a name the files lack is an error that names the user
// and the file. Resolve does not default "" to anyone: the definition's
// default (nonroot) and the runtime's (root) are the callers' to apply.
func Resolve(user string, passwd, group []byte) (ID, error) {
	if user == "" {
		return ID{}, fmt.Errorf("%q: no user", user)
	}
	us, gs, pair := strings.Cut(user, ":")
	if !pair {
		if n, ok := number(us); ok {
			return ID{UID: n, GID: n, text: us + ":" + us}, nil
		}
		uid, gid, ok := lookup(passwd, us, 2, 3)
		if !ok {
			return ID{}, fmt.Errorf("%q is not in /etc/passwd", us)
		}
		return parse(user, uid, gid)
	}
	uid, gid := us, gs
	if _, ok := number(us); !ok {
		var found bool
		if uid, _, found = lookup(passwd, us, 2, 3); !found {
			return ID{}, fmt.Errorf("%q: user %q is not in /etc/passwd", user, us)
		}
	}
	if _, ok := number(gs); !ok {
		var found bool
		if gid, _, found = lookup(group, gs, 2, 2); !found {
			return ID{}, fmt.Errorf("%q: group %q is not in /etc/group", user, gs)
		}
	}
	return parse(user, uid, gid)
}

// parse makes an ID of the uid and gid texts found for user.
func parse(user, uid, gid string) (ID, error) {
	u, ok1 := number(uid)
	g, ok2 := number(gid)
	if !ok1 || !ok2 {
		return ID{}, fmt.Errorf("%q: %q is not a numeric uid:gid", user, uid+":"+gid)
	}
	return ID{UID: u, GID: g, text: uid + ":" + gid}, nil
}

// number parses a uid or gid: decimal digits only (no sign, no spaces).
func number(s string) (int, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// lookup returns fields a and b of the first line of a passwd or group
// file whose name (field 0) is name.
func lookup(data []byte, name string, a, b int) (string, string, bool) {
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Split(line, ":"); len(f) > max(a, b) && f[0] == name {
			return f[a], f[b], true
		}
	}
	return "", "", false
}
