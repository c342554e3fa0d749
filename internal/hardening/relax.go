package hardening

import "github.com/temper-dev/temper/internal/spec"

// A Relaxation is a default a definition may turn off.
type Relaxation struct {
	// Name is how the build report lists it ("relaxed: shell, root").
	Name string
	// Setting is the definition's setting that turns it off, as test
	// reports name it ("relaxed by hardening.allow_root").
	Setting string
	on      func(*spec.Definition) bool
}

// The relaxations, one per default a definition may turn off.
var (
	RelaxShell          = Relaxation{"shell", "shell: true", func(d *spec.Definition) bool { return d.Shell }}
	RelaxPackageManager = Relaxation{"package-manager", "hardening.allow_package_manager", func(d *spec.Definition) bool { return d.Hardening.AllowPackageManager }}
	RelaxSetuid         = Relaxation{"setuid", "hardening.allow_setuid", func(d *spec.Definition) bool { return d.Hardening.AllowSetuid }}
	RelaxRoot           = Relaxation{"root", "hardening.allow_root", func(d *spec.Definition) bool { return d.Hardening.AllowRoot }}
)

// Relaxations are all of them, in the order reports list them.
var Relaxations = []Relaxation{RelaxShell, RelaxPackageManager, RelaxSetuid, RelaxRoot}

// In reports whether the definition turns the default off.
func (r Relaxation) In(d *spec.Definition) bool { return r.on(d) }

// Relaxed names the defaults the definition turns off, in the order of
// Relaxations (nil when none).
func Relaxed(d *spec.Definition) []string {
	var out []string
	for _, r := range Relaxations {
		if r.In(d) {
			out = append(out, r.Name)
		}
	}
	return out
}
