// Package xzdict opens xz streams with a ceiling on the dictionary size
// their block headers claim. The xz decoder (ulikunitz/xz) allocates the
// LZMA2 dictionary a block header names (up to 4 GiB, from one byte) before
// decoding anything, and its ReaderConfig.DictCap is a floor, not a
// ceiling. NewReader therefore walks the container framing (stream header,
// block headers, LZMA2 chunk headers, index, footer) as the bytes pass to
// the decoder, without decompressing, and refuses a block header whose
// dictionary exceeds the ceiling before the decoder sees it.
//
// A block header that also carries the block's uncompressed size (as
// threaded xz, and so dpkg, writes it) has its dictionary lowered to the
// size of the block before the decoder sees it: Debian's control.tar.xz
// claims 8 MiB for a block of a few KiB, which the decoder would allocate
// and zero on every read.
package xzdict

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/ulikunitz/xz"

	"github.com/temper-dev/temper/internal/limits"
)

// Error is a block header claiming a dictionary past the ceiling.
type Error struct {
	Claimed int64 // bytes the block header claims
	Max     int64 // the ceiling
}

func (e *Error) Error() string {
	claim := limits.Human(e.Claimed)
	if e.Claimed == 1<<32-1 { // the largest code: 4 GiB less one byte
		claim = "4 GiB"
	}
	return fmt.Sprintf("xz block header claims a %s dictionary, past the limit of %s (TEMPER_LIMIT_XZ_DICT; Debian's xz uses at most 64 MiB)",
		claim, limits.Human(e.Max))
}

// NewReader returns a multi-stream xz reader of r that fails with an
// *Error (before any dictionary is allocated) on a block header whose
// LZMA2 dictionary is larger than max bytes.
func NewReader(r io.Reader, max int64) (io.Reader, error) {
	g := &guard{src: bufio.NewReaderSize(r, 64<<10), max: max}
	xr, err := xz.NewReader(g)
	if err != nil {
		if g.err != nil {
			return nil, g.err
		}
		return nil, err
	}
	return &reader{xr: xr, g: g}, nil
}

type reader struct {
	xr io.Reader
	g  *guard
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.xr.Read(p)
	if err != nil && err != io.EOF && r.g.err != nil {
		return n, r.g.err
	}
	return n, err
}

const (
	stStream = iota // a stream header, or stream padding, or the end
	stBlock         // a block header or the index
	stChunk         // an LZMA2 chunk header
	stOff           // unrecognised framing: pass everything; the decoder reports it
)

// guard passes r's bytes through, parsing the framing one unit ahead.
type guard struct {
	src     *bufio.Reader
	max     int64
	state   int
	streams int
	check   int   // check field size of the current stream
	n       int64 // bytes of the current block (header + data), for its padding
	pending []byte
	pass    int64 // bytes to pass through unparsed (chunk data)
	err     error // the ceiling error, once hit
	eof     bool
}

func (g *guard) Read(p []byte) (int, error) {
	for {
		if len(g.pending) > 0 {
			n := copy(p, g.pending)
			g.pending = g.pending[n:]
			return n, nil
		}
		if g.err != nil {
			return 0, g.err
		}
		if g.pass > 0 || g.state == stOff {
			q := p
			if g.state != stOff && int64(len(q)) > g.pass {
				q = q[:g.pass]
			}
			n, err := g.src.Read(q)
			g.pass -= int64(n)
			if n > 0 {
				return n, nil
			}
			if err == nil {
				continue
			}
			return 0, err
		}
		if g.eof {
			return 0, io.EOF
		}
		g.step()
	}
}

// take reads n bytes of framing into pending. On a short read the bytes
// read are still passed on and the input ends there: the decoder reports
// the truncation, as it would without the guard.
func (g *guard) take(n int) ([]byte, bool) {
	b := make([]byte, n)
	m, err := io.ReadFull(g.src, b)
	g.pending = append(g.pending, b[:m]...)
	if err != nil {
		g.eof = true
		return nil, false
	}
	return b, true
}

func (g *guard) varint() (uint64, bool) {
	var x uint64
	for i := 0; i < 9; i++ {
		b, ok := g.take(1)
		if !ok {
			return 0, false
		}
		x |= uint64(b[0]&0x7f) << (7 * i)
		if b[0]&0x80 == 0 {
			return x, true
		}
	}
	g.state = stOff
	return 0, false
}

var magic = []byte{0xfd, '7', 'z', 'X', 'Z', 0}

func checkSize(flags byte) int {
	t := int(flags & 0x0f)
	if t == 0 {
		return 0
	}
	return 4 << ((t - 1) / 3)
}

// step parses the next unit of framing.
func (g *guard) step() {
	switch g.state {
	case stStream:
		g.streamHeader()
	case stBlock:
		g.blockStart()
	case stChunk:
		g.chunk()
	}
}

// streamHeader reads a stream header (after the padding that may follow
// an earlier stream), turning the guard off if it is not one.
func (g *guard) streamHeader() {
	if g.streams > 0 {
		// Stream padding: groups of four zero bytes.
		for {
			b, err := g.src.Peek(4)
			if len(b) == 0 && err != nil {
				g.eof = true
				return
			}
			if len(b) < 4 || !bytes.Equal(b, []byte{0, 0, 0, 0}) {
				break
			}
			g.take(4)
		}
	}
	h, ok := g.take(12)
	if !ok {
		return
	}
	if !bytes.Equal(h[:6], magic) {
		g.state = stOff
		return
	}
	g.streams++
	g.check = checkSize(h[7])
	g.state = stBlock
}

// blockStart reads a block header, lowering its dictionary size in
// pending where blockHeader allows, or the stream's index.
func (g *guard) blockStart() {
	b, ok := g.take(1)
	if !ok {
		return
	}
	if b[0] == 0 {
		g.index()
		return
	}
	size := (int(b[0]) + 1) * 4
	h, ok := g.take(size - 1)
	if !ok {
		return
	}
	off, code, err := g.blockHeader(h[:len(h)-4])
	if err != nil {
		g.pending = g.pending[:len(g.pending)-size] // the decoder never sees it
		g.err = err
		return
	}
	if off >= 0 {
		lowerDict(g.pending[len(g.pending)-size:], 1+off, code)
	}
	g.n = int64(size)
	g.state = stChunk
}

// chunk reads the header of the block's next LZMA2 chunk, setting pass to
// the chunk's data that Read passes on as is, or the end of the block's
// data and its padding and check.
func (g *guard) chunk() {
	c, ok := g.take(1)
	if !ok {
		return
	}
	g.n++
	switch {
	case c[0] == 0: // end of the block's data: padding, then the check
		pad := int((4 - g.n%4) % 4)
		if _, ok := g.take(pad + g.check); !ok {
			return
		}
		g.state = stBlock
	case c[0] == 1 || c[0] == 2: // uncompressed chunk
		s, ok := g.take(2)
		if !ok {
			return
		}
		g.pass = int64(s[0])<<8 | int64(s[1]) + 1
		g.n += 2 + g.pass
	case c[0] >= 0x80: // LZMA chunk
		hl := 4
		if c[0] >= 0xc0 {
			hl = 5 // a properties byte
		}
		s, ok := g.take(hl)
		if !ok {
			return
		}
		g.pass = int64(s[2])<<8 | int64(s[3]) + 1
		g.n += int64(hl) + g.pass
	default:
		g.state = stOff
	}
}

// blockHeader checks the LZMA2 filter's dictionary size in a block header
// (h: the bytes after the size byte, without the CRC32). When the header
// carries the block's uncompressed size and the filter chain is LZMA2
// alone with a dictionary larger than that size (and 4 KiB), it returns
// the offset in h of the dictionary-size byte and the smallest code whose
// dictionary holds the whole block; off is -1 otherwise.
//
// A dictionary the size of the block decodes it exactly as the claimed
// one does: an LZMA2 match reaches back at most over the bytes decoded so
// far, which fit the smaller dictionary as long as the block is no longer
// than its header says; the decoder refuses a match past the data in its
// dictionary ("distance out of range") and a block longer than its header
// says ("wrong uncompressed size"), so a header that lies is an error,
// never different bytes. Debian's control.tar.xz (dpkg's threaded xz)
// claims 8 MiB for blocks of a few KiB, and the decoder allocates (and
// zeroes) the whole claim.
func (g *guard) blockHeader(h []byte) (off int, code byte, err error) {
	off = -1
	if len(h) < 1 {
		g.state = stOff
		return off, 0, nil
	}
	flags := h[0]
	r := bytes.NewReader(h[1:])
	vi := func() (uint64, bool) {
		var x uint64
		for i := 0; i < 9; i++ {
			b, err := r.ReadByte()
			if err != nil {
				return 0, false
			}
			x |= uint64(b&0x7f) << (7 * i)
			if b&0x80 == 0 {
				return x, true
			}
		}
		return 0, false
	}
	if flags&0x40 != 0 {
		if _, ok := vi(); !ok {
			return off, 0, nil
		}
	}
	usize := int64(-1)
	if flags&0x80 != 0 {
		u, ok := vi()
		if !ok {
			return off, 0, nil
		}
		if u < 1<<62 {
			usize = int64(u)
		}
	}
	filters := int(flags&3) + 1
	for range filters {
		id, ok := vi()
		if !ok {
			return -1, 0, nil
		}
		n, ok := vi()
		if !ok || n > uint64(r.Len()) {
			return -1, 0, nil
		}
		at := len(h) - r.Len()
		props := make([]byte, n)
		r.Read(props)
		if id == 0x21 && n == 1 {
			if d := dictSize(props[0]); d > g.max {
				return -1, 0, &Error{Claimed: d, Max: g.max}
			}
			if filters == 1 && usize >= 0 && props[0] <= 40 {
				if c := dictCode(max(usize, 4<<10)); c < props[0] {
					off, code = at, c
				}
			}
		}
	}
	return off, code, nil
}

// dictCode is the smallest dictionary-size code whose dictionary holds n
// bytes (40, the largest, past 4 GiB).
func dictCode(n int64) byte {
	for c := byte(0); c < 40; c++ {
		if dictSize(c) >= n {
			return c
		}
	}
	return 40
}

// lowerDict sets the dictionary-size byte at hdr[at] of the block header
// hdr (its size byte first, its CRC32 last) to code and recomputes the
// CRC32, if the header's CRC32 is right: a corrupt header is passed as it
// is, for the decoder to refuse.
func lowerDict(hdr []byte, at int, code byte) {
	n := len(hdr) - 4
	if crc32.ChecksumIEEE(hdr[:n]) != binary.LittleEndian.Uint32(hdr[n:]) {
		return
	}
	hdr[at] = code
	binary.LittleEndian.PutUint32(hdr[n:], crc32.ChecksumIEEE(hdr[:n]))
}

// dictSize decodes the LZMA2 dictionary-size byte (values past 40 are
// invalid; the decoder refuses them).
func dictSize(c byte) int64 {
	if c >= 40 {
		if c == 40 {
			return 1<<32 - 1
		}
		return 0
	}
	return int64(2|c&1) << (c/2 + 11)
}

// index parses an index (its indicator byte already taken) and the
// stream footer.
func (g *guard) index() {
	n := int64(1)
	count, ok := g.varint()
	if !ok {
		return
	}
	n += varintLen(count)
	for range count {
		for range 2 {
			v, ok := g.varint()
			if !ok {
				return
			}
			n += varintLen(v)
		}
	}
	pad := int((4 - n%4) % 4)
	if _, ok := g.take(pad + 4 + 12); !ok {
		return
	}
	g.state = stStream
}

func varintLen(v uint64) int64 {
	n := int64(1)
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
