// Package rootfs is an in-memory image filesystem: the tree temper
// assembles from .deb data archives before it becomes a layer. Paths are
// always relative to the image root, cleaned, and never touch the host's
// filesystem, so a package's absolute or ".." paths and symlinks are
// resolved inside the image and an entry that would escape it is refused.
package rootfs

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Kind is the type of an entry.
type Kind uint8

// Entry kinds.
const (
	File Kind = iota
	Dir
	Symlink
	Hardlink
)

func (k Kind) String() string {
	return [...]string{"file", "dir", "symlink", "hardlink"}[k]
}

// Entry is one path in the image.
type Entry struct {
	// Path is relative to the root, cleaned, without leading or trailing
	// slash ("usr/bin/python3"); the root itself is "".
	Path string
	Kind Kind
	// Mode holds the permission bits plus fs.ModeSetuid, fs.ModeSetgid and
	// fs.ModeSticky; the type bits are in Kind.
	Mode     fs.FileMode
	UID, GID int
	// Data is a regular file's content.
	Data []byte
	// Target is a symlink's target as written, or a hardlink's target path
	// (relative to the root, cleaned).
	Target string
	// Package is the binary package that shipped the entry ("" for entries
	// temper creates).
	Package string
}

// MemSize is about what the entry holds in memory: its content, path and
// link target, and about 160 bytes for the entry itself and its map slot.
// Memos of unpacked packages and trees bound themselves by it.
func (e *Entry) MemSize() int64 {
	return int64(len(e.Data)+len(e.Path)+len(e.Target)) + 160
}

// FS is an in-memory tree. The zero value is not usable; call New.
type FS struct {
	entries map[string]*Entry
}

// New returns a tree holding only the root directory.
func New() *FS {
	return &FS{entries: map[string]*Entry{"": {Path: "", Kind: Dir, Mode: 0o755}}}
}

// ErrEscapes is returned for a path that would leave the image root.
var ErrEscapes = errors.New("path escapes the image root")

// Clean turns a path as written in a package ("./usr/bin/x", "/etc/x",
// "usr//lib/") into the tree's form ("usr/bin/x"). Leading ".." elements
// that would climb above the root are an error: a package must not write
// outside the image.
func Clean(p string) (string, error) {
	if p == "" || p == "." || p == "./" || p == "/" {
		return "", nil
	}
	parts := strings.Split(p, "/")
	out := make([]string, 0, len(parts))
	for _, part := range parts {
		switch part {
		case "", ".":
		case "..":
			if len(out) == 0 {
				return "", fmt.Errorf("%q: %w", p, ErrEscapes)
			}
			out = out[:len(out)-1]
		default:
			out = append(out, part)
		}
	}
	return strings.Join(out, "/"), nil
}

// Get returns the entry at path (no symlink resolution).
func (f *FS) Get(p string) (*Entry, bool) {
	e, ok := f.entries[p]
	return e, ok
}

// Put adds or replaces an entry, creating missing parent directories
// (0755, root-owned). The parent path must not traverse a symlink: callers
// resolve paths with Resolve first. Replacing a directory by a non-directory
// is an error.
func (f *FS) Put(e *Entry) error {
	if e.Path == "" {
		if e.Kind != Dir {
			return fmt.Errorf("the image root must be a directory")
		}
		f.entries[""] = e
		return nil
	}
	if err := f.mkdirAll(path.Dir(e.Path)); err != nil {
		return fmt.Errorf("%s: %w", e.Path, err)
	}
	if old, ok := f.entries[e.Path]; ok && old.Kind == Dir && e.Kind != Dir {
		return fmt.Errorf("%s: cannot replace a directory with a %s", e.Path, e.Kind)
	}
	f.entries[e.Path] = e
	return nil
}

func (f *FS) mkdirAll(dir string) error {
	if dir == "." || dir == "" {
		return nil
	}
	if e, ok := f.entries[dir]; ok {
		if e.Kind != Dir {
			return fmt.Errorf("parent %s is a %s, not a directory", dir, e.Kind)
		}
		return nil
	}
	if err := f.mkdirAll(path.Dir(dir)); err != nil {
		return err
	}
	f.entries[dir] = &Entry{Path: dir, Kind: Dir, Mode: 0o755}
	return nil
}

// Remove deletes one entry (and, for a directory, everything below it).
func (f *FS) Remove(p string) {
	if p == "" {
		return
	}
	delete(f.entries, p)
	prefix := p + "/"
	for k := range f.entries {
		if strings.HasPrefix(k, prefix) {
			delete(f.entries, k)
		}
	}
}

// Resolve follows symlinks in p's directory components (and in its last
// component when followLast), inside the image root, as the kernel would
// after chroot. It returns the resolved path. Links pointing above the root
// stop at the root, like in a chroot; more than 40 links is an error.
func (f *FS) Resolve(p string, followLast bool) (string, error) {
	return f.resolve(p, followLast, 0)
}

func (f *FS) resolve(p string, followLast bool, depth int) (string, error) {
	if depth > 40 {
		return "", fmt.Errorf("%s: too many levels of symbolic links", p)
	}
	p, err := Clean(p)
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", nil
	}
	parts := strings.Split(p, "/")
	cur := ""
	for i, part := range parts {
		next := part
		if cur != "" {
			next = cur + "/" + part
		}
		e, ok := f.entries[next]
		last := i == len(parts)-1
		if ok && e.Kind == Symlink && (!last || followLast) {
			target := e.Target
			if !strings.HasPrefix(target, "/") {
				target = cur + "/" + target
			}
			resolved, err := f.resolve(chrootClean(target), true, depth+1)
			if err != nil {
				return "", err
			}
			cur = resolved
			continue
		}
		cur = next
	}
	return cur, nil
}

// chrootClean cleans a path where ".." at the root stays at the root.
func chrootClean(p string) string {
	c := path.Clean("/" + p)
	return strings.TrimPrefix(c, "/")
}

// Walk calls fn for every entry in lexical path order (parents before
// children), the order layers are written in.
func (f *FS) Walk(fn func(e *Entry) error) error {
	for _, p := range f.Paths() {
		if err := fn(f.entries[p]); err != nil {
			return err
		}
	}
	return nil
}

// Paths returns every path, sorted.
func (f *FS) Paths() []string {
	out := make([]string, 0, len(f.entries))
	for p := range f.entries {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Len is the number of entries, the root included.
func (f *FS) Len() int { return len(f.entries) }

// RemoveFunc removes, in one pass, every entry for which fn returns true
// together with everything below a removed directory, and returns the
// removed entries in path order. fn is never called for the root nor for
// an entry below a directory already removed.
func (f *FS) RemoveFunc(fn func(e *Entry) bool) []*Entry {
	var removed []*Entry
	gone := map[string]bool{}
	for _, p := range f.Paths() {
		if p == "" {
			continue
		}
		e := f.entries[p]
		if gone[path.Dir(p)] || fn(e) {
			if e.Kind == Dir {
				gone[p] = true
			}
			removed = append(removed, e)
			delete(f.entries, p)
		}
	}
	return removed
}
