// Package deb reads Debian binary packages (.deb files) held in memory: the
// ar container, the control.tar member (control, md5sums, maintainer
// scripts, ...) and a streaming walk over the data.tar member, with every
// compression dpkg-deb accepts.
//
// It reads what dpkg-deb reads and refuses, with an error that names the
// .deb and the member, what dpkg-deb refuses: a missing or wrong
// debian-binary, members out of order, unknown members before data.tar and
// unknown compressions. It never runs or interprets maintainer scripts.
package deb

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/temper-dev/temper/internal/limits"
)

// Deb is a parsed .deb held in memory. It is safe for concurrent use: every
// Walk decompresses data.tar afresh (Control may serve the control files
// from memory).
type Deb struct {
	name    string
	control member
	data    member
}

// member is one ar member of the .deb.
type member struct {
	name string // e.g. "data.tar.xz"
	comp string // "xz", "zst", "gz", "bz2", "lzma" or "none"
	body []byte
}

const (
	arMagic      = "!<arch>\n"
	arHeaderSize = 60

	// MaxControlSize bounds the uncompressed size of control.tar, so a
	// corrupt or hostile control member cannot exhaust memory. The largest
	// control.tar in Debian (big md5sums and symbols files) is a few MiB.
	MaxControlSize = 256 << 20
)

// Open parses the ar container of a .deb: "!<arch>\n", then the members
// debian-binary ("2.0\n"), control.tar[.gz|.xz|.zst] and
// data.tar[.xz|.zst|.gz|.bz2|.lzma], in that order. As in dpkg-deb,
// members whose name starts with "_" (e.g. debsigs' _gpgorigin) are skipped
// wherever they appear, any other member before data.tar is an error, and
// nothing after data.tar is read. name is used in errors only (e.g.
// "python3_3.11.2-1+b1_amd64.deb").
//
// Open does not decompress anything; Control and Walk do. data is retained,
// not copied: the caller must not modify it afterwards.
func Open(name string, data []byte) (*Deb, error) {
	d := &Deb{name: name}
	if l := limits.Get(); int64(len(data)) > l.Deb {
		return nil, &LimitError{What: "deb " + name, Limit: fmt.Sprintf("the per-.deb limit of %s (TEMPER_LIMIT_DEB): it is %d bytes", limits.Human(l.Deb), len(data))}
	}
	if len(data) == 0 {
		return nil, d.errorf("empty file: not a Debian binary package")
	}
	if !bytes.HasPrefix(data, []byte(arMagic)) {
		if len(data) < len(arMagic) && bytes.HasPrefix([]byte(arMagic), data) {
			return nil, d.errorf("truncated: %d bytes, no ar header", len(data))
		}
		return nil, d.errorf("not a Debian binary package: no ar magic %q", arMagic)
	}
	off := len(arMagic)
	seenVersion := false
	for {
		if off == len(data) {
			switch {
			case !seenVersion:
				return nil, d.errorf("empty ar archive: no debian-binary member")
			case d.control.name == "":
				return nil, d.errorf("missing control.tar member")
			default:
				return nil, d.errorf("missing data.tar member")
			}
		}
		m, next, err := readArMember(data, off)
		if err != nil {
			return nil, d.errorf("%v", err)
		}
		off = next
		switch {
		case !seenVersion:
			if m.name != "debian-binary" {
				return nil, d.errorf("first ar member is %q, not debian-binary: not a Debian binary package", m.name)
			}
			if string(m.body) != "2.0\n" {
				return nil, d.errorf("debian-binary: unsupported format version %q (want \"2.0\\n\")", truncate(m.body, 16))
			}
			seenVersion = true
		case strings.HasPrefix(m.name, "_"):
			// Reserved for tools (e.g. signatures); dpkg-deb skips these.
		case d.control.name == "":
			comp, ok := strings.CutPrefix(m.name, "control.tar")
			if !ok {
				return nil, d.errorf("unexpected member %q before control.tar", m.name)
			}
			c, ok := controlCompressions[comp]
			if !ok {
				return nil, d.errorf("member %q: unknown compression %q for control.tar", m.name, comp)
			}
			m.comp = c
			d.control = m
		default:
			comp, ok := strings.CutPrefix(m.name, "data.tar")
			if !ok {
				return nil, d.errorf("unexpected member %q before data.tar", m.name)
			}
			c, ok := dataCompressions[comp]
			if !ok {
				return nil, d.errorf("member %q: unknown compression %q for data.tar", m.name, comp)
			}
			m.comp = c
			d.data = m
			return d, nil
		}
	}
}

var controlCompressions = map[string]string{"": "none", ".gz": "gz", ".xz": "xz", ".zst": "zst"}

var dataCompressions = map[string]string{
	"": "none", ".gz": "gz", ".xz": "xz", ".zst": "zst", ".bz2": "bz2", ".lzma": "lzma",
}

// readArMember reads the member whose header starts at off and returns it
// with the offset of the next header.
func readArMember(data []byte, off int) (member, int, error) {
	if len(data)-off < arHeaderSize {
		return member{}, 0, fmt.Errorf("truncated ar member header at offset %d (%d of %d bytes)", off, len(data)-off, arHeaderSize)
	}
	h := data[off : off+arHeaderSize]
	// Names are space padded; GNU ar ends them with "/".
	name := strings.TrimRight(string(h[0:16]), " ")
	name = strings.TrimSuffix(name, "/")
	if string(h[58:60]) != "`\n" {
		return member{}, 0, fmt.Errorf("corrupt ar member header at offset %d (member %q): bad terminator %q", off, printable(name), h[58:60])
	}
	if name == "" || !isPrintable(name) {
		return member{}, 0, fmt.Errorf("corrupt ar member header at offset %d: bad member name %q", off, h[0:16])
	}
	sizeField := strings.TrimRight(string(h[48:58]), " ")
	size, err := strconv.ParseUint(sizeField, 10, 63)
	if err != nil || sizeField == "" || sizeField[0] == '+' {
		return member{}, 0, fmt.Errorf("member %q: bad ar size field %q", name, h[48:58])
	}
	start := off + arHeaderSize
	if size > uint64(len(data)-start) {
		return member{}, 0, fmt.Errorf("member %q truncated: header says %d bytes, %d remain", name, size, len(data)-start)
	}
	end := start + int(size)
	next := end
	if size%2 == 1 && next < len(data) {
		next++ // ar pads members to an even offset
	}
	return member{name: name, body: data[start:end:end]}, next, nil
}

// Name returns the name given to Open.
func (d *Deb) Name() string { return d.name }

// DataCompression returns the compression of data.tar: "xz", "zst", "gz",
// "bz2", "lzma" or "none".
func (d *Deb) DataCompression() string { return d.data.comp }

// ControlCompression returns the compression of control.tar: "xz", "zst",
// "gz" or "none".
func (d *Deb) ControlCompression() string { return d.control.comp }

// DataMember returns the name of the data member, e.g. "data.tar.xz".
func (d *Deb) DataMember() string { return d.data.name }

// ControlMember returns the name of the control member, e.g. "control.tar.xz".
func (d *Deb) ControlMember() string { return d.control.name }

// Control returns the files of control.tar keyed by name without the
// leading "./": "control" (required), and when present "md5sums",
// "conffiles", "preinst", "postinst", "prerm", "postrm", "shlibs",
// "triggers", "symbols", "templates", "config", ... Directories, links and
// other non-regular entries are left out. Each call returns a new map;
// the files' bytes may be shared with other calls and must not be
// modified (appending copies them).
//
// A control member read before in this process (the same compressed
// bytes) is served from memory instead of being decompressed again.
func (d *Deb) Control() (map[string][]byte, error) {
	key := keyOf(d.control)
	if files, ok := controls.get(key); ok {
		return files, nil
	}
	files, err := d.readControl()
	if err != nil {
		return nil, err
	}
	controls.put(key, files)
	return copyFiles(files), nil
}

func (d *Deb) readControl() (map[string][]byte, error) {
	files := map[string][]byte{}
	budget := int64(MaxControlSize)
	err := d.walk(d.control, true, func(hdr *tar.Header, r io.Reader) error {
		if hdr.Typeflag != tar.TypeReg {
			return nil
		}
		name := memberPath(hdr.Name)
		if name == "" {
			return fmt.Errorf("%s: empty file name", hdr.Name)
		}
		if hdr.Size > budget {
			return fmt.Errorf("%s: control.tar larger than %d bytes uncompressed", hdr.Name, MaxControlSize)
		}
		// Grow with the data actually read, not with the header's claim.
		b, err := io.ReadAll(io.LimitReader(r, hdr.Size))
		if err != nil {
			return err // an *Error naming the entry
		}
		if int64(len(b)) != hdr.Size {
			return fmt.Errorf("%s: %w", hdr.Name, io.ErrUnexpectedEOF)
		}
		budget -= hdr.Size
		if _, dup := files[name]; dup {
			return fmt.Errorf("%s: duplicate entry", hdr.Name)
		}
		files[name] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := files["control"]; !ok {
		return nil, d.errorf("%s: no control file", d.control.name)
	}
	return files, nil
}

// memberPath strips the leading "./" or "/" of a control.tar entry name.
func memberPath(name string) string {
	name = strings.TrimPrefix(name, "./")
	name = strings.TrimLeft(name, "/")
	if name == "" {
		return ""
	}
	return path.Clean(name)
}

// Walk calls fn for each entry of data.tar in archive order. hdr.Name is as
// stored (normally "./usr/bin/x", directories with a trailing "/"; GNU
// long names and PAX records are already applied). r reads the entry's
// content: the file's bytes for regular files, nothing for every other
// type (a hard link's content is that of its target, hdr.Linkname). r and
// hdr are valid only until fn returns. r's errors (corrupt or truncated
// data) are *Error values that name the .deb, the member and the entry.
//
// Decompression streams: memory use does not grow with the package's
// size. After the last entry, Walk reads the rest of the compressed stream
// so that its checksums are verified and a truncated member is an error.
//
// If fn returns fs.SkipAll, Walk stops and returns nil. Any other error
// from fn stops the walk and is returned as is. Errors of Walk's own
// (decompression, tar format) name the .deb and the member.
func (d *Deb) Walk(fn func(hdr *tar.Header, r io.Reader) error) error {
	return d.walk(d.data, false, fn)
}

// walk runs fn over the entries of member m's tar. Errors from fn are
// returned as they are, or in an *Error that names the member when wrap is
// set (fn is this package's own).
func (d *Deb) walk(m member, wrap bool, fn func(hdr *tar.Header, r io.Reader) error) error {
	raw, closeFn, err := decompress(m.comp, bytes.NewReader(m.body))
	if err != nil {
		return d.memberError(m, err)
	}
	defer closeFn()
	budget, why := unpackBudget(m, wrap)
	var entry string
	dec := &budgetReader{r: raw, max: budget, fail: func() error {
		return d.limitError(m, entry, "its unpacked size limit of "+strconv.FormatInt(budget, 10)+" bytes: "+why)
	}}
	memberMax := limits.Get().Member
	var claimed int64 // the sizes entries claim, sparse holes included
	tr := tar.NewReader(dec)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var le *LimitError
			if errors.As(err, &le) {
				return err
			}
			return d.memberError(m, fmt.Errorf("reading tar: %w", noEOF(err)))
		}
		entry = hdr.Name
		if hdr.Size > memberMax && !wrap {
			return d.limitError(m, hdr.Name, fmt.Sprintf("the per-file limit of %s (TEMPER_LIMIT_MEMBER): its header claims %d bytes", limits.Human(memberMax), hdr.Size))
		}
		if claimed += max(hdr.Size, 0); claimed > budget || hdr.Size < 0 {
			return d.limitError(m, hdr.Name, fmt.Sprintf("its unpacked size limit of %d bytes (%s): its header claims %d bytes", budget, why, hdr.Size))
		}
		if err := fn(hdr, &entryReader{tr, d, m, hdr.Name}); err != nil {
			if errors.Is(err, fs.SkipAll) {
				return nil
			}
			var de *Error
			if wrap && !errors.As(err, &de) {
				return d.memberError(m, err)
			}
			return err
		}
	}
	// Drain the tail (tar padding) so the decompressor verifies its
	// checksums and sees the end of its stream.
	entry = "after the end of the tar archive"
	if _, err := io.Copy(io.Discard, dec); err != nil {
		var le *LimitError
		if errors.As(err, &le) {
			return err
		}
		return d.memberError(m, fmt.Errorf("after the end of the tar archive: %w", noEOF(err)))
	}
	return nil
}

// entryReader reads one tar entry; its errors (corrupt or truncated
// compressed data) name the .deb, the member and the entry, even when fn
// passes them on as they are.
type entryReader struct {
	r    io.Reader
	d    *Deb
	m    member
	name string
}

func (e *entryReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	var le *LimitError
	if err != nil && err != io.EOF && !errors.As(err, &le) {
		err = e.d.memberError(e.m, fmt.Errorf("%s: %w", e.name, err))
	}
	return n, err
}

func (d *Deb) errorf(format string, args ...any) error {
	return fmt.Errorf("deb %s: %s", d.name, fmt.Sprintf(format, args...))
}

func (d *Deb) memberError(m member, err error) error {
	return &Error{Deb: d.name, Member: m.name, Err: err}
}

// Error is an error reading one member of a .deb.
type Error struct {
	Deb    string // the name given to Open
	Member string // e.g. "data.tar.xz"
	Err    error
}

func (e *Error) Error() string { return "deb " + e.Deb + ": " + e.Member + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// noEOF turns a bare io.EOF in the middle of a stream into
// io.ErrUnexpectedEOF, which is what it means there.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func isPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func printable(s string) string {
	if isPrintable(s) {
		return s
	}
	return strconv.Quote(s)
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
