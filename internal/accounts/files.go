package accounts

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/temper-dev/temper/internal/hardening"
)

// Nologin is the login shell of accounts that cannot log in.
const Nologin = "/usr/sbin/nologin"

// Table is a passwd or group file reduced to names and ids.
type Table struct {
	byName map[string]int
	byID   map[int]string
}

// Passwd reads the name:x:uid lines of /etc/passwd.
func Passwd(data []byte) *Table { return parseIDs(data, 2) }

// Group reads the name:x:gid lines of /etc/group.
func Group(data []byte) *Table { return parseIDs(data, 2) }

// parseIDs reads name:x:id lines (field is the id's index); lines without
// a numeric id are left out.
func parseIDs(data []byte, field int) *Table {
	t := &Table{byName: map[string]int{}, byID: map[int]string{}}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) <= field || f[0] == "" {
			continue
		}
		if id, err := strconv.Atoi(f[field]); err == nil {
			t.Add(f[0], id)
		}
	}
	return t
}

// Add records name with id. A later name with the same id does not take
// the id's name: the first line of a file owns it, as for getpwuid(3).
func (t *Table) Add(name string, id int) {
	t.byName[name] = id
	if _, ok := t.byID[id]; !ok {
		t.byID[id] = name
	}
}

// ID returns name's id.
func (t *Table) ID(name string) (int, bool) {
	id, ok := t.byName[name]
	return id, ok
}

// Name returns the name that owns id.
func (t *Table) Name(id int) (string, bool) {
	n, ok := t.byID[id]
	return n, ok
}

// AppendLine adds a line to a passwd or group file, ending the last line
// first if it lacks its newline.
func AppendLine(data []byte, line string) []byte {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	return append(append(data, line...), '\n')
}

// NoLoginShells points accounts whose login shell is one of the shells
// hardening removes (base-passwd gives root /bin/bash) at Nologin, as
// distroless does: an image without a shell should not claim one. Other
// lines, malformed ones included, are kept as they are.
func NoLoginShells(passwd []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(passwd, []byte("\n")) {
		f := bytes.Split(bytes.TrimRight(line, "\n"), []byte(":"))
		if len(f) == 7 && hardening.IsShell(string(f[6])) {
			f[6] = []byte(Nologin)
			line = append(bytes.Join(f, []byte(":")), '\n')
		}
		out = append(out, line...)
	}
	return out
}
