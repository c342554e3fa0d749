package deb_test

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/hostile"
	"github.com/temper-dev/temper/internal/limits"
	"github.com/temper-dev/temper/internal/xzdict"
)

// claimDict rewrites the dictionary byte of an xz stream's first block
// header (a single LZMA2 filter, as this module's writer makes) and the
// header's CRC32.
func claimDict(t *testing.T, comp []byte, c byte) []byte {
	t.Helper()
	out := bytes.Clone(comp)
	h := out[12:]
	size := (int(h[0]) + 1) * 4
	if h[1]&0xc3 != 0 || h[2] != 0x21 || h[3] != 1 {
		t.Fatalf("unexpected block header % x", h[:size])
	}
	h[4] = c
	crc := crc32.ChecksumIEEE(h[:size-4])
	h[size-4], h[size-3], h[size-2], h[size-1] = byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24)
	return out
}

// A data.tar.xz whose block header claims a 4 GiB dictionary is refused
// before the decoder allocates it (Walk and Transcode allocate a few MiB),
// naming the package, the member and the limit; the same tar claiming a
// dictionary under the limit unpacks.
func TestXZDictionaryLimit(t *testing.T) {
	defer limits.Set(limits.Limits{XZDict: 8 << 20})()
	data := hostile.ZerosTarXZ(1 << 16)
	bad := hostile.Deb(ctl, nil, "data.tar.xz", claimDict(t, data, 40))
	d, err := deb.Open("evil_1.0_amd64.deb", bad)
	var werr error
	if err == nil {
		n := allocated(func() { werr = readAllEntries(d) })
		if n > 64<<20 {
			t.Errorf("Walk allocated %d bytes", n)
		}
	} else {
		werr = err
	}
	var de *xzdict.Error
	if !errors.As(werr, &de) || de.Claimed != 1<<32-1 || de.Max != 8<<20 {
		t.Fatalf("Walk: %v, want the dictionary limit", werr)
	}
	for _, s := range []string{"evil_1.0_amd64.deb", "data.tar.xz", "8 MiB", "TEMPER_LIMIT_XZ_DICT"} {
		if !bytes.Contains([]byte(werr.Error()), []byte(s)) {
			t.Errorf("error %q does not name %q", werr, s)
		}
	}
	var terr error
	n := allocated(func() { _, terr = deb.Transcode(context.Background(), "evil_1.0_amd64.deb", bad) })
	if terr == nil || !bytes.Contains([]byte(terr.Error()), []byte("evil_1.0_amd64.deb")) || !bytes.Contains([]byte(terr.Error()), []byte("claims a 4 GiB dictionary, past the limit of 8 MiB (TEMPER_LIMIT_XZ_DICT")) {
		t.Errorf("Transcode: %v, want the dictionary limit naming the package", terr)
	}
	if n > 64<<20 {
		t.Errorf("Transcode allocated %d bytes", n)
	}

	good := hostile.Deb(ctl, nil, "data.tar.xz", claimDict(t, data, 18)) // 1 MiB
	d, err = deb.Open("evil_1.0_amd64.deb", good)
	if err != nil {
		t.Fatal(err)
	}
	if err := readAllEntries(d); err != nil {
		t.Fatalf("1 MiB dictionary under an 8 MiB limit: %v", err)
	}
}
