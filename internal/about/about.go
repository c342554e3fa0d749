// Package about says which temper this is: its version and the Go
// toolchain that built it. Other packages use it for User-Agent strings,
// provenance and `temper version`.
package about

import (
	"runtime"
	"runtime/debug"
)

// version is set at link time with -ldflags "-X .../about.version=v1.2.3".
// When it is not, the module version or VCS revision from the build info is used.
var version = ""

// Version returns temper's version: the linker-set version, else the main
// module's version, else "devel" with the VCS revision when known.
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}

// GoVersion returns the Go toolchain version temper was built with.
func GoVersion() string { return runtime.Version() }

// UserAgent is the HTTP User-Agent temper sends.
func UserAgent() string { return "temper/" + Version() }
