package deb_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/hostile"
	"github.com/temper-dev/temper/internal/limits"
)

// allocated runs fn and returns the bytes it allocated on the heap.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func readAllEntries(d *deb.Deb) error {
	return d.Walk(func(h *tar.Header, r io.Reader) error {
		if h.Typeflag == tar.TypeReg {
			_, err := deb.ReadEntry(r, h.Size)
			return err
		}
		return nil
	})
}

func mustLimit(t *testing.T, err error, subs ...string) {
	t.Helper()
	var le *deb.LimitError
	if !errors.As(err, &le) {
		t.Fatalf("got %v, want a limit error", err)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}
}

var ctl = hostile.Control("evil", "1.0", "amd64")

// A data.tar header that claims 1 TB (or just more than the per-file
// limit, or more than the .deb's unpacked budget) is refused before
// anything is allocated for it, with the default limits.
func TestHeaderClaims(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int64
		want string
	}{
		{"1TB", 1 << 40, "per-file limit of 4 GiB"},
		{"10GB", 10 << 30, "per-file limit of 4 GiB"},
		{"3GB", 3 << 30, "its header claims 3221225472 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := hostile.Deb(ctl, nil, "data.tar", hostile.ClaimingTar("./usr/bin/big", tc.size, []byte("tiny")))
			d, err := deb.Open("evil_1.0_amd64.deb", b)
			if err != nil {
				t.Fatal(err)
			}
			var werr error
			n := allocated(func() { werr = readAllEntries(d) })
			mustLimit(t, werr, "evil_1.0_amd64.deb", "data.tar", "./usr/bin/big", tc.want)
			if n > 8<<20 {
				t.Errorf("allocated %d bytes refusing it", n)
			}
		})
	}
}

// A header whose claim fits the limits but whose data is missing costs
// at most the first 16 MiB chunk, not the claim.
func TestHeaderClaimWithinLimits(t *testing.T) {
	defer limits.Set(limits.Limits{RatioFloor: 1 << 30})()
	b := hostile.Deb(ctl, nil, "data.tar", hostile.ClaimingTar("./big", 900<<20, []byte("tiny")))
	d, _ := deb.Open("evil_1.0_amd64.deb", b)
	var werr error
	n := allocated(func() { werr = readAllEntries(d) })
	if werr == nil || !strings.Contains(werr.Error(), "evil_1.0_amd64.deb") {
		t.Fatalf("got %v, want a truncation error naming the .deb", werr)
	}
	if n > 40<<20 {
		t.Errorf("allocated %d bytes for a 900 MiB claim with 4 bytes of data", n)
	}
}

// An xz bomb of zeros stops at the ratio limit, in Walk and in Transcode,
// with memory bounded by the limit, not by what it would expand to.
func TestZeroBomb(t *testing.T) {
	defer limits.Set(limits.Limits{RatioFloor: 1 << 20, Ratio: 100})()
	data := hostile.ZerosTarXZ(32 << 20) // ~5 KiB of xz
	b := hostile.Deb(ctl, nil, "data.tar.xz", data)
	d, err := deb.Open("evil_1.0_amd64.deb", b)
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	n := allocated(func() { werr = readAllEntries(d) })
	mustLimit(t, werr, "evil_1.0_amd64.deb", "data.tar.xz", "./zeros", "unpacked size limit of 1048576 bytes")
	if n > 24<<20 {
		t.Errorf("Walk allocated %d bytes", n)
	}
	var terr error
	n = allocated(func() { _, terr = deb.Transcode(context.Background(), "evil_1.0_amd64.deb", b) })
	mustLimit(t, terr, "evil_1.0_amd64.deb", "data.tar.xz", "unpacked size limit of 1048576 bytes", "TEMPER_LIMIT_RATIO_FLOOR")
	if n > 24<<20 {
		t.Errorf("Transcode allocated %d bytes", n)
	}
	// Zeros after the end of the tar archive are a bomb too.
	tail := hostile.ZerosXZ(32 << 20)
	d, _ = deb.Open("evil_1.0_amd64.deb", hostile.Deb(ctl, nil, "data.tar.xz", tail))
	mustLimit(t, readAllEntries(d), "evil_1.0_amd64.deb", "after the end of the tar archive")
}

// The ratio limit scales with the compressed size; the image ceiling
// caps it.
func TestRatioLimit(t *testing.T) {
	defer limits.Set(limits.Limits{RatioFloor: 16, Ratio: 2, Image: 1 << 30})()
	b := hostile.Deb(ctl, nil, "data.tar", hostile.Tar(&tar.Header{Name: "./f", Typeflag: tar.TypeReg, Size: 8 << 10, Mode: 0o644}))
	d, _ := deb.Open("evil_1.0_amd64.deb", b)
	// Uncompressed: ratio 1, within 2×.
	if err := readAllEntries(d); err != nil {
		t.Fatal(err)
	}
	gz := hostile.Deb(ctl, nil, "data.tar.xz", hostile.ZerosTarXZ(64<<10))
	d, _ = deb.Open("evil_1.0_amd64.deb", gz)
	mustLimit(t, readAllEntries(d), "2× its")
}

// A .deb larger than the per-.deb limit is refused by Open.
func TestDebLimit(t *testing.T) {
	defer limits.Set(limits.Limits{Deb: 1000})()
	b := hostile.Deb(ctl, nil, "data.tar", hostile.Tar(&tar.Header{Name: "./f", Typeflag: tar.TypeReg, Size: 4000, Mode: 0o644}))
	_, err := deb.Open("evil_1.0_amd64.deb", b)
	mustLimit(t, err, "evil_1.0_amd64.deb", "per-.deb limit of 1000 bytes")
}

// A negative size in a tar header is an error, not a panic.
func TestReadEntryNegative(t *testing.T) {
	if _, err := deb.ReadEntry(strings.NewReader(""), -1); err == nil {
		t.Error("no error")
	}
	if b, err := deb.ReadEntry(strings.NewReader(strings.Repeat("x", 20<<20)), 20<<20); err != nil || len(b) != 20<<20 {
		t.Errorf("20 MiB entry: %d bytes, %v", len(b), err)
	}
}
