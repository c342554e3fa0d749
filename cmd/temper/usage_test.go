package main

import (
	"context"
	"testing"
)

// Usage errors exit 2 (README.md, "Exit status"): an unknown command, a
// missing argument, a required flag not set, a bad flag.
func TestUsageExit(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"archive", "show"},
		{"archive", "show", "python3"},
		{"lock"},
		{"build"},
		{"build", "--no-such-flag", "x.yaml"},
	} {
		if got := run(context.Background(), args); got != exitUsage {
			t.Errorf("temper %v: exit %d, want %d", args, got, exitUsage)
		}
	}
}
