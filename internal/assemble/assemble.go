// Package assemble assembles an image's root filesystem from the .deb files
// of a lock, without running maintainer scripts. It unpacks every
// package's data.tar into an in-memory tree (internal/rootfs), lays it out
// as merged /usr, reproduces the few effects of maintainer scripts that
// images need (passwd/group, the CA bundle, update-alternatives links,
// the conffiles postinsts install with ucf, base-files' /run links and
// os-release, /var/lib/dpkg/status.d for
// scanners) and applies temper's hardening defaults: no shell, no package
// manager, no setuid/setgid bits, no docs/man/info/locales, nothing
// world-writable but /tmp. Each default a definition relaxes is reported.
//
// Decisions:
//   - Merged /usr: bin, sbin and lib are always symlinks to usr/bin,
//     usr/sbin and usr/lib; lib64, lib32 and libx32 become links to their
//     usr/ directory when anything is shipped under either. Files a package
//     ships under /bin, /sbin, /lib... land under /usr (the parent link is
//     resolved inside the image), as on a merged-/usr system. Trixie's
//     base-files ships the same links: they are accepted.
//   - var/tmp is a symlink to /tmp, so that /tmp is the only world-writable
//     directory and one tmpfs mount serves both with a read-only root.
//   - run/lock is 0755 (not 1777): nothing world-writable but /tmp.
//   - status.d files are named after the package (no ":arch" suffix), as
//     distroless writes them; an image holds one architecture.
//   - Setuid/setgid bits are stripped from non-directories; the setgid bit
//     of directories (group inheritance, e.g. /var/local) is kept.
//   - Removal rules (docs, shells, package manager, definition.remove)
//     apply to what packages ship; files temper generates are not removed.
//     definition.keep (globs, "dir/**" for a subtree) and the built-in
//     usr/share/doc/*/copyright exception override the docs rules and
//     definition.remove, not the shell and package-manager rules: those are
//     relaxed by shell: true and hardening.allow_package_manager. An
//     update-alternatives link at a removed path (a man page slave) is not
//     made.
//   - Report.Env holds only what assembly determines (PATH, SSL_CERT_FILE);
//     merging it with image.env is the image configuration's job.
//   - The result works with a read-only root filesystem: nothing here needs
//     to write outside /tmp and the definition's image.writable paths.
package assemble

import (
	"context"
	"fmt"
	"sort"

	"github.com/temper-dev/temper/internal/hardening"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// Deb is one locked package and its verified .deb bytes.
type Deb struct {
	Package spec.LockedPackage
	Data    []byte
}

// Input is everything a build reads.
type Input struct {
	Def     *spec.Definition
	Arch    string
	Debs    []Deb  // the lock's packages for Arch, any order
	Release string // bookworm, trixie, ...
	// AptArchive and AptSecurity are the mirror URLs apt's sources name
	// in a variant that keeps the package manager (dpkgdb.go); unused
	// otherwise.
	AptArchive, AptSecurity string
	// Packages, when set, serves the .debs read before by the builds
	// that share it (a catalog's) from memory, and keeps these; nil reads
	// every .deb.
	Packages *Packages
	// Context, when set, stops assembly when it is canceled (SIGINT or
	// SIGTERM): unpacking stops between reads, the maintainer-script
	// evaluator between steps, and Assemble returns the cause. Nil means
	// never canceled.
	Context context.Context
}

// Report says what Assemble did beyond unpacking.
type Report struct {
	Packages     int
	Removed      []string // paths removed by hardening/minimisation, summarised
	Relaxed      []string // hardening defaults the definition relaxed
	Alternatives []string // "usr/bin/java -> /usr/lib/jvm/.../bin/java (priority 1711)"
	Conffiles    []string // "etc/php/8.2/cli/php.ini from /usr/lib/php/8.2/php.ini-production.cli (php8.2-cli)"
	Users        []string // accounts temper added: "nonroot 65532:65532 /home/nonroot"
	Env          []string // environment the image should have (PATH, SSL_CERT_FILE)
	// Warnings are what the build should tell its user: device nodes and
	// fifos left out, maintainer scripts cut short by the evaluator's
	// budgets. Each names the package.
	Warnings []string
}

// DefaultPath is Debian's default PATH for the image environment.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// CABundle is where the CA bundle is written.
const CABundle = "etc/ssl/certs/ca-certificates.crt"

// Assemble builds the image tree for in.Arch from in.Debs.
func Assemble(in Input) (*rootfs.FS, *Report, error) {
	if in.Def == nil {
		return nil, nil, fmt.Errorf("build: no definition")
	}
	debs := append([]Deb(nil), in.Debs...)
	sort.SliceStable(debs, func(i, j int) bool { return debs[i].Package.Name < debs[j].Package.Name })
	for i := 1; i < len(debs); i++ {
		if debs[i].Package.Name == debs[i-1].Package.Name {
			return nil, nil, fmt.Errorf("build: package %s is in the lock twice (%s and %s)",
				debs[i].Package.Name, debs[i-1].Package.Version, debs[i].Package.Version)
		}
	}
	ctx := in.Context
	if ctx == nil {
		ctx = context.Background()
	}
	pkgs, err := readAll(ctx, debs, in.Arch, in.Packages)
	if err != nil {
		return nil, nil, err
	}
	b := &builder{in: in, fs: rootfs.New(), report: &Report{Packages: len(pkgs)}, pkgs: pkgs,
		byName: map[string]*pkg{}}
	for _, p := range pkgs {
		b.byName[p.name] = p
	}
	steps := []func() error{
		b.unpack,
		b.prune,
		b.fixHardlinks,
		b.alternatives,
		b.conffiles,
		b.baseFiles,
		b.accounts,
		b.files,
		b.caBundle,
		b.javaCacerts,
		b.status,
		b.packageManager,
		b.permissions,
		b.writable,
	}
	for _, step := range steps {
		if err := canceled(ctx); err != nil {
			return nil, nil, err
		}
		if err := step(); err != nil {
			return nil, nil, err
		}
	}
	if err := canceled(ctx); err != nil {
		return nil, nil, err
	}
	b.relaxed()
	b.report.Env = append([]string{"PATH=" + DefaultPath}, b.report.Env...)
	return b.fs, b.report, nil
}

// canceled is the error of a canceled ctx: assembly stopped, with its
// cause (the signal).
func canceled(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return fmt.Errorf("build: assembly stopped: %w", context.Cause(ctx))
}

type builder struct {
	in     Input
	fs     *rootfs.FS
	report *Report
	pkgs   []*pkg
	byName map[string]*pkg
	// hardlinks maps each hardlink's path to its target entry as unpacked,
	// so that a link whose target hardening removed becomes a file.
	hardlinks map[string]*rootfs.Entry
	// pruned reports whether the removal rules remove a path; alternative
	// links there are not made.
	pruned func(p string) bool
}

func (b *builder) has(name string) bool { return b.byName[name] != nil }

func (b *builder) relaxed() {
	b.report.Relaxed = append(b.report.Relaxed, hardening.Relaxed(b.in.Def)...)
}
