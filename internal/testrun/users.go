package testrun

import (
	"fmt"
	"strings"

	"github.com/temper-dev/temper/internal/accounts"
	"github.com/temper-dev/temper/internal/spec"
)

// user resolves u by the image's own /etc/passwd and /etc/group, with the
// rule the build used to write the image config (internal/accounts).
func (t *tree) user(u string) (accounts.ID, error) {
	return accounts.Resolve(u, t.data("etc/passwd"), t.data("etc/group"))
}

// runUser is the user the engine runs the image as: the config's, as
// numbers where the image's files resolve it (docker's tmpfs options need
// them); root when the config names none, as a runtime would.
func runUser(tr *tree) string {
	if tr.config.User == "" {
		return "0:0"
	}
	if id, err := tr.user(tr.config.User); err == nil {
		return id.String()
	}
	return tr.config.User
}

// runsAsRoot reports whether the image's config runs it as root. A user
// the image's files do not resolve is root only by that name.
func runsAsRoot(tr *tree) bool {
	u := tr.config.User
	if u == "" {
		return true
	}
	if id, err := tr.user(u); err == nil {
		return id.UID == 0
	}
	name, _, _ := strings.Cut(u, ":")
	return name == "root"
}

// sameUser compares users as the runtime would: both resolved to
// uid:gid by the image's files; nonroot is 65532:65532 even in an image
// without it, and a user the files do not resolve compares as written.
func sameUser(tr *tree, want, got string) bool {
	if want == got {
		return true
	}
	return tr.uidGID(want) == tr.uidGID(got)
}

func (t *tree) uidGID(u string) string {
	if id, err := t.user(u); err == nil {
		return fmt.Sprintf("%d:%d", id.UID, id.GID)
	}
	if u == spec.DefaultUser {
		return fmt.Sprintf("%d:%d", spec.NonrootUID, spec.NonrootGID)
	}
	return u
}
