package xzdict

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/ulikunitz/xz"
)

func payload() []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for b.Len() < 1<<20 {
		if r.IntN(2) == 0 {
			b.WriteString("the quick brown fox jumps over the lazy dog ")
		} else {
			var w [64]byte
			for i := range w {
				w[i] = byte(r.Uint32())
			}
			b.Write(w[:])
		}
	}
	return b.Bytes()
}

func compressGo(t *testing.T, data []byte, cfg xz.WriterConfig) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := cfg.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func read(t *testing.T, comp []byte, max int64) ([]byte, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(comp), max)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// Well-formed streams (one block or many, several streams with padding,
// every check type, from this decoder's writer and from xz(1)) decode to
// their input under a ceiling at their dictionary size.
func TestValidStreams(t *testing.T) {
	data := payload()
	cases := map[string][]byte{
		"go default":    compressGo(t, data, xz.WriterConfig{}),
		"go blocks":     compressGo(t, data, xz.WriterConfig{BlockSize: 200 << 10, CheckSum: xz.SHA256}),
		"go crc32":      compressGo(t, data, xz.WriterConfig{CheckSum: xz.CRC32}),
		"go none":       compressGo(t, data, xz.WriterConfig{CheckSum: xz.None, NoCheckSum: true}),
		"go two+padded": append(append(compressGo(t, data[:1000], xz.WriterConfig{}), 0, 0, 0, 0, 0, 0, 0, 0), compressGo(t, data[1000:], xz.WriterConfig{})...),
	}
	if _, err := exec.LookPath("xz"); err == nil {
		for name, args := range map[string][]string{
			"xz -6":         {"-6"},
			"xz blocks":     {"-6", "--block-size=300KiB", "--check=crc64"},
			"xz -0 crc32":   {"-0", "--check=crc32"},
			"xz dict=1MiB":  {"--lzma2=dict=1MiB"},
			"xz sha256 -e9": {"-9e", "--check=sha256"},
		} {
			cmd := exec.Command("xz", append([]string{"-c"}, args...)...)
			cmd.Stdin = bytes.NewReader(data)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("xz %v: %v", args, err)
			}
			cases[name] = out
		}
	} else {
		t.Log("xz(1) not installed: only this module's writer's streams are tested")
	}
	for name, comp := range cases {
		got, err := read(t, comp, 64<<20)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%s: decoded %d bytes, not the input's %d", name, len(got), len(data))
		}
	}
	// xz -9 uses a 64 MiB dictionary: a 32 MiB ceiling refuses it.
	if comp, ok := cases["xz sha256 -e9"]; ok {
		var de *Error
		if _, err := read(t, comp, 32<<20); !errors.As(err, &de) || de.Claimed != 64<<20 {
			t.Errorf("xz -9 under a 32 MiB ceiling: %v", err)
		}
	}
}

// setDict rewrites the dictionary byte of the first block header's LZMA2
// filter (and the header's CRC32): a stream claiming another dictionary.
func setDict(t *testing.T, comp []byte, c byte) []byte {
	t.Helper()
	out := bytes.Clone(comp)
	h := out[12:] // after the stream header
	size := (int(h[0]) + 1) * 4
	// Single-filter header from this module's writer: size, flags,
	// filter id 0x21, props size 1, dictionary byte.
	if h[1]&0xc3 != 0 || h[2] != 0x21 || h[3] != 1 {
		t.Fatalf("unexpected block header % x", h[:size])
	}
	h[4] = c
	crc := crc32.ChecksumIEEE(h[:size-4])
	h[size-4], h[size-3], h[size-2], h[size-1] = byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24)
	return out
}

// A block header claiming a huge dictionary is refused before the decoder
// sees it (so before it allocates), with the claim and the ceiling named;
// the same stream claiming a dictionary under the ceiling decodes.
func TestHugeDictionaryRefused(t *testing.T) {
	data := []byte("hello, dictionary\n")
	comp := compressGo(t, data, xz.WriterConfig{})
	for _, c := range []struct {
		b     byte
		claim int64
	}{{40, 1<<32 - 1}, {39, 3 << 30}, {38, 2 << 30}, {30, 128 << 20}, {29, 96 << 20}} {
		_, err := read(t, setDict(t, comp, c.b), 16<<20)
		var de *Error
		if !errors.As(err, &de) {
			t.Fatalf("dictionary byte %d: %v, want *Error", c.b, err)
		}
		if de.Claimed != c.claim || de.Max != 16<<20 {
			t.Errorf("dictionary byte %d: %+v", c.b, de)
		}
		if msg := err.Error(); !bytes.Contains([]byte(msg), []byte("16 MiB")) || !bytes.Contains([]byte(msg), []byte("TEMPER_LIMIT_XZ_DICT")) {
			t.Errorf("message %q names neither the limit nor its variable", msg)
		}
	}
	got, err := read(t, setDict(t, comp, 20), 16<<20) // 2 MiB
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("2 MiB dictionary under a 16 MiB ceiling: %q, %v", got, err)
	}
}

// bare decodes comp with the decoder alone.
func bare(comp []byte) ([]byte, error) {
	r, err := xz.NewReader(bytes.NewReader(comp))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// On truncated and corrupt streams the guard changes nothing: the same
// bytes and the same failure (or, where the decoder accepts a stream cut
// right after a header, the same success) as the decoder alone; never a
// hang or a panic.
func TestCorrupt(t *testing.T) {
	comp := compressGo(t, payload()[:100000], xz.WriterConfig{BlockSize: 20000})
	same := func(what string, b []byte) {
		g, gerr := read(t, b, 64<<20)
		w, werr := bare(b)
		if (gerr == nil) != (werr == nil) || !bytes.Equal(g, w) {
			t.Errorf("%s: guarded %d bytes, %v; bare %d bytes, %v", what, len(g), gerr, len(w), werr)
		}
	}
	for _, n := range []int{0, 5, 12, 13, 40, len(comp) / 2, len(comp) - 13, len(comp) - 1} {
		same("truncated", comp[:n])
		if n > 13 {
			if _, err := read(t, comp[:n], 64<<20); err == nil {
				t.Errorf("truncated at %d of %d: no error", n, len(comp))
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		b := bytes.Clone(comp)
		b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
		same("corrupt", b)
	}
}
