package vuln

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// The compact index format: a magic, the string table, then the records by
// release and source, each record six string-table indices and a status
// byte with flags, all as uvarints. Decoding converts the blob to one
// string and slices the table out of it, and records are read straight
// into pointer-free structs, so a warm load allocates the table, the maps
// and the record slices only.
//
// Format 2 stores each record's description index (format 1 kept a map of
// descriptions by id). A cached index of another format is not read: it is
// rebuilt from the JSON (the cache ref carries the format too).
const indexMagic = "temper-vuln-index/2\n"

// MarshalBinary encodes the index deterministically: the table as built
// (file order), releases and sources in sorted order.
func (ix *Index) MarshalBinary() ([]byte, error) {
	size := len(indexMagic) + 8
	for _, s := range ix.strs {
		size += len(s) + 2
	}
	out := make([]byte, 0, size+ix.Len()*12)
	out = append(out, indexMagic...)
	put := func(v uint64) { out = binary.AppendUvarint(out, v) }
	put(uint64(len(ix.strs)))
	for _, s := range ix.strs {
		put(uint64(len(s)))
		out = append(out, s...)
	}
	// Release and source names are table strings only here.
	names := map[string]uint64{}
	name := func(s string) uint64 {
		if i, ok := names[s]; ok {
			return i
		}
		i := uint64(len(names))
		names[s] = i
		return i
	}
	rels := ix.Releases()
	var body []byte
	putb := func(v uint64) { body = binary.AppendUvarint(body, v) }
	putb(uint64(len(rels)))
	for _, rel := range rels {
		srcs := ix.releases[rel]
		keys := sortedKeys(srcs)
		putb(name(rel))
		putb(uint64(len(keys)))
		for _, src := range keys {
			recs := srcs[src]
			putb(name(src))
			putb(uint64(len(recs)))
			for i := range recs {
				r := &recs[i]
				putb(uint64(r.id))
				putb(uint64(r.fixed))
				putb(uint64(r.urgency))
				putb(uint64(r.reason))
				putb(uint64(r.comment))
				putb(uint64(r.desc))
				putb(uint64(r.status) | uint64(r.flags)<<4)
			}
		}
	}
	// The names table follows the strings table, then the body.
	list := make([]string, len(names))
	for s, i := range names {
		list[i] = s
	}
	put(uint64(len(list)))
	for _, s := range list {
		put(uint64(len(s)))
		out = append(out, s...)
	}
	return append(out, body...), nil
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

// decoder reads uvarints and strings from one string.
type decoder struct {
	s   string
	off int
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

// table reads a string table.
func (d *decoder) table() []string {
	tab := make([]string, d.count())
	for i := range tab {
		n := d.count()
		if d.err != nil {
			return nil
		}
		tab[i] = d.s[d.off : d.off+n]
		d.off += n
	}
	return tab
}

// index reads an index into a table of n strings.
func (d *decoder) index(n int) uint32 {
	i := d.uvarint()
	if i >= uint64(n) {
		d.err = errCorruptIndex
		return 0
	}
	return uint32(i)
}

// name reads an index into names and returns the name.
func (d *decoder) name(names []string) string {
	i := d.index(len(names))
	if d.err != nil {
		return ""
	}
	return names[i]
}

// UnmarshalIndex decodes what MarshalBinary wrote; a blob of another
// format is refused, never misread.
func UnmarshalIndex(data []byte) (*Index, error) {
	s := string(data)
	if len(s) < len(indexMagic) || s[:len(indexMagic)] != indexMagic {
		return nil, fmt.Errorf("vulnerability index: not a temper index of format %q", indexMagic[:len(indexMagic)-1])
	}
	d := &decoder{s: s, off: len(indexMagic)}
	ix := &Index{strs: d.table()}
	names := d.table()
	if d.err == nil && (len(ix.strs) == 0 || ix.strs[0] != "") {
		d.err = errCorruptIndex
	}
	ns := len(ix.strs)
	nrel := d.count()
	ix.releases = make(map[string]map[string][]rec, nrel)
	for range nrel {
		rel := d.name(names)
		nsrc := d.count()
		srcs := make(map[string][]rec, nsrc)
		for range nsrc {
			src := d.name(names)
			recs := make([]rec, d.count())
			for i := range recs {
				r := &recs[i]
				r.id, r.fixed, r.urgency, r.reason, r.comment, r.desc = d.index(ns), d.index(ns), d.index(ns), d.index(ns), d.index(ns), d.index(ns)
				flags := d.uvarint()
				r.status, r.flags = TrackerStatus(flags&0xf), uint8(flags>>4)&(flagNVD|flagNoDSA)
			}
			if d.err != nil {
				return nil, d.err
			}
			srcs[src] = recs
		}
		ix.releases[rel] = srcs
	}
	if d.err == nil && d.off != len(s) {
		d.err = errCorruptIndex
	}
	if d.err != nil {
		return nil, d.err
	}
	return ix, nil
}
