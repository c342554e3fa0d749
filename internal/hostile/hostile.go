// Package hostile builds the inputs an attacker would serve temper, for
// tests: .debs whose tar headers lie, decompression bombs, device nodes,
// maintainer scripts that nest, double or loop. Everything is made in
// memory, small; the tests make the limits small to match.
package hostile

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/ulikunitz/xz"

	"github.com/temper-dev/temper/internal/debian/debtest"
)

// Control is a control stanza for package name.
func Control(name, version, arch string, extra ...string) string {
	s := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: t <t@example.org>\nDescription: hostile test package\n", name, version, arch)
	for _, e := range extra {
		s += e + "\n"
	}
	return s
}

// Deb is an ar archive with debian-binary, control.tar.gz holding control
// (and the scripts), and dataMember (e.g. "data.tar.xz") holding data as
// given.
func Deb(control string, scripts map[string]string, dataMember string, data []byte) []byte {
	var ct bytes.Buffer
	gz := gzip.NewWriter(&ct)
	tw := tar.NewWriter(gz)
	add := func(name, body string, mode int64) {
		tw.WriteHeader(&tar.Header{Name: "./" + name, Mode: mode, Size: int64(len(body)), Typeflag: tar.TypeReg, Format: tar.FormatGNU})
		tw.Write([]byte(body))
	}
	add("control", control, 0o644)
	for n, b := range scripts {
		add(n, b, 0o755)
	}
	tw.Close()
	gz.Close()
	return debtest.Ar(
		debtest.Member{Name: "debian-binary", Data: []byte("2.0\n")},
		debtest.Member{Name: "control.tar.gz", Data: ct.Bytes()},
		debtest.Member{Name: dataMember, Data: data},
	)
}

// ClaimingTar is a tar whose one entry's header claims size bytes but
// which holds only the given bytes before it ends: a 1 TB member in a few
// hundred bytes.
func ClaimingTar(name string, size int64, have []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// WriteHeader writes the header at once; the content is never
	// completed, so Close's error is expected.
	tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, Format: tar.FormatPAX})
	tw.Write(have)
	return buf.Bytes()
}

// Tar is a well-formed tar of the entries.
func Tar(entries ...*tar.Header) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range entries {
		tw.WriteHeader(h)
		if h.Typeflag == tar.TypeReg && h.Size > 0 {
			io.CopyN(tw, zeros{}, h.Size)
		}
	}
	tw.Close()
	return buf.Bytes()
}

// ZerosTarXZ is an xz-compressed tar holding one file of n zero bytes: a
// few KiB that unpack to n bytes.
func ZerosTarXZ(n int64) []byte {
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err != nil {
		panic(err)
	}
	tw := tar.NewWriter(w)
	tw.WriteHeader(&tar.Header{Name: "./zeros", Mode: 0o644, Size: n, Typeflag: tar.TypeReg})
	io.CopyN(tw, zeros{}, n)
	tw.Close()
	w.Close()
	return buf.Bytes()
}

// ZerosTarGz is a gzip-compressed tar holding one file of n zero bytes,
// made of gzip members of 256 MiB of zeros each (a multi-member stream,
// as gzip allows): identical members are compressed once and repeated,
// so a 16 GiB bomb costs a fraction of a second to make and seconds of
// CPU to decompress.
func ZerosTarGz(n int64) []byte {
	const chunk = 256 << 20
	gz := func(prefix []byte, zeroBytes int64) []byte {
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		w.Write(prefix)
		io.CopyN(w, zeros{}, zeroBytes)
		w.Close()
		return buf.Bytes()
	}
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	tw.WriteHeader(&tar.Header{Name: "./zeros", Mode: 0o644, Size: n, Typeflag: tar.TypeReg})
	tw.Flush()
	// The file, its padding to 512 bytes and the two end blocks: zeros.
	rest := (n+511)/512*512 + 1024
	var out bytes.Buffer
	first := min(rest, chunk)
	out.Write(gz(hdr.Bytes(), first))
	rest -= first
	var full []byte
	for rest > 0 {
		m := min(rest, chunk)
		if m == chunk {
			if full == nil {
				full = gz(nil, chunk)
			}
			out.Write(full)
		} else {
			out.Write(gz(nil, m))
		}
		rest -= m
	}
	return out.Bytes()
}

// ZerosXZ is n zero bytes, xz-compressed (not even a tar).
func ZerosXZ(n int64) []byte {
	var buf bytes.Buffer
	w, _ := xz.NewWriter(&buf)
	io.CopyN(w, zeros{}, n)
	w.Close()
	return buf.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Scripts are maintainer scripts that attack the evaluator.
var Scripts = map[string]string{
	// Nesting deeper than any stack: if, $(...), { } and functions.
	"nested-if":    strings.Repeat("if true; then ", 50000) + "ucf /a /b" + strings.Repeat("; fi", 50000) + "\n",
	"nested-subst": "x=" + strings.Repeat("$(", 200000) + "echo" + strings.Repeat(")", 200000) + "\nucf /a /b\n",
	"nested-group": strings.Repeat("{ ", 100000) + "ucf /a /b" + strings.Repeat("; }", 100000) + "\n",
	"nested-quote": "x=" + strings.Repeat("\"$(", 100000) + "echo" + strings.Repeat(")\"", 100000) + "\n",
	"recursion":    "f() { f; f; }\nf\nucf /a /b\n",
	// A variable that doubles each round: 2^40 bytes if allowed.
	"doubling": "x=ab\nfor i in " + strings.Repeat("1 ", 40) + "; do x=\"$x$x\"; done\nucf /a /b\n",
	// Doubling the positional parameters, and a word list that explodes.
	"doubling-list": "set -- a b\nfor i in " + strings.Repeat("1 ", 40) + "; do set -- \"$@\" \"$@\"; done\nfor x in $@; do :; done\n",
	// A loop that never ends: nested fors over a long list, and a
	// function that calls itself from a loop.
	"endless":      "l=\"" + strings.Repeat("x ", 1000) + "\"\nfor a in $l; do for b in $l; do for c in $l; do ucf /a /b; done; done; done\n",
	"endless-func": "f() { for i in 1 2 3; do f; done; }\nf\n",
	// Cheap steps that each cost a lot: a 512 KiB string copied, a
	// 32 Ki-field list passed to a function and "$*" joined, in loops of
	// 10^9 iterations; a case pattern that path.Match tries at every
	// position of a 512 KiB string. Found by fuzzing: a run of heredoc
	// operators, which the lexer once rescanned for each one.
	"copying":  big + "for a in $l; do for b in $l; do y=\"$x\"; done; done\nucf /a /b\n",
	"list-arg": big + "g() { :; }\nf() { for a in $l; do g $l; y=\"$*\"; done; }\nf $l\nucf /a /b\n",
	"matching": big + "for a in $l; do case \"$x\" in *" + strings.Repeat("a", 1000) + "b) ucf /a /b ;; esac; done\n",
	"heredocs": "ucf /a /b\ncat " + strings.Repeat("<<", 400000) + "\nucf /c /d\n",
}

// big sets x to 512 KiB of "a" and l to a list of 32768 fields, by
// doubling.
const big = "x=a\nfor i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19; do x=\"$x$x\"; done\n" +
	"l=\"1 \"\nfor i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do l=\"$l$l\"; done\n"

// SparseTar is a tar holding one GNU sparse member (old GNU format, type
// 'S') named name whose header claims an apparent size of realSize bytes
// of which only the last 512 are data: a 10 GB file in 2 KiB.
func SparseTar(name string, realSize int64) []byte {
	hdr := make([]byte, 512)
	octal := func(off, width int, v int64) {
		copy(hdr[off:off+width], fmt.Sprintf("%0*o", width-1, v))
	}
	copy(hdr[0:100], name)
	octal(100, 8, 0o644)
	octal(108, 8, 0)
	octal(116, 8, 0)
	octal(124, 12, 512) // bytes stored in the archive
	octal(136, 12, 0)
	hdr[156] = 'S'
	copy(hdr[257:265], "ustar  \x00")
	copy(hdr[265:], "root")
	copy(hdr[297:], "root")
	// One sparse entry: the last 512 bytes of the apparent file.
	octal(386, 12, realSize-512)
	octal(398, 12, 512)
	octal(483, 12, realSize)
	copy(hdr[148:156], "        ")
	sum := 0
	for _, b := range hdr {
		sum += int(b)
	}
	copy(hdr[148:156], fmt.Sprintf("%06o\x00 ", sum))
	out := append(hdr, bytes.Repeat([]byte("x"), 512)...)
	return append(out, make([]byte, 1024)...)
}
