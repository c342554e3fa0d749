package deb

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/limits"
)

func memoDeb(t testing.TB, version, postinst string) []byte {
	t.Helper()
	return debtest.Build(t, debtest.Spec{
		Control:            "Package: m\nVersion: " + version + "\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: m",
		Files:              []debtest.File{{Path: "usr/bin/m", Data: []byte("m " + version)}},
		Scripts:            map[string]string{"postinst": postinst},
		ControlCompression: "xz",
	})
}

// withMemo replaces the process's control memo for the test.
func withMemo(t *testing.T, max int64) *controlMemo {
	t.Helper()
	old := controls
	controls = newControlMemo(max)
	t.Cleanup(func() { controls = old })
	return controls
}

func control(t testing.TB, data []byte) map[string][]byte {
	t.Helper()
	d, err := Open("m.deb", data)
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := d.Control()
	if err != nil {
		t.Fatal(err)
	}
	return ctl
}

// A control member read twice is read from memory the second time, with
// the same files; a .deb with another control member (same name, other
// version and scripts) gets its own files, never the first one's.
func TestControlMemoServesSameMemberOnly(t *testing.T) {
	m := withMemo(t, controlMemoMax)
	a, b := memoDeb(t, "1", "#!/bin/sh\necho a\n"), memoDeb(t, "2", "#!/bin/sh\necho b\n")
	first := control(t, a)
	if n, _ := m.stats(); n != 1 {
		t.Fatalf("%d entries after one read, want 1", n)
	}
	again := control(t, a)
	if fmt.Sprint(first) != fmt.Sprint(again) {
		t.Errorf("second read differs:\n%q\n%q", first, again)
	}
	other := control(t, b)
	if !strings.Contains(string(other["control"]), "Version: 2") || string(other["postinst"]) != "#!/bin/sh\necho b\n" {
		t.Errorf("other .deb's control files: %q", other)
	}
	if n, _ := m.stats(); n != 2 {
		t.Errorf("%d entries after two .debs, want 2", n)
	}
	// The caller's map and appends never reach the memo.
	again["control"] = append(again["control"], "X-Changed: yes\n"...)
	delete(again, "postinst")
	if third := control(t, a); fmt.Sprint(first) != fmt.Sprint(third) {
		t.Errorf("the memo changed with a caller's map:\n%q\n%q", first, third)
	}
}

// The memo keeps at most its bound, dropping the least recently used.
func TestControlMemoBounded(t *testing.T) {
	one := control(t, memoDeb(t, "0", "#!/bin/sh\n"))
	var size int64
	for name, b := range one {
		size += int64(len(name) + len(b))
	}
	m := withMemo(t, 3*size+size/2) // room for 3 such entries
	var debs [][]byte
	for i := range 5 {
		debs = append(debs, memoDeb(t, "1", fmt.Sprintf("#!/bin/sh\n#%d\n", i)))
	}
	for _, d := range debs {
		control(t, d)
	}
	n, used := m.stats()
	if n != 3 || used > m.max {
		t.Fatalf("%d entries, %d bytes kept (bound %d), want 3", n, used, m.max)
	}
	for i, d := range debs {
		_, ok := m.get(keyOf(mustOpen(t, d).control))
		if want := i >= 2; ok != want {
			t.Errorf(".deb %d kept %v, want %v (least recently used out)", i, ok, want)
		}
	}
	// Larger than the bound: not kept, still read.
	big := memoDeb(t, "1", "#!/bin/sh\n"+strings.Repeat("# padding\n", int(m.max)))
	if got := control(t, big); len(got["postinst"]) < int(m.max) {
		t.Errorf("big postinst read as %d bytes", len(got["postinst"]))
	}
	if n2, used2 := m.stats(); n2 != 3 || used2 != used {
		t.Errorf("a member over the bound changed the memo: %d entries, %d bytes", n2, used2)
	}
}

func mustOpen(t testing.TB, data []byte) *Deb {
	t.Helper()
	d, err := Open("m.deb", data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Failed reads are not kept: a corrupt member fails every time; a
// tighter xz dictionary limit is applied to a member read before under a
// looser one.
func TestControlMemoKeepsNoFailures(t *testing.T) {
	m := withMemo(t, controlMemoMax)
	good := memoDeb(t, "1", "#!/bin/sh\n")
	d := mustOpen(t, good)
	body := bytes.Clone(d.control.body)
	body[len(body)/2] ^= 0xff
	bad := debtest.Ar(
		debtest.Member{Name: "debian-binary", Data: []byte("2.0\n")},
		debtest.Member{Name: d.control.name, Data: body},
		debtest.Member{Name: d.data.name, Data: d.data.body},
	)
	for range 2 {
		if _, err := mustOpen(t, bad).Control(); err == nil {
			t.Fatal("a corrupt control member was read")
		}
	}
	if n, _ := m.stats(); n != 0 {
		t.Errorf("%d entries after failures, want 0", n)
	}
	control(t, good)
	func() {
		defer limits.Set(limits.Limits{XZDict: 1024})()
		if _, err := mustOpen(t, good).Control(); err == nil {
			t.Error("the control member was served from memory past a tighter xz dictionary limit")
		}
	}()
}

// Concurrent reads of the same and of different members agree with a
// fresh read (run with -race).
func TestControlMemoConcurrent(t *testing.T) {
	withMemo(t, 8<<10) // small: entries come and go while read
	var debs [][]byte
	var want []string
	for i := range 6 {
		d := memoDeb(t, fmt.Sprint(i), fmt.Sprintf("#!/bin/sh\n#%d\n", i))
		debs = append(debs, d)
		files, err := mustOpen(t, d).readControl()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprint(files))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				k := (g + i) % len(debs)
				ctl, err := mustOpen(t, debs[k]).Control()
				if err != nil {
					t.Error(err)
					return
				}
				if fmt.Sprint(ctl) != want[k] {
					t.Errorf(".deb %d: got %q", k, ctl)
				}
			}
		}()
	}
	wg.Wait()
}

// The order of eviction: a get makes an entry the most recent; putting a
// key kept already neither replaces nor moves it.
func TestControlMemoEvictionOrder(t *testing.T) {
	files := map[string][]byte{"control": make([]byte, 93)} // 100 bytes
	key := func(i byte) controlKey { return controlKey{sum: [32]byte{i}, comp: "xz"} }
	kept := func(m *controlMemo) (s string) {
		for i := range byte(6) {
			if _, ok := m.get(key(i)); ok {
				s += fmt.Sprint(i)
			}
		}
		return s
	}
	m := newControlMemo(300)
	m.put(key(0), files)
	m.put(key(1), files)
	m.put(key(2), files)
	m.get(key(0))
	m.put(key(3), files) // 1 goes
	if n, used := m.stats(); n != 3 || used != 300 {
		t.Errorf("%d entries, %d bytes; want 3, 300", n, used)
	}
	m2 := newControlMemo(300)
	m2.put(key(0), files)
	m2.put(key(1), files)
	m2.put(key(2), files)
	m2.put(key(0), map[string][]byte{"control": []byte("other")}) // kept already
	m2.put(key(3), files)                                         // 0 goes
	if got := kept(m); got != "023" {
		t.Errorf("kept %s, want 023 (a get moves to the front)", got)
	}
	if got := kept(m2); got != "123" {
		t.Errorf("kept %s, want 123 (a second put of a key does not move it)", got)
	}
}
