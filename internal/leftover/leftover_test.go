package leftover

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// A leftover (its writer gone) is removed; a live writer's file, a final
// file and a file of another prefix are not.
func TestClean(t *testing.T) {
	dir := t.TempDir()
	live, err := CreateTemp(dir, ".tmp-live-*")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	live.WriteString("being written")
	dead, _ := CreateTemp(dir, ".tmp-dead-*")
	dead.WriteString("half a blob")
	dead.Close() // the lock goes with the descriptor, as when a process dies
	os.WriteFile(filepath.Join(dir, "final"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, ".other"), []byte("x"), 0o644)
	if n := Clean(dir, ".tmp-"); n != 1 {
		t.Errorf("removed %d, want 1", n)
	}
	for _, name := range []string{filepath.Base(live.Name()), "final", ".other"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := os.Stat(dead.Name()); !os.IsNotExist(err) {
		t.Errorf("the leftover is still there: %v", err)
	}
}

// A writer killed with SIGKILL leaves a file whose lock the kernel has
// dropped: the next Clean removes it.
func TestCleanAfterKill(t *testing.T) {
	if os.Getenv("LEFTOVER_CHILD") != "" {
		f, _ := CreateTemp(os.Getenv("LEFTOVER_CHILD"), ".x.lock.yaml.tmp-*")
		f.WriteString("partial")
		os.Stdout.WriteString("ready\n")
		select {} // wait to be killed
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestCleanAfterKill$")
	cmd.Env = append(os.Environ(), "LEFTOVER_CHILD="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	if n := CleanMatch(dir, ".*.lock.yaml.tmp-*"); n != 0 {
		t.Fatalf("removed %d files of a live writer", n)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if n := CleanMatch(dir, ".*.lock.yaml.tmp-*"); n != 1 {
		t.Errorf("removed %d after the kill, want 1", n)
	}
}

// A temporary name that is a hard link to a file with another name (a
// layout blob linked from the layer cache while it is checked) is left
// alone: its lock cannot tell a live linker from a dead one.
func TestCleanSkipsHardLinks(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "cached")
	os.WriteFile(src, []byte("layer"), 0o644)
	link := filepath.Join(dir, ".tmp-abc-link-1")
	if err := os.Link(src, link); err != nil {
		t.Skip(err)
	}
	if n := Clean(dir, ".tmp-"); n != 0 {
		t.Errorf("removed %d, want 0", n)
	}
	if _, err := os.Stat(link); err != nil {
		t.Error(err)
	}
}
