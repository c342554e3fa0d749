package testrun

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// Structure tests read the image's layers and configuration; they need no
// engine.

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
