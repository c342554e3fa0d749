package update

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/spec"
)

// A definition's local_debs: are read from the catalog directory, as
// temper lock and temper build read them: a check re-resolves with them
// (lock.Resolve adds them as apt's local repository), reports a changed
// .deb as a change that needs a re-lock, and reads their shared libraries
// and changelogs from the catalog, never from a mirror.

// inputReasons explains why a lock no longer matches its definition: the
// definition file itself, and the catalog files the lock pins (files:
// src:, local_debs:). relock is true when pinned files changed: the lock
// must be written again even if no package version moves.
func inputReasons(def *spec.Definition, old *spec.Lock) (reasons []string, relock bool) {
	if old.Definition != def.LockDefinition() || old.Release != def.Debian.Release {
		reasons = append(reasons, "the definition changed since its lock was written: the plan includes those changes")
	}
	if !old.FilesMatch(def) {
		reasons = append(reasons, "changed in the catalog since the lock: "+old.FilesChanged(def)+": temper update re-locks with them")
		relock = true
	}
	return reasons, relock
}

// noteLocalDebs remembers where the .debs of a lock's local packages are:
// the catalog file the lock names (Filename, relative to the definition).
func (c *checker) noteLocalDebs(def *spec.Definition, l *spec.Lock) {
	if l == nil {
		return
	}
	for _, a := range l.Architectures {
		for _, p := range a.Packages {
			if p.Repository == spec.LocalRepository {
				c.localDebs.Store(p.SHA256, def.LocalDebPath(p.Filename))
			}
		}
	}
}

// localDeb reads a local package's .deb from the catalog directory,
// verified against the SHA-256 the lock pins. A .deb rewritten or removed
// since is "no longer in the catalog".
func (c *checker) localDeb(it pool.Item) ([]byte, error) {
	v, ok := c.localDebs.Load(it.SHA256)
	if !ok {
		return nil, fmt.Errorf("local .deb %s (sha256 %s) is no longer in the catalog", it.Filename, it.SHA256)
	}
	data, err := os.ReadFile(v.(string))
	if err != nil {
		return nil, fmt.Errorf("local .deb %s (sha256 %s) is no longer in the catalog: %w", it.Filename, it.SHA256, err)
	}
	if s := sha256.Sum256(data); hex.EncodeToString(s[:]) != it.SHA256 {
		return nil, fmt.Errorf("local .deb %s (sha256 %s) is no longer in the catalog: %s now has other bytes", it.Filename, it.SHA256, v.(string))
	}
	return data, nil
}
