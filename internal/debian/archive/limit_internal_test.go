package archive

import (
	"bytes"
	"errors"
	"runtime"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/temper-dev/temper/internal/hostile"
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
