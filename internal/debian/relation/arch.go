package relation

import "strings"

// Architecture matching follows dpkg's Dpkg::Arch: every Debian architecture
// maps to a tuple abi-libc-os-cpu, and a wildcard such as "linux-any" or
// "any-amd64" matches an architecture when every non-"any" part agrees.

// cpus is dpkg's cputable (Debian CPU names).
var cpus = map[string]bool{
	"i386": true, "ia64": true, "alpha": true, "amd64": true, "arc": true,
	"armeb": true, "arm": true, "arm64": true, "avr32": true, "hppa": true,
	"loong64": true, "m32r": true, "m68k": true, "microblaze": true,
	"mips": true, "mipsel": true, "mipsr6": true, "mipsr6el": true,
	"mips64": true, "mips64el": true, "mips64r6": true, "mips64r6el": true,
	"nios2": true, "or1k": true, "powerpc": true, "powerpcel": true,
	"ppc64": true, "ppc64el": true, "riscv64": true, "s390": true,
	"s390x": true, "sh3": true, "sh3eb": true, "sh4": true, "sh4eb": true,
	"sparc": true, "sparc64": true, "tilegx": true,
}

// specialArchs are the architectures of dpkg's tupletable whose tuple is not
// derived from an OS prefix and a CPU name.
var specialArchs = map[string][4]string{
	"musl-linux-armhf":   {"eabihf", "musl", "linux", "arm"},
	"arm64ilp32":         {"ilp32", "gnu", "linux", "arm64"},
	"armhf":              {"eabihf", "gnu", "linux", "arm"},
	"armel":              {"eabi", "gnu", "linux", "arm"},
	"mipsn32r6el":        {"abin32", "gnu", "linux", "mips64r6el"},
	"mipsn32r6":          {"abin32", "gnu", "linux", "mips64r6"},
	"mipsn32el":          {"abin32", "gnu", "linux", "mips64el"},
	"mipsn32":            {"abin32", "gnu", "linux", "mips64"},
	"mips64r6el":         {"abi64", "gnu", "linux", "mips64r6el"},
	"mips64r6":           {"abi64", "gnu", "linux", "mips64r6"},
	"mips64el":           {"abi64", "gnu", "linux", "mips64el"},
	"mips64":             {"abi64", "gnu", "linux", "mips64"},
	"powerpcspe":         {"spe", "gnu", "linux", "powerpc"},
	"x32":                {"x32", "gnu", "linux", "amd64"},
	"kfreebsd-armhf":     {"eabihf", "gnu", "kfreebsd", "arm"},
	"uclibc-linux-armel": {"eabi", "uclibc", "linux", "arm"},
	"mint-m68k":          {"base", "tos", "mint", "m68k"},
}

// osPrefixes maps an architecture name prefix to the abi, libc and os parts
// of its tuple; the rest of the name is the CPU.
var osPrefixes = []struct {
	prefix         string
	abi, libc, os_ string
}{
	{"uclibc-linux-", "base", "uclibc", "linux"},
	{"musl-linux-", "base", "musl", "linux"},
	{"kfreebsd-", "base", "gnu", "kfreebsd"},
	{"knetbsd-", "base", "gnu", "knetbsd"},
	{"kopensolaris-", "base", "gnu", "kopensolaris"},
	{"hurd-", "base", "gnu", "hurd"},
	{"dragonflybsd-", "base", "bsd", "dragonflybsd"},
	{"freebsd-", "base", "bsd", "freebsd"},
	{"openbsd-", "base", "bsd", "openbsd"},
	{"netbsd-", "base", "bsd", "netbsd"},
	{"darwin-", "base", "bsd", "darwin"},
	{"aix-", "base", "sysv", "aix"},
	{"solaris-", "base", "sysv", "solaris"},
}

// archTuple returns the abi-libc-os-cpu tuple of a concrete Debian
// architecture name.
func archTuple(arch string) ([4]string, bool) {
	if t, ok := specialArchs[arch]; ok {
		return t, true
	}
	if cpus[arch] {
		return [4]string{"base", "gnu", "linux", arch}, true
	}
	for _, p := range osPrefixes {
		if cpu, ok := strings.CutPrefix(arch, p.prefix); ok && cpus[cpu] {
			return [4]string{p.abi, p.libc, p.os_, cpu}, true
		}
	}
	return [4]string{}, false
}

// wildcardTuple returns the tuple of an architecture or wildcard name as
// Dpkg::Arch::debwildcard_to_debtuple does.
func wildcardTuple(alias string) ([4]string, bool) {
	parts := strings.SplitN(alias, "-", 4)
	hasAny := false
	for _, p := range parts {
		if p == "any" {
			hasAny = true
		}
	}
	if !hasAny {
		return archTuple(alias)
	}
	var t [4]string
	pad := 4 - len(parts)
	if len(parts) == 1 {
		pad = 4 // "any" alone
		parts = nil
	}
	for i := range pad {
		t[i] = "any"
	}
	copy(t[pad:], parts)
	return t, true
}

// ArchIs reports whether the concrete architecture arch is matched by alias,
// which is an architecture name or a wildcard such as "any", "linux-any",
// "any-amd64" or "gnu-any-any" (Dpkg::Arch::debarch_is).
func ArchIs(arch, alias string) bool {
	if alias == arch || alias == "any" {
		return true
	}
	real, ok := archTuple(arch)
	if !ok {
		return false
	}
	want, ok := wildcardTuple(alias)
	if !ok {
		return false
	}
	for i := range want {
		if want[i] != "any" && want[i] != real[i] {
			return false
		}
	}
	return true
}

// archConcerned evaluates an architecture restriction list for arch as
// Dpkg::Arch::debarch_is_concerned does: a positive entry that matches
// selects arch; a negated entry that matches rejects it; a list of only
// negated entries selects every architecture none of them matches.
func archConcerned(arch string, list []string) bool {
	arch = strings.ToLower(arch)
	seen := false
	for _, a := range list {
		a = strings.ToLower(a)
		if not, ok := strings.CutPrefix(a, "!"); ok {
			if ArchIs(arch, not) {
				return false
			}
			seen = true
		} else if ArchIs(arch, a) {
			return true
		}
	}
	return seen
}
