package deb_test

import (
	"archive/tar"
	"context"
	"io"
	"testing"

	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/hostile"
	"github.com/temper-dev/temper/internal/limits"
)

// FuzzDeb feeds the ar, tar and decompression readers arbitrary bytes
// with small limits: every input ends in an error or a result, never a
// panic, a hang or an allocation past the limits. The seed corpus is in
// testdata/fuzz/FuzzDeb (hostile .debs: lying headers, bombs, devices).
func FuzzDeb(f *testing.F) {
	f.Add(hostile.Deb(hostile.Control("a", "1", "amd64"), map[string]string{"postinst": "#!/bin/sh\n"}, "data.tar",
		hostile.Tar(&tar.Header{Name: "./a", Typeflag: tar.TypeReg, Size: 3, Mode: 0o644})))
	f.Add(hostile.Deb(hostile.Control("a", "1", "amd64"), nil, "data.tar.xz", hostile.ZerosTarXZ(1<<16)))
	restore := limits.Set(limits.Limits{Deb: 1 << 20, Member: 1 << 20, Image: 4 << 20, RatioFloor: 1 << 20, Ratio: 100})
	f.Cleanup(restore)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := deb.Open("fuzz.deb", data)
		if err != nil {
			return
		}
		d.Control()
		d.Walk(func(hdr *tar.Header, r io.Reader) error {
			if hdr.Typeflag == tar.TypeReg {
				_, err := deb.ReadEntry(r, hdr.Size)
				return err
			}
			return nil
		})
		deb.Transcode(context.Background(), "fuzz.deb", data)
	})
}
