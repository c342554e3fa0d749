package index

import (
	"encoding/binary"
	"unsafe"
)

// str returns b as a string sharing b's memory.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// interner shares the string for each distinct value of a repetitive
// field. It is an open-addressing hash set with a cheap hash: the generic map
// was a tenth of Parse's time.
type interner struct {
	last  string
	slots []string // len is a power of two; "" marks a free slot
	n     int
}

func newInterner(size int) interner {
	return interner{slots: make([]string, size)}
}

func (t *interner) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if string(b) == t.last {
		return t.last
	}
	mask := uint64(len(t.slots) - 1)
	for i := hashBytes(b) & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == "" {
			s = string(b)
			t.slots[i] = s
			t.n++
			if 2*t.n > len(t.slots) {
				t.grow()
			}
			t.last = s
			return s
		}
		if s == string(b) {
			t.last = s
			return s
		}
	}
}

func (t *interner) grow() {
	old := t.slots
	t.slots = make([]string, 2*len(old))
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s == "" {
			continue
		}
		i := hashBytes(unsafe.Slice(unsafe.StringData(s), len(s))) & mask
		for t.slots[i] != "" {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// hashBytes mixes the length and the first, middle and last eight bytes of
// b (Maintainer values share long prefixes and suffixes).
func hashBytes(b []byte) uint64 {
	n := len(b)
	var x, y, z uint64
	if n >= 8 {
		x = binary.LittleEndian.Uint64(b)
		y = binary.LittleEndian.Uint64(b[n/2-4:])
		z = binary.LittleEndian.Uint64(b[n-8:])
	} else {
		for i, c := range b {
			x |= uint64(c) << (8 * i)
		}
	}
	h := (x ^ uint64(n)) * 0x9E3779B97F4A7C15
	h = (h ^ y ^ h>>29) * 0xBF58476D1CE4E5B9
	h = (h ^ z ^ h>>32) * 0x94D049BB133111EB
	return h ^ h>>31
}
