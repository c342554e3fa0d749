package build

// Variants (docs/variants.md): each is its own image, NAME:VERSION-VARIANT,
// built from its own lock as the definition spec.Definition.ForVariant
// derives, with the same pipeline, outputs and evidence as the runtime.

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/temper-dev/temper/internal/spec"
)

// Target is one image of a definition: its runtime (Variant "") or one of
// its variants.
type Target struct {
	File    string
	Variant string
}

// Targets expands definition files into their images: each runtime, then
// its variants in name order. A definition that does not load is one
// target, whose build reports the error.
func Targets(files []string) []Target {
	var out []Target
	for _, f := range files {
		out = append(out, Target{File: f})
		def, err := spec.LoadDefinition(f)
		if err != nil {
			continue
		}
		for _, v := range def.VariantNames() {
			out = append(out, Target{File: f, Variant: v})
		}
	}
	return out
}

// options are opt for building t within All: opt.Variant selects the
// image that gets the tarball and the push; the others are written to the
// layout only.
func (t Target) options(opt Options) Options {
	if t.Variant != opt.Variant {
		opt.Tarball, opt.Push = "", ""
	}
	opt.Variant = t.Variant
	opt.variantsFollow = t.Variant == ""
	return opt
}

// LoadTarget is Load for the runtime (variant "") or a variant: the
// derived definition and the variant's own lock, checked to belong to the
// definition file as it is now.
func LoadTarget(defPath, variant string) (*spec.Definition, *spec.Lock, error) {
	if variant == "" {
		return Load(defPath)
	}
	def, err := spec.LoadDefinition(defPath)
	if err != nil {
		return nil, nil, err
	}
	vd, err := def.ForVariant(variant)
	if err != nil {
		return nil, nil, err
	}
	lockPath := vd.LockPath()
	l, err := spec.LoadLock(lockPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s: variant %s has no lock (%s); run `temper lock %s` first", defPath, variant, lockPath, defPath)
	}
	if err != nil {
		return nil, nil, err
	}
	if !l.Matches(vd) {
		return nil, nil, fmt.Errorf("%s: the lock %s was made from a different version of the definition (sha256 %s, now %s); run `temper lock %s`", defPath, lockPath, l.Definition.SHA256, vd.SHA256, defPath)
	}
	for _, a := range vd.Architectures {
		if l.Architectures[a] == nil {
			return nil, nil, fmt.Errorf("%s: variant %s: the lock has no %s closure; run `temper lock %s`", defPath, variant, a, defPath)
		}
	}
	return vd, l, nil
}

// RuntimeLock is the lock of the runtime a variant's image builds on: the
// definition file's own lock (NAME.lock.yaml), whose package groups the
// variant's layers reuse (docs/layers.md), checked to belong to the
// definition file as it is now. It is nil for a runtime (def.Variant "").
func RuntimeLock(def *spec.Definition) (*spec.Lock, error) {
	if def.Variant == "" {
		return nil, nil
	}
	if def.File == "" {
		return nil, fmt.Errorf("variant %s: a definition without a file has no runtime lock to build on", def.Variant)
	}
	lockPath := spec.LockPath(def.File)
	l, err := spec.LoadLock(lockPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: variant %s builds on the runtime's lock %s, which does not exist; run `temper lock %s`", def.File, def.Variant, lockPath, def.File)
	}
	if err != nil {
		return nil, err
	}
	if !l.Matches(def) {
		return nil, fmt.Errorf("%s: the runtime's lock %s was made from a different version of the definition (sha256 %s, now %s); run `temper lock %s`", def.File, lockPath, l.Definition.SHA256, def.SHA256, def.File)
	}
	return l, nil
}

// aptMirrors are the mirror URLs a package-manager variant's apt sources
// name: the ones this build fetches from (flags > temper.yaml > the
// machine's apt sources). They are not part of the build key: an image
// built elsewhere with another mirror configured names that mirror
// (docs/variants.md).
func aptMirrors(opt Options) [2]string {
	if opt.Fetcher == nil {
		return [2]string{}
	}
	return [2]string{opt.Fetcher.Mirrors.Archive, opt.Fetcher.Mirrors.Security}
}
