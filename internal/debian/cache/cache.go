// Package cache is a content-addressed on-disk cache for Debian archive files,
// keyed by SHA-256, plus a small store of named, mutable metadata entries
// ("refs") such as the last verified InRelease of a given URL.
//
// Layout under Dir:
//
//	sha256/<first 2 hex>/<64 hex>   immutable content entries
//	refs/<sha256(name)>             named entries with an integrity header
//
// Every write goes to a temporary file in the destination directory and is
// renamed into place, so readers (in this or another process) never observe
// a partial file, and concurrent writers of the same key are safe. Reads of
// content entries verify the SHA-256; a corrupt entry is removed and reported
// as missing.
package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/temper-dev/temper/internal/leftover"
)

// ErrNotFound reports that an entry is not in the cache (or was corrupt and
// has been treated as missing).
var ErrNotFound = errors.New("not in cache")

// Cache is a cache rooted at Dir. Use Open to create one.
type Cache struct {
	Dir string
}

// tempPrefix starts the name of every temporary file the cache creates.
const tempPrefix = ".tmp-"

// DefaultDir returns the default cache directory, os.UserCacheDir()/temper.
func DefaultDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache: finding the user cache directory: %w", err)
	}
	return filepath.Join(base, "temper"), nil
}

// Open returns a Cache rooted at dir, creating dir (mode 0755) if needed.
func Open(dir string) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("cache: empty directory name")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cache: creating %s: %w", dir, err)
	}
	c := &Cache{Dir: dir}
	if _, done := cleaned.LoadOrStore(dir, true); !done {
		c.CleanLeftovers()
	}
	return c, nil
}

// cleaned records the directories whose leftovers this process removed.
var cleaned sync.Map

// CleanLeftovers removes the temporary files of interrupted writes (their
// writers gone, see internal/leftover) and returns how many it removed.
// Open calls it once per directory and process.
func (c *Cache) CleanLeftovers() int {
	n := leftover.Clean(filepath.Join(c.Dir, "refs"), tempPrefix)
	subs, _ := os.ReadDir(filepath.Join(c.Dir, "sha256"))
	for _, s := range subs {
		if s.IsDir() {
			n += leftover.Clean(filepath.Join(c.Dir, "sha256", s.Name()), tempPrefix)
		}
	}
	return n
}

// validSum reports whether sum is 64 lowercase hex digits.
func validSum(sum string) bool {
	if len(sum) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(sum); i++ {
		c := sum[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func checkSum(sum string) error {
	if !validSum(sum) {
		return fmt.Errorf("cache: invalid sha256 key %q: want 64 lowercase hex digits", sum)
	}
	return nil
}

// Path returns the file name of the entry for sum. sum should be 64 lowercase
// hex digits; for other strings the result is a path that is never written.
func (c *Cache) Path(sum string) string {
	if !validSum(sum) {
		return filepath.Join(c.Dir, "sha256", "invalid", filepath.Base(sum))
	}
	return filepath.Join(c.Dir, "sha256", sum[:2], sum)
}

// Has reports whether an entry for sum exists. It only stats the file; the
// content is verified by Read.
func (c *Cache) Has(sum string) bool {
	if !validSum(sum) {
		return false
	}
	fi, err := os.Stat(c.Path(sum))
	return err == nil && fi.Mode().IsRegular()
}

// corruptError reports a content entry whose hash did not match its key.
type corruptError struct {
	sum, got string
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("cache entry %s was corrupt (sha256 %s); removed", e.sum, e.got)
}

func (e *corruptError) Unwrap() error { return ErrNotFound }

// Read returns the content of the entry for sum after verifying its SHA-256
// (once per file and process: a file this process verified is not hashed
// again while its identity, i.e. device, inode, size, modification and
// change times, stays the same).
// A missing entry yields an error wrapping ErrNotFound. A corrupt entry is
// removed and yields an error that says so and also wraps ErrNotFound.
func (c *Cache) Read(sum string) ([]byte, error) {
	if err := checkSum(sum); err != nil {
		return nil, err
	}
	p := c.Path(sum)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cache entry %s: %w", sum, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("cache: reading entry %s: %w", sum, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cache: reading entry %s: %w", sum, err)
	}
	// Entries are immutable once renamed into place, so the size from Stat
	// is the size to read: one exact allocation instead of io.ReadAll's
	// repeated growth (which doubled the time to load a 50 MB index).
	data := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("cache: reading entry %s: %w", sum, err)
	}
	after, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cache: reading entry %s: %w", sum, err)
	}
	if verified.has(p, fi, after) {
		return data, nil // this process hashed this very file already
	}
	verified.hashed.Add(1)
	h := sha256.Sum256(data)
	if got := hex.EncodeToString(h[:]); got != sum {
		verified.forget(p)
		// Remove it only if it is still the file we read: another process may
		// have renamed a good copy into place meanwhile.
		if cur, err := os.Stat(p); err == nil && os.SameFile(fi, cur) {
			_ = os.Remove(p)
		}
		return nil, &corruptError{sum: sum, got: got}
	}
	verified.add(p, fi, after)
	return data, nil
}

// Write stores the content read from r under sum. size is the expected length
// in bytes, or -1 if unknown. The data is streamed into a temporary file in the
// entry's directory while being hashed; if the size or hash does not match,
// or reading r fails, the temporary file is removed and an error is returned
// naming what was expected and what was got. Otherwise the file is renamed
// into place atomically. If the entry already exists the new copy is
// discarded.
func (c *Cache) Write(sum string, size int64, r io.Reader) (err error) {
	if err := checkSum(sum); err != nil {
		return err
	}
	final := c.Path(sum)
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cache: writing entry %s: %w", sum, err)
	}
	tmp, err := leftover.CreateTemp(dir, tempPrefix+sum[:8]+"-*")
	if err != nil {
		return fmt.Errorf("cache: writing entry %s: %w", sum, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		if err != nil {
			os.Remove(tmpName)
		}
	}()

	h := sha256.New()
	src := r
	if size >= 0 {
		// Read one byte more than expected so an over-long input is noticed.
		src = io.LimitReader(r, size+1)
	}
	n, err := io.Copy(io.MultiWriter(tmp, h), src)
	if err != nil {
		return fmt.Errorf("cache: writing entry %s: after %d bytes: %w", sum, n, err)
	}
	if size >= 0 && n != size {
		if n > size {
			return fmt.Errorf("cache: writing entry %s: size mismatch: expected %d bytes, got more", sum, size)
		}
		return fmt.Errorf("cache: writing entry %s: size mismatch: expected %d bytes, got %d", sum, size, n)
	}
	if got := hexSum(h); got != sum {
		return fmt.Errorf("cache: writing entry %s: sha256 mismatch: expected %s, got %s (%d bytes)", sum, sum, got, n)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("cache: writing entry %s: %w", sum, err)
	}
	if c.Has(sum) {
		os.Remove(tmpName)
		return nil
	}
	// Renamed while still open (and locked): see internal/leftover.
	if err := os.Rename(tmpName, final); err != nil {
		return fmt.Errorf("cache: writing entry %s: %w", sum, err)
	}
	cerr := tmp.Close()
	tmp = nil
	if cerr != nil {
		return fmt.Errorf("cache: writing entry %s: %w", sum, cerr)
	}
	return nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// WriteBytes stores data under sum; see Write.
func (c *Cache) WriteBytes(sum string, data []byte) error {
	return c.Write(sum, int64(len(data)), bytes.NewReader(data))
}

// Remove deletes the entry for sum. Removing a missing entry is not an error.
func (c *Cache) Remove(sum string) error {
	if err := checkSum(sum); err != nil {
		return err
	}
	if err := os.Remove(c.Path(sum)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("cache: removing entry %s: %w", sum, err)
	}
	return nil
}

// refPath returns the file that holds the named ref.
func (c *Cache) refPath(name string) string {
	h := sha256.Sum256([]byte(name))
	return filepath.Join(c.Dir, "refs", hex.EncodeToString(h[:]))
}

// PutRef stores data under name, replacing any previous value atomically.
// The file starts with a line holding the SHA-256 of the rest, so a torn or
// corrupt ref reads as missing.
func (c *Cache) PutRef(name string, data []byte) (err error) {
	p := c.refPath(name)
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cache: writing ref %q: %w", name, err)
	}
	tmp, err := leftover.CreateTemp(dir, tempPrefix+"ref-*")
	if err != nil {
		return fmt.Errorf("cache: writing ref %q: %w", name, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			os.Remove(tmpName)
		}
	}()
	sum := sha256.Sum256(data)
	buf := make([]byte, 0, sha256.Size*2+1+len(data))
	buf = hex.AppendEncode(buf, sum[:])
	buf = append(buf, '\n')
	buf = append(buf, data...)
	_, werr := tmp.Write(buf)
	if werr == nil {
		werr = tmp.Chmod(0o644)
	}
	if werr == nil {
		// Renamed while still open (and locked): see internal/leftover.
		werr = os.Rename(tmpName, p)
	}
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("cache: writing ref %q: %w", name, werr)
	}
	return nil
}

// GetRef returns the data last stored under name. It returns an error
// wrapping ErrNotFound when the ref is missing or its content is corrupt.
func (c *Cache) GetRef(name string) ([]byte, error) {
	raw, err := os.ReadFile(c.refPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cache ref %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("cache: reading ref %q: %w", name, err)
	}
	head, data, ok := bytes.Cut(raw, []byte{'\n'})
	if !ok || !validSum(string(head)) {
		return nil, fmt.Errorf("cache ref %q is corrupt (bad header): %w", name, ErrNotFound)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != string(head) {
		return nil, fmt.Errorf("cache ref %q is corrupt (sha256 %s, header says %s): %w", name, got, head, ErrNotFound)
	}
	return data, nil
}
