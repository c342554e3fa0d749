package archive

import (
	"bytes"
	"errors"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/temper-dev/temper/internal/hostile"
	"github.com/temper-dev/temper/internal/limits"
	"github.com/temper-dev/temper/internal/xzdict"
)

// Decompression counts while it reads: an index that expands past the
// limit stops one byte past it, having allocated about the limit, never
// what the data expands to (64 MiB of zeros here, 1 MiB allowed).
func TestDecompressLimit(t *testing.T) {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(make([]byte, 64<<20))
	w.Close()
	for ext, data := range map[string][]byte{".xz": hostile.ZerosXZ(64 << 20), ".gz": gz.Bytes(), "": make([]byte, 2<<20)} {
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		_, err := decompress(ext, data, 1<<20)
		runtime.ReadMemStats(&b)
		if !errors.Is(err, errTooLarge) {
			t.Errorf("%q: got %v, want errTooLarge", ext, err)
		}
		if n := b.TotalAlloc - a.TotalAlloc; n > 16<<20 {
			t.Errorf("%q: allocated %d MiB decompressing with a 1 MiB limit", ext, n>>20)
		}
		out, err := decompress(ext, data, 64<<20)
		if err != nil || len(out) != 64<<20 && ext != "" {
			t.Errorf("%q within the limit: %d bytes, %v", ext, len(out), err)
		}
	}
}

// An index whose xz block header claims a 4 GiB dictionary is refused
// before the decoder allocates it, naming the limit.
func TestDecompressXZDictionary(t *testing.T) {
	defer limits.Set(limits.Limits{XZDict: 4 << 20})()
	comp := bytes.Clone(hostile.ZerosXZ(1 << 10))
	h := comp[12:]
	size := (int(h[0]) + 1) * 4
	if h[2] != 0x21 || h[3] != 1 {
		t.Fatalf("unexpected block header % x", h[:size])
	}
	h[4] = 40 // 4 GiB - 1
	crc := crc32.ChecksumIEEE(h[:size-4])
	h[size-4], h[size-3], h[size-2], h[size-1] = byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24)
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	_, err := decompress(".xz", comp, 1<<20)
	runtime.ReadMemStats(&b)
	var de *xzdict.Error
	if !errors.As(err, &de) || de.Max != 4<<20 || !strings.Contains(err.Error(), "TEMPER_LIMIT_XZ_DICT") {
		t.Fatalf("got %v, want the dictionary limit", err)
	}
	if n := b.TotalAlloc - a.TotalAlloc; n > 16<<20 {
		t.Errorf("allocated %d MiB refusing the dictionary", n>>20)
	}
	h[4] = 16 // 512 KiB: decodes
	crc = crc32.ChecksumIEEE(h[:size-4])
	h[size-4], h[size-3], h[size-2], h[size-1] = byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24)
	if out, err := decompress(".xz", comp, 1<<20); err != nil || len(out) != 1<<10 {
		t.Fatalf("512 KiB dictionary: %d bytes, %v", len(out), err)
	}
}
