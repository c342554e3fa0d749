package shlibs

import (
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	got := Parse([]byte("# comment\nlibfoo 1 libfoo1 (>= 1.0)\nudeb: libfoo 1 libfoo1-udeb\nlibbar 2.1 libbar2\nlibssl 3.0 libssl3\nlibweird 1a libweird1a\nonlyone\n"))
	want := []string{"libfoo.so.1", "libfoo.so.1", "libbar.so.2", "libssl.so.3", "libweird-1a.so"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
