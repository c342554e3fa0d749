package assemble

import (
	"archive/tar"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/hostile"
	"github.com/temper-dev/temper/internal/limits"
	"github.com/temper-dev/temper/internal/spec"
)

func rawDeb(name string, data []byte, scripts map[string]string) Deb {
	return Deb{Package: spec.LockedPackage{Name: name, Version: "1", Architecture: "amd64"},
		Data: hostile.Deb(hostile.Control(name, "1", "amd64"), scripts, "data.tar", data)}
}

// Device nodes and fifos are left out of the image and named in the
// build's warnings.
func TestSpecialFilesWarned(t *testing.T) {
	data := hostile.Tar(
		&tar.Header{Name: "./dev/", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "./dev/null", Typeflag: tar.TypeChar, Mode: 0o666, Devmajor: 1, Devminor: 3},
		&tar.Header{Name: "./dev/sda", Typeflag: tar.TypeBlock, Mode: 0o660, Devmajor: 8},
		&tar.Header{Name: "./run/fifo", Typeflag: tar.TypeFifo, Mode: 0o644},
	)
	tree, rep, err := Assemble(Input{Def: def(), Arch: "amd64", Release: "bookworm", Debs: []Deb{rawDeb("devs", data, nil)}})
	if err != nil {
		t.Fatal(err)
	}
	absent(t, tree, "dev/null")
	absent(t, tree, "run/fifo")
	w := strings.Join(rep.Warnings, "\n")
	for _, p := range []string{"/dev/null", "/dev/sda", "/run/fifo"} {
		if !strings.Contains(w, "package devs: "+p+" is a device node or fifo") {
			t.Errorf("warnings %q do not name %s", w, p)
		}
	}
}

// A sparse member that fits every limit is refused, naming the package
// and the member, as dpkg refuses it: it used to be left out silently.
func TestSparseMemberRefused(t *testing.T) {
	d := rawDeb("holes", hostile.SparseTar("./usr/share/holes", 64<<10), nil)
	_, _, err := Assemble(Input{Def: def(), Arch: "amd64", Release: "bookworm", Debs: []Deb{d}})
	if err == nil || !strings.Contains(err.Error(), "package holes") || !strings.Contains(err.Error(), "usr/share/holes") || !strings.Contains(err.Error(), "sparse") {
		t.Fatalf("got %v", err)
	}
}

// A postinst cut short by the evaluator's budgets is a warning naming the
// package; the image still builds, the same way every time.
func TestScriptBudgetWarned(t *testing.T) {
	d := rawDeb("evil", hostile.Tar(&tar.Header{Name: "./usr/", Typeflag: tar.TypeDir, Mode: 0o755}),
		map[string]string{"postinst": "#!/bin/sh\n# ucf update-alternatives\n" + hostile.Scripts["doubling"]})
	_, rep, err := Assemble(Input{Def: def(), Arch: "amd64", Release: "bookworm", Debs: []Deb{d}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "package evil: postinst: a string longer than") {
		t.Errorf("warnings %q", rep.Warnings)
	}
}

// The image's unpacked size is bounded across its packages, counted
// while they are read.
func TestImageLimit(t *testing.T) {
	defer limits.Set(limits.Limits{Image: 100 << 10, RatioFloor: 1 << 30})()
	var debs []Deb
	for _, n := range []string{"a", "b", "c"} {
		debs = append(debs, rawDeb(n, hostile.Tar(&tar.Header{Name: "./" + n, Typeflag: tar.TypeReg, Size: 40 << 10, Mode: 0o644}), nil))
	}
	_, _, err := Assemble(Input{Def: def(), Arch: "amd64", Release: "bookworm", Debs: debs})
	var le *limits.Error
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "per-image limit of 100 KiB (TEMPER_LIMIT_IMAGE) for amd64") {
		t.Fatalf("got %v", err)
	}
}

// A canceled context stops assembly: before it starts, and inside a
// postinst that would run for an hour on its budgets (an endless script
// with the step budget and the wall clock lifted), with the cause.
func TestCanceled(t *testing.T) {
	defer limits.Set(limits.Limits{ScriptSteps: 1 << 62, ScriptTime: time.Hour})()
	d := rawDeb("evil", hostile.Tar(&tar.Header{Name: "./usr/", Typeflag: tar.TypeDir, Mode: 0o755}),
		map[string]string{"postinst": "#!/bin/sh\n# ucf update-alternatives\n" + hostile.Scripts["endless-func"]})
	sigterm := errors.New("terminated")

	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(sigterm)
	_, _, err := Assemble(Input{Def: def(), Arch: "amd64", Release: "bookworm", Debs: []Deb{d}, Context: ctx})
	if !errors.Is(err, sigterm) || !strings.Contains(err.Error(), "assembly stopped: terminated") {
		t.Fatalf("canceled before: got %v", err)
	}

	ctx, cancel = context.WithCancelCause(context.Background())
	timer := time.AfterFunc(200*time.Millisecond, func() { cancel(sigterm) })
	defer timer.Stop()
	_, _, err = Assemble(Input{Def: def(), Arch: "amd64", Release: "bookworm", Debs: []Deb{d}, Context: ctx})
	if !errors.Is(err, sigterm) {
		t.Fatalf("canceled in the postinst: got %v", err)
	}
}
