package vuln

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// The compact index format: a magic, a string table, then the records by
// release and source, then the descriptions, all as uvarints (strings as
// indices into the table). Decoding converts the blob to one string and
// slices the table out of it, so a warm load allocates little beyond the
// maps and record slices.
const indexMagic = "temper-vuln-index/1\n"

// strtab interns strings while encoding.
type strtab struct {
	idx  map[string]uint64
	list []string
}

func (t *strtab) id(s string) uint64 {
	if i, ok := t.idx[s]; ok {
		return i
	}
	i := uint64(len(t.list))
	t.idx[s] = i
	t.list = append(t.list, s)
	return i
}

// MarshalBinary encodes the index deterministically (releases, sources
// and descriptions in sorted order).
func (ix *Index) MarshalBinary() ([]byte, error) {
	t := &strtab{idx: map[string]uint64{}}
	var body []byte
	put := func(v uint64) { body = binary.AppendUvarint(body, v) }
	rels := ix.Releases()
	put(uint64(len(rels)))
	for _, rel := range rels {
		srcs := ix.releases[rel]
		names := sortedKeys(srcs)
		put(t.id(rel))
		put(uint64(len(names)))
		for _, src := range names {
			recs := srcs[src]
			put(t.id(src))
			put(uint64(len(recs)))
			for _, r := range recs {
				put(t.id(r.ID))
				put(t.id(r.FixedVersion))
				put(t.id(r.Urgency))
				put(t.id(r.NoDSAReason))
				put(t.id(r.Comment))
				put(uint64(r.Status) | boolBit(r.UrgencyFromNVD, 4) | boolBit(r.NoDSA, 5))
			}
		}
	}
	ids := sortedKeys(ix.descriptions)
	put(uint64(len(ids)))
	for _, id := range ids {
		put(t.id(id))
		put(t.add(ix.descriptions[id]))
	}
	out := []byte(indexMagic)
	out = binary.AppendUvarint(out, uint64(len(t.list)))
	for _, s := range t.list {
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	return append(out, body...), nil
}

// add appends s without interning: descriptions are unique per id, and
// hashing megabytes of them only to find no duplicates is a fifth of a
// cold load.
func (t *strtab) add(s string) uint64 {
	t.list = append(t.list, s)
	return uint64(len(t.list) - 1)
}

func boolBit(b bool, bit uint) uint64 {
	if b {
		return 1 << bit
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var errCorruptIndex = errors.New("vulnerability index: corrupt or truncated")

// decoder reads uvarints and table strings from one string.
type decoder struct {
	s   string
	off int
	tab []string
	err error
}

func (d *decoder) uvarint() uint64 {
	var v uint64
	var shift uint
	for d.err == nil {
		if d.off >= len(d.s) || shift > 63 {
			d.err = errCorruptIndex
			return 0
		}
		c := d.s[d.off]
		d.off++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
		shift += 7
	}
	return 0
}

func (d *decoder) str() string {
	i := d.uvarint()
	if i >= uint64(len(d.tab)) {
		d.err = errCorruptIndex
		return ""
	}
	return d.tab[i]
}

// count reads a length and rejects one larger than the bytes left, so a
// corrupt blob cannot ask for a huge allocation.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.off) {
		d.err = errCorruptIndex
		return 0
	}
	return int(n)
}

// UnmarshalIndex decodes what MarshalBinary wrote.
func UnmarshalIndex(data []byte) (*Index, error) {
	s := string(data)
	if len(s) < len(indexMagic) || s[:len(indexMagic)] != indexMagic {
		return nil, fmt.Errorf("vulnerability index: not a temper index (format %q)", indexMagic[:len(indexMagic)-1])
	}
	d := &decoder{s: s, off: len(indexMagic)}
	d.tab = make([]string, d.count())
	for i := range d.tab {
		n := d.count()
		if d.err != nil {
			return nil, d.err
		}
		d.tab[i] = s[d.off : d.off+n]
		d.off += n
	}
	ix := &Index{releases: map[string]map[string][]Record{}}
	for range d.count() {
		rel := d.str()
		nsrc := d.count()
		srcs := make(map[string][]Record, nsrc)
		for range nsrc {
			src := d.str()
			recs := make([]Record, d.count())
			for i := range recs {
				r := &recs[i]
				r.ID, r.FixedVersion, r.Urgency, r.NoDSAReason, r.Comment = d.str(), d.str(), d.str(), d.str(), d.str()
				flags := d.uvarint()
				r.Status, r.UrgencyFromNVD, r.NoDSA = TrackerStatus(flags&0xf), flags&(1<<4) != 0, flags&(1<<5) != 0
			}
			srcs[src] = recs
		}
		ix.releases[rel] = srcs
	}
	n := d.count()
	ix.descriptions = make(map[string]string, n)
	for range n {
		id := d.str()
		ix.descriptions[id] = d.str()
	}
	if d.err == nil && d.off != len(s) {
		d.err = errCorruptIndex
	}
	if d.err != nil {
		return nil, d.err
	}
	return ix, nil
}
