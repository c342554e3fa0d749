package xzdict

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"testing"

	"github.com/ulikunitz/xz"
)

// The testdata streams were made by xz(1) 5.4.1 in threaded mode (-T2),
// which, like dpkg's threaded xz, writes each block's compressed and
// uncompressed sizes in its header and claims an 8 MiB dictionary:
//
//	sizes-1block.xz   xz -6 -T2 of payload()[:10240]: one block
//	sizes-3blocks.xz  xz -6 -T2 --block-size=16KiB of payload()[:40000]
//	repeat.xz         xz -6 -T2 of repeat(): 6000 random bytes twice
func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// repeat is 6000 random bytes, twice: its second half is one long match
// 6000 bytes back.
func repeat() []byte {
	r := rand.New(rand.NewPCG(5, 6))
	b := make([]byte, 6000)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return append(b, b...)
}

// passed is what the guard hands the decoder for comp.
func passed(t *testing.T, comp []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(&guard{src: bufio.NewReader(bytes.NewReader(comp)), max: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type header struct {
	off, size int
	usize     int64 // -1: not in the header
	dict      byte  // the LZMA2 dictionary-size code
}

// headers lists the block headers of a stream of single-filter LZMA2
// blocks whose headers carry both sizes (as xz -T writes them), or whose
// headers carry none (as this module's writer writes them); it fails the
// test on any other shape.
func headers(t *testing.T, comp []byte) []header {
	t.Helper()
	var hs []header
	off := 0
	for off < len(comp) {
		if bytes.Equal(comp[off:min(off+4, len(comp))], []byte{0, 0, 0, 0}) {
			off += 4
			continue
		}
		if !bytes.Equal(comp[off:off+6], magic) {
			t.Fatalf("no stream header at %d", off)
		}
		check := checkSize(comp[off+7])
		off += 12
		for comp[off] != 0 {
			h := header{off: off, size: (int(comp[off]) + 1) * 4, usize: -1}
			flags := comp[off+1]
			p := off + 2
			var csize int64 = -1
			switch flags {
			case 0:
			case 0xc0:
				c, n := binary.Uvarint(comp[p:])
				u, m := binary.Uvarint(comp[p+n:])
				csize, h.usize = int64(c), int64(u)
				p += n + m
			default:
				t.Fatalf("block header flags %#x", flags)
			}
			if comp[p] != 0x21 || comp[p+1] != 1 {
				t.Fatalf("block header % x", comp[off:off+h.size])
			}
			h.dict = comp[p+2]
			hs = append(hs, h)
			if csize < 0 {
				t.Fatal("a block without sizes: cannot find its end")
			}
			off += h.size + int(csize+3)&^3 + check
		}
		// The index and the footer.
		count, n := binary.Uvarint(comp[off+1:])
		p := off + 1 + n
		for range 2 * count {
			_, n := binary.Uvarint(comp[p:])
			p += n
		}
		off = (p+3)&^3 + 4 + 12
	}
	return hs
}

// Blocks whose headers carry their uncompressed size get a dictionary the
// size of the block (4 KiB at least) instead of the claimed 8 MiB: the
// guard changes the dictionary byte and the header CRC32 and nothing
// else, and the streams, one block or several, one stream or two with
// padding, decode to their input.
func TestDictionaryLowered(t *testing.T) {
	one, three := testdata(t, "sizes-1block.xz"), testdata(t, "sizes-3blocks.xz")
	data := payload()
	two := append(append(bytes.Clone(one), 0, 0, 0, 0), three...)
	want := append(bytes.Clone(data[:10240]), data[:40000]...)
	hs := headers(t, two)
	if len(hs) != 4 {
		t.Fatalf("%d block headers, want 4", len(hs))
	}
	out := passed(t, two)
	if len(out) != len(two) {
		t.Fatalf("guard passed %d bytes of %d", len(out), len(two))
	}
	// 10240 -> 12 KiB (code 3), 16384 -> 16 KiB (code 4), 7232 -> 8 KiB (code 2).
	wantDict := []byte{3, 4, 4, 2}
	ohs := headers(t, out)
	for i, h := range hs {
		if h.dict != 22 {
			t.Fatalf("block %d claims dictionary code %d, not xz -6's 22 (8 MiB)", i, h.dict)
		}
		if ohs[i].dict != wantDict[i] || dictSize(ohs[i].dict) < h.usize {
			t.Errorf("block %d (%d bytes): dictionary code %d, want %d", i, h.usize, ohs[i].dict, wantDict[i])
		}
		hdr := out[h.off : h.off+h.size]
		if crc32.ChecksumIEEE(hdr[:h.size-4]) != binary.LittleEndian.Uint32(hdr[h.size-4:]) {
			t.Errorf("block %d: header CRC32 not recomputed", i)
		}
		// Nothing else changed: restore the byte and the CRC32.
		copy(hdr, two[h.off:h.off+h.size])
	}
	if !bytes.Equal(out, two) {
		t.Error("the guard changed more than the dictionary bytes and header CRC32s")
	}
	for name, c := range map[string]struct {
		comp, want []byte
	}{"one block": {one, data[:10240]}, "three blocks": {three, data[:40000]}, "two streams": {two, want}} {
		got, err := read(t, c.comp, 64<<20)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s: %d bytes, %v; want the %d input bytes", name, len(got), err, len(c.want))
		}
		// The guard's output is a valid stream to the decoder alone.
		if got, err := bare(passed(t, c.comp)); err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s, guarded bytes, bare decoder: %d bytes, %v", name, len(got), err)
		}
	}
	// The ceiling applies to the claim, not to the lowered dictionary:
	// an 8 MiB claim under a 4 MiB ceiling is refused as before.
	var de *Error
	if _, err := read(t, one, 4<<20); !errors.As(err, &de) || de.Claimed != 8<<20 || de.Max != 4<<20 {
		t.Errorf("8 MiB claim under a 4 MiB ceiling: %v", err)
	}
}

// allocated is the bytes allocated by decoding comp with open.
func allocated(t testing.TB, comp []byte, open func(io.Reader) (io.Reader, error)) uint64 {
	const runs = 10
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		r, err := open(bytes.NewReader(comp))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / runs
}

func guarded(r io.Reader) (io.Reader, error) { return NewReader(r, 64<<20) }
func unguarded(r io.Reader) (io.Reader, error) {
	return xz.NewReader(r)
}

// A 10 KiB block claiming 8 MiB (a control.tar.xz's shape) allocates a
// dictionary of 12 KiB, not 8 MiB.
func TestDictionaryLoweredAllocates(t *testing.T) {
	one := testdata(t, "sizes-1block.xz")
	g, b := allocated(t, one, guarded), allocated(t, one, unguarded)
	t.Logf("10 KiB block claiming 8 MiB: %d bytes allocated per read guarded, %d by the decoder alone", g, b)
	if g >= 1<<20 {
		t.Errorf("guarded read allocates %d bytes, want < 1 MiB", g)
	}
	if b < 8<<20 {
		t.Errorf("the decoder alone allocates %d bytes: the test no longer shows the 8 MiB dictionary", b)
	}
}

// Streams made by xz(1) here, if installed, in the shapes dpkg writes
// (threaded: sizes in headers) and not: the same bytes as the input.
func TestDictionaryLoweredXZ(t *testing.T) {
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("xz(1) not installed; TestDictionaryLowered covers the committed streams")
	}
	data := payload()
	for _, n := range []int{0, 1, 4096, 10 << 10, 100 << 10, len(data)} {
		for _, args := range [][]string{{"-6", "-T2"}, {"-6", "-T2", "--block-size=64KiB"}, {"-6"}, {"-9", "-T2"}} {
			cmd := exec.Command("xz", append([]string{"-c"}, args...)...)
			cmd.Stdin = bytes.NewReader(data[:n])
			comp, err := cmd.Output()
			if err != nil {
				t.Fatalf("xz %v: %v", args, err)
			}
			got, err := read(t, comp, 64<<20)
			if err != nil || !bytes.Equal(got, data[:n]) {
				t.Errorf("xz %v of %d bytes: %d bytes, %v", args, n, len(got), err)
			}
		}
	}
}

// setUsize rewrites the uncompressed size in repeat.xz's block header
// (a two-byte varint: u must be in [128, 16383]) and its CRC32, so that
// the header lies and the decoder still reads it.
func setUsize(t *testing.T, comp []byte, u int) []byte {
	t.Helper()
	out := bytes.Clone(comp)
	hs := headers(t, out)
	h := hs[0]
	if h.usize != 12000 {
		t.Fatalf("repeat.xz: block claims %d bytes", h.usize)
	}
	hdr := out[h.off : h.off+h.size]
	_, n := binary.Uvarint(hdr[2:])
	if binary.PutUvarint(hdr[2+n:], uint64(u)) != 2 {
		t.Fatalf("size %d is not a two-byte varint", u)
	}
	binary.LittleEndian.PutUint32(hdr[h.size-4:], crc32.ChecksumIEEE(hdr[:h.size-4]))
	return out
}

// A block header that claims fewer bytes than its block holds gets a
// dictionary too small for its matches: the read fails, and the bytes it
// yields before failing are the block's own, never others.
func TestDictionaryLoweredHostile(t *testing.T) {
	comp, data := testdata(t, "repeat.xz"), repeat()
	if got, err := read(t, comp, 64<<20); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("repeat.xz: %d bytes, %v", len(got), err)
	}
	for _, u := range []int{128, 4096, 5000, 6000, 8000, 11999} {
		bad := setUsize(t, comp, u)
		lowered := headers(t, passed(t, bad))[0].dict
		need := int64(max(u, 4096))
		if dictSize(lowered) < need || lowered > 0 && dictSize(lowered-1) >= need {
			t.Fatalf("header claiming %d bytes: dictionary code %d, not lowered to fit", u, lowered)
		}
		got, err := read(t, bad, 64<<20)
		if err == nil {
			t.Errorf("header claiming %d of 12000 bytes (dictionary %d): no error", u, dictSize(lowered))
		}
		if !bytes.HasPrefix(data, got) {
			t.Errorf("header claiming %d bytes: %d bytes yielded are not the block's own", u, len(got))
		}
		t.Logf("header claiming %d bytes (dictionary %d): %d bytes, then %v", u, dictSize(lowered), len(got), err)
	}
}

// Blocks whose headers carry no sizes (this module's writer, xz(1)
// single-threaded) pass the guard byte for byte.
func TestNoSizesUntouched(t *testing.T) {
	data := payload()
	streams := [][]byte{
		compressGo(t, data, xz.WriterConfig{}),
		compressGo(t, data, xz.WriterConfig{BlockSize: 100 << 10}),
		append(append(compressGo(t, data[:1000], xz.WriterConfig{}), 0, 0, 0, 0), compressGo(t, data[1000:], xz.WriterConfig{})...),
	}
	if _, err := exec.LookPath("xz"); err == nil {
		for _, args := range [][]string{{"-6"}, {"-0"}, {"--lzma2=dict=1MiB"}} {
			cmd := exec.Command("xz", append([]string{"-c"}, args...)...)
			cmd.Stdin = bytes.NewReader(data)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("xz %v: %v", args, err)
			}
			streams = append(streams, out)
		}
	}
	for i, comp := range streams {
		if out := passed(t, comp); !bytes.Equal(out, comp) {
			t.Errorf("stream %d: the guard changed bytes of a stream without sizes in its headers", i)
		}
	}
}

// Decoding a 10 KiB block claiming an 8 MiB dictionary (a control.tar.xz)
// through the guard and with the decoder alone: bytes allocated per read.
func BenchmarkSmallBlock(b *testing.B) {
	one := testdata(b, "sizes-1block.xz")
	for _, c := range []struct {
		name string
		open func(io.Reader) (io.Reader, error)
	}{{"guarded", guarded}, {"decoder-alone", unguarded}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(10240)
			for b.Loop() {
				r, err := c.open(bytes.NewReader(one))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Truncated and corrupt streams with sizes in their headers fail when the
// decoder alone fails, and succeed (with the same bytes) when it
// succeeds. On failure the two decode the same bytes, but may hand out
// different numbers of them before the error: the dictionary is also the
// decoder's output buffer, so a 16 KiB one yields decoded bytes sooner
// than an 8 MiB one (as it always did for blocks past 8 MiB). As with
// any streaming xz decoder, bytes before an error are unverified (the
// block's check comes at its end); the error always follows.
func TestDictionaryLoweredCorrupt(t *testing.T) {
	comp := testdata(t, "sizes-3blocks.xz")
	check := func(what string, b []byte) {
		g, gerr := read(t, b, 64<<20)
		w, werr := bare(b)
		if (gerr == nil) != (werr == nil) || gerr == nil && !bytes.Equal(g, w) || gerr != nil && !bytes.HasPrefix(w, g) && !bytes.HasPrefix(g, w) {
			t.Errorf("%s: guarded %d bytes, %v; bare %d bytes, %v", what, len(g), gerr, len(w), werr)
		}
	}
	for n := range len(comp) {
		if n < 64 || n%97 == 0 || n > len(comp)-64 {
			check("truncated", comp[:n])
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 1000 {
		b := bytes.Clone(comp)
		b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
		check("corrupt", b)
	}
	// Corrupt block headers: a wrong CRC32 is passed on unchanged.
	for _, h := range headers(t, comp) {
		for i := 1; i < h.size; i++ {
			b := bytes.Clone(comp)
			b[h.off+i] ^= 0x10
			check("corrupt header", b)
		}
	}
}
