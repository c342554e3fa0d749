package testrun

import (
	"fmt"
	"strings"

	"github.com/temper-dev/temper/internal/hardening"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// hardeningChecks checks the defaults internal/hardening declares on every
// image, except the ones the definition relaxed (reported as skipped).
func hardeningChecks(def *spec.Definition, tr *tree) []Outcome {
	var setuid, writable []string
	tr.fs.Walk(func(e *rootfs.Entry) error {
		if e.Kind == rootfs.Symlink || e.Kind == rootfs.Hardlink {
			return nil
		}
		if hardening.Setuid(e) {
			setuid = append(setuid, "/"+e.Path+" ("+describe(e)+")")
		}
		if hardening.WorldWritable(e) {
			writable = append(writable, "/"+e.Path)
		}
		return nil
	})
	return []Outcome{
		setuidCheck(def, setuid),
		shellCheck(def, tr),
		rootCheck(def, tr),
		writableCheck(writable),
	}
}

// check is a passing hardening outcome, or a skipped one when the
// definition relaxes the default.
func check(name string, def *spec.Definition, r *hardening.Relaxation) Outcome {
	o := Outcome{Name: "hardening: " + name, Kind: "hardening", Status: Pass}
	if r != nil && r.In(def) {
		o.Status, o.Message = Skip, "relaxed by "+r.Setting
	}
	return o
}

func setuidCheck(def *spec.Definition, setuid []string) Outcome {
	o := check("no setuid or setgid files", def, &hardening.RelaxSetuid)
	if o.Status == Pass && len(setuid) > 0 {
		o.Status, o.Expected, o.Actual = Fail, "no file with the setuid or setgid bit", strings.Join(setuid, ", ")
	}
	return o
}

func shellCheck(def *spec.Definition, tr *tree) Outcome {
	o := check("no shell", def, &hardening.RelaxShell)
	shells := hardening.Shells()
	var found []string
	for _, s := range shells {
		if e, ok := tr.stat(s); ok && e.Kind != rootfs.Dir {
			found = append(found, s)
		}
	}
	if o.Status == Pass && len(found) > 0 {
		o.Status, o.Expected, o.Actual = Fail, "none of "+strings.Join(shells, ", "), "present: "+strings.Join(found, ", ")
	}
	return o
}

func rootCheck(def *spec.Definition, tr *tree) Outcome {
	o := check("not root", def, &hardening.RelaxRoot)
	if o.Status == Pass && runsAsRoot(tr) {
		o.Status, o.Expected, o.Actual = Fail, "a non-root user in the image config", fmt.Sprintf("user %q", tr.config.User)
	}
	return o
}

func writableCheck(writable []string) Outcome {
	o := check("nothing world-writable but /tmp", nil, nil)
	if len(writable) > 0 {
		o.Status, o.Expected, o.Actual = Fail, "only /tmp world-writable", strings.Join(writable, ", ")
	}
	return o
}
