// Package hardening declares what temper takes out of every image and what
// a definition may keep: the shells, the package manager, setuid and setgid
// bits, running as root and world-writable paths, and the definition's
// relaxations of them. The assembler applies these declarations
// (internal/assemble) and `temper test` checks a built image against the
// same ones (internal/testrun), so the two cannot drift apart.
//
// The package only declares and answers questions about single paths,
// modes and definitions; it does not walk trees, remove anything or run
// anything.
package hardening

import (
	"io/fs"

	"github.com/temper-dev/temper/internal/rootfs"
)

// shellNames are the shell programs an image without shell: true must not
// have, in the order reports name them.
var shellNames = []string{"sh", "bash", "dash", "rbash"}

// Shells are the absolute paths under which a shell is reachable: the
// merged-/usr path and the /bin path older scripts and /etc/passwd name,
// for each shell in turn.
func Shells() []string {
	out := make([]string, 0, 2*len(shellNames))
	for _, n := range shellNames {
		out = append(out, "/bin/"+n, "/usr/bin/"+n)
	}
	return out
}

// ShellFiles are the shells' files in a merged-/usr tree (image paths,
// without the leading slash): what pruning removes. /bin is a link to
// usr/bin there, so the /bin names need no files of their own.
func ShellFiles() []string {
	out := make([]string, 0, len(shellNames))
	for _, n := range shellNames {
		out = append(out, "usr/bin/"+n)
	}
	return out
}

// IsShell reports whether the absolute path p is one of Shells, e.g. a
// login shell field of /etc/passwd.
func IsShell(p string) bool {
	for _, s := range Shells() {
		if s == p {
			return true
		}
	}
	return false
}

// PackageManagerPaths are the dpkg and apt paths (image path globs, see
// internal/assemble's patterns) removed unless
// hardening.allow_package_manager.
var PackageManagerPaths = []string{
	"usr/bin/dpkg*", "usr/bin/apt*", "usr/sbin/dpkg*", "usr/lib/apt", "usr/lib/dpkg",
	"etc/apt", "var/lib/apt", "var/cache/apt", "var/log/apt",
}

// WritableDir is the one directory that stays world-writable (with its
// sticky bit): /tmp.
const WritableDir = "tmp"

// Setuid reports whether e is a file (not a directory) with the setuid or
// setgid bit, which the image must not have unless
// hardening.allow_setuid. Directories keep setgid: it only makes new
// files inherit the group.
func Setuid(e *rootfs.Entry) bool {
	return e.Kind != rootfs.Dir && e.Mode&(fs.ModeSetuid|fs.ModeSetgid) != 0
}

// WorldWritable reports whether e is writable by everyone where only
// WritableDir may be. There is no relaxation: image.writable directories
// are owned by the run user instead.
func WorldWritable(e *rootfs.Entry) bool {
	return e.Mode&0o002 != 0 && e.Path != WritableDir
}

// Root reports whether uid is root's: an image runs as root only with
// hardening.allow_root.
func Root(uid int) bool { return uid == 0 }
