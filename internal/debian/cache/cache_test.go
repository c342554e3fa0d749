package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

func sumOf(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

func newCache(t *testing.T) *Cache {
	t.Helper()
	c, err := Open(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// files returns every regular file under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	for _, f := range files(t, dir) {
		if strings.HasPrefix(filepath.Base(f), tempPrefix) {
			t.Errorf("temporary file left behind: %s", f)
		}
	}
}

func TestDefaultDir(t *testing.T) {
	d, err := DefaultDir()
	if err != nil {
		t.Skipf("no user cache dir: %v", err)
	}
	if filepath.Base(d) != "temper" {
		t.Errorf("DefaultDir() = %q, want .../temper", d)
	}
}

func TestRoundTrip(t *testing.T) {
	c := newCache(t)
	data := []byte("Package: hello\nVersion: 2.10-3\n")
	sum := sumOf(data)
	if c.Has(sum) {
		t.Fatal("Has before Write")
	}
	if _, err := c.Read(sum); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Read of missing entry: %v, want ErrNotFound", err)
	}
	if err := c.WriteBytes(sum, data); err != nil {
		t.Fatal(err)
	}
	if !c.Has(sum) {
		t.Fatal("Has after Write = false")
	}
	want := filepath.Join(c.Dir, "sha256", sum[:2], sum)
	if c.Path(sum) != want {
		t.Errorf("Path = %s, want %s", c.Path(sum), want)
	}
	fi, err := os.Stat(want)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("entry mode %v, want 0644", fi.Mode().Perm())
	}
	got, err := c.Read(sum)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("Read = %q, want %q", got, data)
	}
	// Writing again (unknown size) is fine and keeps the entry.
	if err := c.Write(sum, -1, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(sum); err != nil {
		t.Fatal(err)
	}
	if c.Has(sum) {
		t.Fatal("Has after Remove")
	}
	if err := c.Remove(sum); err != nil {
		t.Fatalf("Remove of missing entry: %v", err)
	}
	assertNoTemp(t, c.Dir)
}

func TestInvalidKey(t *testing.T) {
	c := newCache(t)
	for _, k := range []string{"", "abc", strings.Repeat("A", 64), "../" + strings.Repeat("a", 61)} {
		if err := c.WriteBytes(k, nil); err == nil {
			t.Errorf("WriteBytes(%q) succeeded", k)
		}
		if _, err := c.Read(k); err == nil {
			t.Errorf("Read(%q) succeeded", k)
		}
		if c.Has(k) {
			t.Errorf("Has(%q) = true", k)
		}
	}
}

func TestCorruptEntryRemoved(t *testing.T) {
	c := newCache(t)
	data := []byte("original content")
	sum := sumOf(data)
	if err := c.WriteBytes(sum, data); err != nil {
		t.Fatal(err)
	}
	bad := []byte("tampered content")
	if err := os.WriteFile(c.Path(sum), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := c.Read(sum)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Read of corrupt entry: %v, want ErrNotFound", err)
	}
	want := fmt.Sprintf("cache entry %s was corrupt (sha256 %s); removed", sum, sumOf(bad))
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	if c.Has(sum) {
		t.Error("corrupt entry still present")
	}
}

func TestHashMismatchLeavesNothing(t *testing.T) {
	c := newCache(t)
	data := []byte("some data")
	other := sumOf([]byte("other data"))
	err := c.WriteBytes(other, data)
	if err == nil {
		t.Fatal("Write with wrong hash succeeded")
	}
	for _, s := range []string{"sha256 mismatch", other, sumOf(data)} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
	if c.Has(other) {
		t.Error("entry written despite mismatch")
	}
	if f := files(t, c.Dir); len(f) != 0 {
		t.Errorf("files left: %v", f)
	}
}

func TestSizeMismatch(t *testing.T) {
	c := newCache(t)
	data := []byte("0123456789")
	sum := sumOf(data)
	for _, size := range []int64{5, 11} {
		err := c.Write(sum, size, bytes.NewReader(data))
		if err == nil {
			t.Fatalf("Write with size %d succeeded", size)
		}
		if !strings.Contains(err.Error(), "size mismatch") || !strings.Contains(err.Error(), fmt.Sprint(size)) {
			t.Errorf("size %d: error %q should name the size mismatch", size, err)
		}
		if c.Has(sum) {
			t.Fatalf("size %d: entry written", size)
		}
	}
	if f := files(t, c.Dir); len(f) != 0 {
		t.Errorf("files left: %v", f)
	}
}

func TestTruncatedReaderLeavesNothing(t *testing.T) {
	c := newCache(t)
	data := bytes.Repeat([]byte("x"), 100000)
	sum := sumOf(data)
	r := io.MultiReader(bytes.NewReader(data[:5000]), iotest.ErrReader(io.ErrUnexpectedEOF))
	err := c.Write(sum, int64(len(data)), r)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Write = %v, want io.ErrUnexpectedEOF", err)
	}
	if c.Has(sum) {
		t.Error("entry written from truncated reader")
	}
	if f := files(t, c.Dir); len(f) != 0 {
		t.Errorf("files left: %v", f)
	}
}

func TestRefs(t *testing.T) {
	c := newCache(t)
	name := "inrelease http://mirror.example/debian/dists/bookworm"
	if _, err := c.GetRef(name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetRef missing: %v", err)
	}
	for _, v := range []string{"first", "second, longer value\n", ""} {
		if err := c.PutRef(name, []byte(v)); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetRef(name)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != v {
			t.Fatalf("GetRef = %q, want %q", got, v)
		}
	}
	if err := c.PutRef(name, []byte("a value that will be torn")); err != nil {
		t.Fatal(err)
	}
	p := c.refPath(name)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for label, content := range map[string][]byte{
		"torn":      raw[:len(raw)-3],
		"flipped":   append(append([]byte{}, raw[:len(raw)-1]...), 'X'),
		"no header": []byte("just data"),
		"empty":     nil,
	} {
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := c.GetRef(name); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s ref: GetRef = %q, %v; want ErrNotFound", label, got, err)
		}
	}
	// Distinct names do not collide.
	if err := c.PutRef("a", []byte("A")); err != nil {
		t.Fatal(err)
	}
	if err := c.PutRef("b", []byte("B")); err != nil {
		t.Fatal(err)
	}
	if a, _ := c.GetRef("a"); string(a) != "A" {
		t.Errorf("ref a = %q", a)
	}
	assertNoTemp(t, c.Dir)
}

// Concurrency test: entries are deterministic functions of their index so
// that the helper process and the test agree on them.

const (
	helperEnv   = "TEMPER_CACHE_TEST_HELPER_DIR"
	nShared     = 8
	nPerWriter  = 4
	nGoroutines = 6
	rounds      = 3
)

func entry(kind string, i int) []byte {
	// Large enough to take several write calls.
	return bytes.Repeat([]byte(fmt.Sprintf("%s entry %d;", kind, i)), 20000+i*1000)
}

// writeSet writes the shared entries and this writer's own entries.
func writeSet(c *Cache, writer string) error {
	for r := 0; r < rounds; r++ {
		for i := 0; i < nShared; i++ {
			d := entry("shared", i)
			if err := c.Write(sumOf(d), int64(len(d)), bytes.NewReader(d)); err != nil {
				return err
			}
			// Readers must never see a partial file.
			if got, err := c.Read(sumOf(d)); err != nil || !bytes.Equal(got, d) {
				return fmt.Errorf("reading shared %d: %v", i, err)
			}
		}
		for i := 0; i < nPerWriter; i++ {
			d := entry(writer, i)
			if err := c.Write(sumOf(d), -1, bytes.NewReader(d)); err != nil {
				return err
			}
		}
		if err := c.PutRef("shared-ref", entry("ref", r)); err != nil {
			return err
		}
		if _, err := c.GetRef("shared-ref"); err != nil {
			return fmt.Errorf("GetRef: %v", err)
		}
	}
	return nil
}

// TestHelperProcess is not a real test: it is run as a separate process by
// TestConcurrentWriters.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process for TestConcurrentWriters")
	}
	c, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := writeSet(c, "process"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func TestConcurrentWriters(t *testing.T) {
	c := newCache(t)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+c.Dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, nGoroutines)
	for g := 0; g < nGoroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := writeSet(c, fmt.Sprintf("goroutine-%d", g)); err != nil {
				errs <- fmt.Errorf("goroutine %d: %w", g, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v\n%s", err, stderr.String())
	}

	want := map[string][]byte{}
	for i := 0; i < nShared; i++ {
		d := entry("shared", i)
		want[sumOf(d)] = d
	}
	for _, w := range []string{"process", "goroutine-0", "goroutine-1", "goroutine-2", "goroutine-3", "goroutine-4", "goroutine-5"} {
		for i := 0; i < nPerWriter; i++ {
			d := entry(w, i)
			want[sumOf(d)] = d
		}
	}
	for sum, d := range want {
		got, err := c.Read(sum)
		if err != nil {
			t.Errorf("entry %s: %v", sum, err)
			continue
		}
		if !bytes.Equal(got, d) {
			t.Errorf("entry %s: wrong content", sum)
		}
	}
	ref, err := c.GetRef("shared-ref")
	if err != nil || !bytes.Equal(ref, entry("ref", rounds-1)) {
		t.Errorf("shared-ref = %d bytes, %v; want the last round's value", len(ref), err)
	}
	entries := 0
	for _, f := range files(t, c.Dir) {
		if strings.HasPrefix(f, "sha256"+string(filepath.Separator)) {
			entries++
		}
	}
	if entries != len(want) {
		t.Errorf("%d entries on disk, want %d", entries, len(want))
	}
	assertNoTemp(t, c.Dir)
}
