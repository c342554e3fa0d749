package build

// What identifies an image and its build across the catalog: its
// reference name, its SOURCE_DATE_EPOCH, its build key, and the check that
// a layout already holds it. The catalog report and the CLI read them from
// here.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/temper-dev/temper/internal/layers"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/spec"
)

// FormatVersion names the image layout temper produces. It is part of the
// build key: a temper that changes what it writes for a given lock bumps
// it, so stores rebuild instead of keeping stale images. 2: ucf
// conffiles (php.ini) are installed. 3: layer descriptors record the
// uncompressed size. 4: images are split into layers by groups of
// packages (docs/layers.md), package layers' mtimes are the Unix epoch,
// and gzip is parallel (pgzip, 1 MiB blocks). 5: a runtime with variants
// leaves 2 package layers to them and a variant's image holds its
// runtime's package layers (layers.SplitVariant), and every index records
// which packages came from designated repositories or local_debs
// (sbom.AnnotationRepositories, empty for Debian's packages alone); the
// layers of runtimes without variants keep their bytes.
const FormatVersion = "5"

// Annotation keys temper sets on its manifests and indexes.
const (
	AnnotationLockDigest = "dev.temper.lock.digest"
	AnnotationBuildKey   = "dev.temper.build.key"
	AnnotationRelease    = "dev.temper.debian.release"
	AnnotationRelaxed    = "dev.temper.hardening.relaxed"
)

// RefName is the name an image gets in layouts and tarballs.
func RefName(def *spec.Definition) string { return def.Name + ":" + def.Version }

// BuildKey identifies a build: the lock, the definition (which shapes the
// image config and hardening) and the output format; for a variant also
// its runtime's lock (RuntimeLock), whose package groups its layers reuse.
func BuildKey(def *spec.Definition, l *spec.Lock) string {
	return buildKey(def, l, "", 0)
}

// buildKey is BuildKey with the options that change the bytes beyond the
// definition: a configured compression other than gzip, a layer budget
// other than the default. With neither, it is BuildKey.
func buildKey(def *spec.Definition, l *spec.Lock, comp oci.Compression, budget int) string {
	s := "temper-build " + FormatVersion + "\n" + l.Digest() + "\n" + def.SHA256 + "\n"
	if comp != "" && comp != oci.Gzip && def.Compression == "" {
		s += "compression " + string(comp) + "\n"
	}
	if def.Variant != "" {
		s += "variant " + def.Variant + "\n"
		// A runtime lock that does not load keys no build: the build
		// reports why.
		if rl, err := RuntimeLock(def); err == nil {
			s += "runtime " + rl.Digest() + "\n"
		} else {
			s += "runtime unavailable\n"
		}
	}
	if budget > 0 && budget != layers.DefaultBudget {
		s += fmt.Sprintf("layers %d\n", budget)
	}
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Epoch is the SOURCE_DATE_EPOCH of a lock: the newest Date of the signed
// suites it was resolved against. It moves only when the lock does.
func Epoch(l *spec.Lock) time.Time {
	var t time.Time
	for _, s := range l.Suites {
		if s.Date.After(t) {
			t = s.Date
		}
	}
	return oci.Epoch(t)
}

// Load reads a definition and its lock and checks that they belong
// together.
func Load(defPath string) (*spec.Definition, *spec.Lock, error) {
	def, err := spec.LoadDefinition(defPath)
	if err != nil {
		return nil, nil, err
	}
	lockPath := def.LockPath()
	l, err := spec.LoadLock(lockPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s: no lock (%s); run `temper lock %s` first", defPath, lockPath, defPath)
	}
	if err != nil {
		return nil, nil, err
	}
	if l.Definition == def.LockDefinition() && !l.FilesMatch(def) {
		return nil, nil, fmt.Errorf("%s: files: changed since the lock %s was made (%s); run `temper lock %s`", defPath, lockPath, l.FilesChanged(def), defPath)
	}
	if !l.Matches(def) {
		return nil, nil, fmt.Errorf("%s: the lock %s was made from a different version of the definition (sha256 %s, now %s); run `temper lock %s`", defPath, lockPath, l.Definition.SHA256, def.SHA256, defPath)
	}
	for _, a := range def.Architectures {
		if l.Architectures[a] == nil {
			return nil, nil, fmt.Errorf("%s: the lock has no %s closure; run `temper lock %s`", defPath, a, defPath)
		}
	}
	return def, l, nil
}

// AlreadyBuilt reports whether the layout at dir holds this build under
// ref: its index carries the same build key. It reads only index.json and
// one small manifest, so a no-op rebuild costs milliseconds.
func AlreadyBuilt(dir, ref, key string) (string, bool) {
	idx, err := oci.ReadLayoutRef(dir, ref)
	if err != nil {
		return "", false
	}
	m, err := idx.IndexManifest()
	if err != nil || m.Annotations[AnnotationBuildKey] != key {
		return "", false
	}
	d, err := idx.Digest()
	if err != nil {
		return "", false
	}
	return d.String(), true
}
