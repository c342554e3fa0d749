package rootfs

import (
	"slices"
	"testing"
)

func TestRemoveFunc(t *testing.T) {
	f := New()
	for _, p := range []string{"a/b/c", "a/b-c", "a/bc/d", "x"} {
		if err := f.Put(&Entry{Path: p, Kind: File}); err != nil {
			t.Fatal(err)
		}
	}
	var called []string
	removed := f.RemoveFunc(func(e *Entry) bool {
		called = append(called, e.Path)
		return e.Path == "a/b" || e.Path == "x"
	})
	var got []string
	for _, e := range removed {
		got = append(got, e.Path)
	}
	if want := []string{"a/b", "a/b/c", "x"}; !slices.Equal(got, want) {
		t.Errorf("removed %q, want %q", got, want)
	}
	if slices.Contains(called, "a/b/c") || slices.Contains(called, "") {
		t.Errorf("fn called for %q", called)
	}
	if want := []string{"", "a", "a/b-c", "a/bc", "a/bc/d"}; !slices.Equal(f.Paths(), want) {
		t.Errorf("left %q, want %q", f.Paths(), want)
	}
}
