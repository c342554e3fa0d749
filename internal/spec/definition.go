// Package spec is temper's contract with its users: the image definition
// (what an image contains and how it runs) and the lock (every package the
// definition resolved to, pinned). It loads both strictly from YAML,
// reporting every problem as file:line:column, validates them, and writes
// locks deterministically and atomically.
//
// docs/definition.md, docs/definition.schema.json and docs/lock.md describe
// the same formats for people and editors; tests keep them in step.
package spec

import (
	"path/filepath"
	"strings"
	"time"
)

// Defaults filled in by the loader when a definition leaves a field out.
const (
	DefaultUser           = "nonroot" // uid 65532, gid 65532
	NonrootUID            = 65532
	NonrootGID            = 65532
	DefaultComponent      = "main"
	DefaultServiceTimeout = 30 * time.Second
	DefaultHTTPStatus     = 200
)

// Definition is one image stream: a Debian release, the root packages, and
// how the image is assembled, run and tested.
type Definition struct {
	// Name is the image name, an OCI repository path component.
	Name string
	// Version is the stream (e.g. "3.11"); image tags derive from it.
	Version string
	// Debian is the release the stream is built from.
	Debian Debian
	// Architectures are Debian architecture names (amd64, arm64, ...).
	Architectures []string
	// Packages are the root packages, optionally pinned.
	Packages []Package
	// Recommends makes the resolver follow Recommends as well as Depends.
	Recommends bool
	// Providers chooses the package that provides a virtual package with
	// several providers: virtual name -> package name.
	Providers map[string]string
	// Exclude names packages that must never be in the closure.
	Exclude []string
	// NoDependencies names root packages whose own dependencies are not
	// followed: their files are taken as data (CA certificates, time
	// zones), as distroless builds its static image. A deliberate
	// divergence from apt, named in the definition.
	NoDependencies []string
	// Repositories are designated apt repositories beside Debian's suites
	// (third-party or in-house), each with its own pinned signing key and
	// apt pins (docs/repositories.md).
	Repositories []Repository
	// Files are files from the catalog written into the image (files:):
	// each src, relative to the definition, is read when the definition
	// is loaded and pinned by SHA-256 in the lock.
	Files []SourceFile
	// LocalDebs are .deb files of the catalog (local_debs:), resolved
	// with the rest as apt would with a local repository and pinned by
	// SHA-256 in the lock.
	LocalDebs []LocalDeb

	// Image is how the image runs (reserved: used by temper build).
	Image Image
	// Remove lists extra paths or globs removed from the image (reserved).
	Remove []string
	// Keep lists exceptions to the default removals (reserved).
	Keep []string
	// Shell keeps /bin/sh and the shell packages (reserved).
	Shell bool
	// Compression is how the image's layers are compressed: "" (the
	// configuration's choice, gzip by default), "gzip" or "zstd".
	Compression string
	// Hardening lists the explicit relaxations of the defaults (reserved).
	Hardening Hardening
	// Tests run against the built image (reserved: used by temper test).
	Tests []Test
	// Variants are images built beside this one from the same stream,
	// sorted by name (docs/variants.md); Variant is the variant's name in
	// a definition derived by ForVariant, "" in the runtime's.
	Variants []Variant
	Variant  string

	// File is the path the definition was read from ("" when parsed from
	// memory without a name).
	File string
	// SHA256 is the lowercase hex SHA-256 of the definition file's bytes.
	SHA256 string

	pos *positions
}

// Debian names the Debian release. Its -updates and -security suites are
// always read too.
type Debian struct {
	Release    string   // codename, e.g. bookworm
	Components []string // default [main]
}

// Repository is a designated apt repository: where it is, which suites
// and components to read, the key that signs it (a file beside the
// definition, its fingerprint pinned) and the apt pins that decide which of
// its packages win over Debian's.
type Repository struct {
	Name string
	// URL is apt's URI, http(s), without trailing slash.
	URL string
	// Suites are dists/<suite> names, or one flat directory ending in "/"
	// (apt's "deb URL ./").
	Suites []string
	// Components default to [main]; none for a flat repository.
	Components []string
	// Key is the public key file, relative to the definition's directory.
	Key string
	// Fingerprint is the key's full fingerprint, upper-case hex, no spaces.
	Fingerprint string
	// Pins give packages of this repository a Pin-Priority.
	Pins []RepositoryPin
	// DefaultPriority is the Pin-Priority of everything else the
	// repository offers; 0 when not set (apt's default, 500).
	DefaultPriority int
	// EndOfSupport is the last day (YYYY-MM-DD) the repository supports
	// what the stream takes from it (end_of_support:); "" when not set.
	// Past it temper check reports the stream frozen, as past the Debian
	// release's end of life.
	EndOfSupport string
}

// RepositoryPin is one apt pin limited to its repository's packages.
type RepositoryPin struct {
	// Packages are names, globs ("php8.3*") or /regular expressions/.
	Packages []string
	// Priority is apt's Pin-Priority (non-zero; below 0 never installs).
	Priority int
}

// Flat reports whether the repository is a flat one (one suite ending in "/").
func (r Repository) Flat() bool { return len(r.Suites) == 1 && strings.HasSuffix(r.Suites[0], "/") }

// KeyPath is the key file's path: Key relative to the definition's directory.
func (d *Definition) KeyPath(r Repository) string {
	if filepath.IsAbs(r.Key) {
		return r.Key
	}
	return filepath.Join(filepath.Dir(d.File), filepath.FromSlash(r.Key))
}

// Package is a root package: a name, and optionally an exact version.
type Package struct {
	Name    string
	Version string // "" when not pinned
}

// String gives the package as written in a definition: name or name=version.
func (p Package) String() string {
	if p.Version == "" {
		return p.Name
	}
	return p.Name + "=" + p.Version
}

// Image is the runtime configuration of the image.
type Image struct {
	// User the image runs as: a user name or "uid:gid". Default "nonroot".
	User string
	// Accounts are extra users (with a group each) added to /etc/passwd and
	// /etc/group; no maintainer script runs, so services need them here.
	Accounts []Account
	// Entrypoint and Cmd are the OCI config's; nil when not set.
	Entrypoint []string
	Cmd        []string
	// Env is added to the image environment.
	Env map[string]string
	// Workdir is the working directory, an absolute path ("" = /).
	Workdir string
	// Annotations are OCI annotations added to the image manifest.
	Annotations map[string]string
	// Ports are exposed ports, "8080/tcp" or "53/udp".
	Ports []string
	// Writable are directories created owned by the run user, for data
	// that must be writable with a read-only root filesystem.
	Writable []string
	// Files are written into the image after the packages are unpacked,
	// replacing a package's file at the same path: configuration that no
	// maintainer script or shell will write at run time.
	Files []File
}

// File is one file a definition writes into the image.
type File struct {
	Path    string // absolute, clean
	Content string
	Mode    string // octal, default "0644"
	Owner   string // numeric "uid:gid", default "0:0"
}

// Account is a system user with a group of the same name.
type Account struct {
	Name  string
	UID   int
	GID   int
	Home  string
	Shell string // "" means /usr/sbin/nologin
}

// Hardening lists relaxations of temper's defaults. Each is false unless
// the definition says otherwise, and the image records what it relaxed.
type Hardening struct {
	AllowRoot           bool // the image may run as uid 0
	AllowSetuid         bool // setuid/setgid bits are kept
	AllowPackageManager bool // dpkg/apt binaries are kept
}

// Test is one check of the built image. Exactly one of Path, Config,
// Command and Service is set.
type Test struct {
	Name    string
	Path    *PathTest
	Config  *ConfigTest
	Command *CommandTest
	Service *ServiceTest
}

// Kind names the kind of test: "path", "config", "command" or "service".
func (t Test) Kind() string {
	switch {
	case t.Path != nil:
		return "path"
	case t.Config != nil:
		return "config"
	case t.Command != nil:
		return "command"
	case t.Service != nil:
		return "service"
	}
	return ""
}

// PathTest checks a file in the image.
type PathTest struct {
	Path   string
	Exists bool   // default true; false checks the path is absent
	Mode   string // "" or octal permission bits, e.g. "0755"
	Owner  string // "" or "uid:gid"
}

// ConfigTest checks the image configuration. Nil/empty fields are not
// checked.
type ConfigTest struct {
	User       string
	Entrypoint []string
	Env        map[string]string // each listed variable must have this value
}

// CommandTest runs the image with Args and checks the outcome.
type CommandTest struct {
	Args   []string
	Exit   int
	Stdout *Match
	Stderr *Match
}

// Match checks output: exactly one of Contains and Regex is set.
type Match struct {
	Contains string
	Regex    string
}

// ServiceTest starts the image as a service and probes it.
type ServiceTest struct {
	Port        int
	WaitCommand []string // run in the container until it succeeds, before the probe
	Probe       Probe
	Timeout     time.Duration // default 30s
}

// Probe is exactly one of a command (Args, must exit 0) or an HTTP request.
type Probe struct {
	Args []string
	HTTP *HTTPProbe
}

// HTTPProbe requests Path on the service port and expects Status.
type HTTPProbe struct {
	Path   string
	Status int // default 200
}

// Suites returns the suites the definition reads, in order: the release,
// its -updates and its -security suites.
func (d *Definition) Suites() []string {
	r := d.Debian.Release
	return []string{r, r + "-updates", r + "-security"}
}

// LockPath is where the definition's lock is written.
func (d *Definition) LockPath() string {
	if d.Variant != "" {
		return VariantLockPath(d.File, d.Variant)
	}
	return LockPath(d.File)
}

// LockDefinition is the lock's record of this definition: the file's base
// name (the lock sits beside it) and its digest.
func (d *Definition) LockDefinition() LockDefinition {
	return LockDefinition{File: filepath.Base(d.File), SHA256: d.SHA256}
}
