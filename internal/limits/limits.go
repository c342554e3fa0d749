// Package limits holds the ceilings temper enforces on everything that
// comes from outside (archives, mirrors, locks, maintainer scripts), with
// their defaults and their one override: environment variables read once
// per process (TEMPER_LIMIT_*). Readers enforce them while they read,
// never by allocating what a header or an index claims.
//
// Sizes accept a plain byte count or a number with a binary suffix
// (K, M, G, T, with or without "iB"): TEMPER_LIMIT_DEB=4GiB.
package limits

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits are the ceilings. A zero field means the default.
type Limits struct {
	// Deb bounds one .deb as downloaded (compressed). TEMPER_LIMIT_DEB.
	Deb int64
	// Member bounds one file inside a .deb's data.tar, uncompressed.
	// TEMPER_LIMIT_MEMBER.
	Member int64
	// Image bounds the unpacked files of one image (one architecture).
	// TEMPER_LIMIT_IMAGE.
	Image int64
	// Ratio bounds unpacked bytes per compressed byte, for one .deb and
	// for one image (a decompression bomb). TEMPER_LIMIT_RATIO.
	Ratio int64
	// RatioFloor is the unpacked size a .deb may always reach whatever
	// its ratio, so that small, very compressible packages (a few
	// kilobytes of zeros) are not refused. TEMPER_LIMIT_RATIO_FLOOR.
	RatioFloor int64
	// Index bounds one downloaded archive file other than a .deb
	// (InRelease, Packages, ...). TEMPER_LIMIT_INDEX.
	Index int64
	// XZDict bounds the LZMA2 dictionary an xz block header may claim
	// (the decoder allocates it before decoding). Debian's xz uses at
	// most 64 MiB. TEMPER_LIMIT_XZ_DICT.
	XZDict int64
	// ScriptSteps bounds the steps of one maintainer-script evaluation.
	// TEMPER_LIMIT_SCRIPT_STEPS.
	ScriptSteps int
	// ScriptString bounds one string (a variable's value, an expanded
	// word) of a maintainer-script evaluation, in bytes.
	// TEMPER_LIMIT_SCRIPT_STRING.
	ScriptString int
	// ScriptTime bounds one maintainer-script evaluation's wall clock.
	// It is a guard against a machine so slow that the step budget takes
	// too long; the step budget decides where a script stops.
	// TEMPER_LIMIT_SCRIPT_TIME.
	ScriptTime time.Duration
	// RequestTime bounds one download (all its attempts). TEMPER_LIMIT_REQUEST_TIME.
	RequestTime time.Duration
	// MinRate is the lowest average transfer rate, in bytes per second,
	// a download may keep over RateWindow. TEMPER_LIMIT_MIN_RATE.
	MinRate int64
	// RateWindow is the span MinRate is measured over. TEMPER_LIMIT_RATE_WINDOW.
	RateWindow time.Duration
}

// Defaults are the ceilings used when nothing overrides them.
var Defaults = Limits{
	Deb:          2 << 30,
	Member:       4 << 30,
	Image:        8 << 30,
	Ratio:        100,
	RatioFloor:   64 << 20,
	Index:        1 << 30,
	XZDict:       256 << 20,
	ScriptSteps:  200000,
	ScriptString: 1 << 20,
	ScriptTime:   10 * time.Second,
	RequestTime:  30 * time.Minute,
	MinRate:      1 << 10,
	RateWindow:   60 * time.Second,
}

var (
	mu       sync.Mutex
	current  *Limits
	envError error
)

// Get returns the limits in force: Set's, else the defaults overridden by
// the environment.
func Get() Limits {
	mu.Lock()
	defer mu.Unlock()
	if current == nil {
		l, err := FromEnv(os.Getenv)
		envError = err
		current = &l
	}
	return *current
}

// EnvError reports a TEMPER_LIMIT_* variable that could not be parsed
// (its default is used instead); nil when all parsed.
func EnvError() error {
	Get()
	mu.Lock()
	defer mu.Unlock()
	return envError
}

// Set replaces the limits in force (zero fields take the defaults) and
// returns a function that restores the previous ones; tests use it to
// make hostile inputs small.
func Set(l Limits) (restore func()) {
	mu.Lock()
	defer mu.Unlock()
	prev := current
	l = l.withDefaults()
	current = &l
	return func() {
		mu.Lock()
		defer mu.Unlock()
		current = prev
	}
}

func (l Limits) withDefaults() Limits {
	d := Defaults
	setDefault(&l.Deb, d.Deb)
	setDefault(&l.Member, d.Member)
	setDefault(&l.Image, d.Image)
	setDefault(&l.Ratio, d.Ratio)
	setDefault(&l.RatioFloor, d.RatioFloor)
	setDefault(&l.Index, d.Index)
	setDefault(&l.XZDict, d.XZDict)
	setDefault(&l.ScriptSteps, d.ScriptSteps)
	setDefault(&l.ScriptString, d.ScriptString)
	setDefault(&l.ScriptTime, d.ScriptTime)
	setDefault(&l.RequestTime, d.RequestTime)
	setDefault(&l.MinRate, d.MinRate)
	setDefault(&l.RateWindow, d.RateWindow)
	return l
}

func setDefault[T int | int64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// FromEnv returns the defaults overridden by the TEMPER_LIMIT_* variables
// getenv returns. A value that does not parse keeps its default and is
// reported in the error (naming the variable).
func FromEnv(getenv func(string) string) (Limits, error) {
	l := Defaults
	var errs []string
	size := func(name string, v *int64) {
		if s := getenv(name); s != "" {
			n, err := ParseSize(s)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: %v", name, s, err))
				return
			}
			*v = n
		}
	}
	count := func(name string, v *int) {
		if s := getenv(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				errs = append(errs, fmt.Sprintf("%s=%q: want a positive number", name, s))
				return
			}
			*v = n
		}
	}
	dur := func(name string, v *time.Duration) {
		if s := getenv(name); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Sprintf("%s=%q: want a positive duration such as 30s or 10m", name, s))
				return
			}
			*v = d
		}
	}
	size("TEMPER_LIMIT_DEB", &l.Deb)
	size("TEMPER_LIMIT_MEMBER", &l.Member)
	size("TEMPER_LIMIT_IMAGE", &l.Image)
	size("TEMPER_LIMIT_RATIO", &l.Ratio)
	size("TEMPER_LIMIT_RATIO_FLOOR", &l.RatioFloor)
	size("TEMPER_LIMIT_INDEX", &l.Index)
	size("TEMPER_LIMIT_XZ_DICT", &l.XZDict)
	count("TEMPER_LIMIT_SCRIPT_STEPS", &l.ScriptSteps)
	count("TEMPER_LIMIT_SCRIPT_STRING", &l.ScriptString)
	dur("TEMPER_LIMIT_SCRIPT_TIME", &l.ScriptTime)
	dur("TEMPER_LIMIT_REQUEST_TIME", &l.RequestTime)
	size("TEMPER_LIMIT_MIN_RATE", &l.MinRate)
	dur("TEMPER_LIMIT_RATE_WINDOW", &l.RateWindow)
	if len(errs) > 0 {
		return l, fmt.Errorf("limits: %s (the defaults are used for these)", strings.Join(errs, "; "))
	}
	return l, nil
}

// ParseSize parses "123", "64K", "2GiB", "8G", "1T".
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "i")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K', 'k':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a positive size such as 512M or 2GiB")
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("too large")
	}
	return n * mult, nil
}

// Human writes a byte count the way the limits are documented: 2 GiB,
// 64 MiB, 512 B.
func Human(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Error is a limit that input exceeded.
type Error struct {
	What  string // "package foo 1.0 (amd64)", "GET url"
	Where string // "data.tar.xz: ./usr/bin/x"; may be empty
	Limit string // "the per-file limit of 4 GiB (TEMPER_LIMIT_MEMBER)"
}

func (e *Error) Error() string {
	s := e.What
	if e.Where != "" {
		s += ": " + e.Where
	}
	return s + ": exceeds " + e.Limit
}
