package lock

// Variants (docs/variants.md): a variant's closure is resolved with every
// package of the runtime's closure pinned at the runtime's version, so
// that whatever is built in the variant runs in the runtime. The runtime
// and its variants are resolved together and written together: when one
// fails, none is written.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/resolve"
	"github.com/temper-dev/temper/internal/spec"
)

// lockStream locks one definition and its variants: one outcome for the
// runtime, then one per variant in name order.
func lockStream(ctx context.Context, file string, releases resolve.Releases, opt Options) []Outcome {
	def, err := spec.LoadDefinition(file)
	if err != nil || len(def.Variants) == 0 {
		return []Outcome{lockOne(ctx, file, releases, opt)}
	}
	outs := []Outcome{{Definition: file, LockPath: def.LockPath(), Packages: map[string]int{}}}
	runtime, err := Resolve(ctx, def, releases)
	if err != nil {
		outs[0].Err = located(file, err)
	}
	outs[0].Lock = runtime
	failed := err != nil
	for _, name := range def.VariantNames() {
		vd, _ := def.ForVariant(name)
		o := Outcome{Definition: file, Variant: name, LockPath: vd.LockPath(), Packages: map[string]int{}}
		switch {
		case runtime == nil:
			o.Err = fmt.Errorf("%s: variant %s: not resolved: the runtime failed", file, name)
		default:
			if o.Lock, err = ResolveVariant(ctx, vd, runtime, releases); err != nil {
				o.Err = located(file, err)
				failed = true
			}
		}
		outs = append(outs, o)
	}
	if failed {
		// Together or not at all: a runtime lock written without its
		// variants would break their ABI promise.
		for i := range outs {
			if outs[i].Err == nil {
				outs[i].Err = fmt.Errorf("%s: %s not written: %s", file, outs[i].LockPath, "another image of the stream failed (above)")
			}
		}
		return outs
	}
	for i := range outs {
		o := &outs[i]
		for arch, a := range o.Lock.Architectures {
			o.Packages[arch] = len(a.Packages)
		}
		if !opt.DryRun {
			o.Changed, o.Err = writeLock(o.LockPath, o.Lock)
			if o.Err != nil {
				o.Err = fmt.Errorf("%s: %w", file, o.Err)
			}
		}
	}
	return outs
}

// writeLock writes l to path unless the file there differs at most in
// its suites (lockOne's rule).
func writeLock(path string, l *spec.Lock) (bool, error) {
	data, err := l.Marshal()
	if err != nil {
		return false, err
	}
	if old, err := os.ReadFile(path); err == nil && sameButSuites(old, data) {
		return false, nil
	}
	return spec.WriteFileAtomic(path, data, 0o644)
}

// ResolveVariant resolves a variant's definition (spec.Definition.ForVariant)
// with every package of the runtime's lock pinned at its version, per
// architecture. When the variant's own packages need another version of a
// package the runtime has, it refuses with a *ABIError naming them.
func ResolveVariant(ctx context.Context, vd *spec.Definition, runtime *spec.Lock, releases resolve.Releases) (*spec.Lock, error) {
	pins := map[string]map[string]string{}
	for arch, a := range runtime.Architectures {
		pins[arch] = map[string]string{}
		for _, p := range a.Packages {
			pins[arch][p.Name] = p.Version
		}
	}
	l, err := resolveWith(ctx, vd, releases, pins)
	if err != nil {
		// Why: resolve without the pins and name what moved.
		var ue *resolve.UnsatisfiableError
		if errors.As(err, &ue) && len(ue.Pinned) > 0 {
			return nil, fmt.Errorf("variant %s: refused: its packages need other versions of %s than the runtime's (same ABI: every package shared with the runtime keeps the runtime's version): %w",
				vd.Variant, strings.Join(ue.Pinned, ", "), err)
		}
		free, ferr := resolveWith(ctx, vd, releases, nil)
		if ferr != nil {
			return nil, fmt.Errorf("variant %s: %w", vd.Variant, err)
		}
		if abi := SharedDiff(runtime, free); abi != nil {
			abi.Variant = vd.Variant
			return nil, abi
		}
		return nil, fmt.Errorf("variant %s: %w", vd.Variant, err)
	}
	if abi := SharedDiff(runtime, l); abi != nil {
		abi.Variant = vd.Variant
		return nil, abi
	}
	return l, nil
}

// ABIError is a variant whose closure would carry other versions of
// packages the runtime has.
type ABIError struct {
	Variant string
	Diffs   []SharedVersion
}

// SharedVersion is one package in both closures at different versions.
type SharedVersion struct {
	Arch, Name, Runtime, Variant string
	RequiredBy                   []string // in the variant's closure
}

func (e *ABIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "variant %s: refused: its packages need other versions of %d %s than the runtime's (same ABI: every package shared with the runtime keeps the runtime's version):",
		e.Variant, len(e.Diffs), plural(len(e.Diffs), "package"))
	for _, d := range e.Diffs {
		fmt.Fprintf(&b, "\n  %s (%s): runtime %s, variant needs %s (required by %s)", d.Name, d.Arch, d.Runtime, d.Variant, strings.Join(d.RequiredBy, ", "))
	}
	b.WriteString("\n  pin the variant's packages to versions built against the runtime's, or move the runtime (temper update) first")
	return b.String()
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// SharedDiff lists the packages both locks have, per architecture, at
// different versions; nil when every shared package is identical (name,
// version, architecture and .deb digest).
func SharedDiff(runtime, variant *spec.Lock) *ABIError {
	var diffs []SharedVersion
	for arch, ra := range runtime.Architectures {
		va := variant.Architectures[arch]
		if va == nil {
			continue
		}
		have := map[string]spec.LockedPackage{}
		for _, p := range ra.Packages {
			have[p.Name] = p
		}
		for _, p := range va.Packages {
			if r, ok := have[p.Name]; ok && (r.Version != p.Version || r.SHA256 != p.SHA256 || r.Architecture != p.Architecture) {
				diffs = append(diffs, SharedVersion{Arch: arch, Name: p.Name, Runtime: r.Version, Variant: p.Version, RequiredBy: p.RequiredBy})
			}
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	sort.Slice(diffs, func(i, j int) bool {
		if diffs[i].Arch != diffs[j].Arch {
			return diffs[i].Arch < diffs[j].Arch
		}
		return diffs[i].Name < diffs[j].Name
	})
	return &ABIError{Diffs: diffs}
}

// resolveWith is Resolve with per-architecture pins.
func resolveWith(ctx context.Context, def *spec.Definition, releases resolve.Releases, pins map[string]map[string]string) (*spec.Lock, error) {
	return resolveDefinition(ctx, def, releases, func(arch string) map[string]string { return pins[arch] })
}

// LoadVariantLocks reads the locks of every variant of def (for checks
// and tests), by variant name; a missing lock is an error naming the fix.
func LoadVariantLocks(def *spec.Definition) (map[string]*spec.Lock, error) {
	out := map[string]*spec.Lock{}
	var errs []error
	for _, name := range def.VariantNames() {
		vd, _ := def.ForVariant(name)
		l, err := spec.LoadLock(vd.LockPath())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: variant %s: %w; run `temper lock %s`", def.File, name, err, def.File))
			continue
		}
		out[name] = l
	}
	return out, errors.Join(errs...)
}
