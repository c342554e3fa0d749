// Package debtest builds small, real Debian binary packages (.deb files) for
// tests: the ar container, control.tar with control, md5sums and scripts,
// and data.tar in the layout dpkg-deb produces (GNU tar, "./" names,
// directories with a trailing "/", root-owned, a fixed mtime). The output
// is deterministic: the same Spec gives the same bytes.
package debtest

import (
	"archive/tar"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os/exec"
	"path"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// File is one data.tar entry.
type File struct {
	Path     string // "./usr/bin/foo" or "usr/bin/foo" (normalised to "./..."; directories get a trailing "/")
	Type     byte   // tar.TypeReg (default), tar.TypeDir, tar.TypeSymlink, tar.TypeLink
	Mode     int64  // permission bits (and setuid/setgid/sticky); default 0644 files, 0755 dirs, 0777 symlinks
	Data     []byte // content of a regular file
	Link     string // symlink target (as is) or hard link target (normalised to "./...")
	UID, GID int
}

// Spec describes a .deb.
type Spec struct {
	// Control is the control stanza (Package, Version, Architecture, ...);
	// a trailing newline is added if missing. Empty means a minimal
	// stanza for package "test".
	Control string
	// Files are the data.tar entries in this order. Parent directories
	// are not added unless AutoDirs is set.
	Files []File
	// AutoDirs adds "./" and every missing parent directory (0755, root)
	// before its first child, as dpkg-deb ships them. A directory that
	// Files lists later is emitted at that earlier place instead, with its
	// own attributes.
	AutoDirs bool
	// Scripts are extra control.tar members: "postinst", "conffiles",
	// "triggers", ... Maintainer scripts (preinst, postinst, prerm, postrm,
	// config) get mode 0755, the others 0644. A "md5sums" here replaces
	// the generated one.
	Scripts map[string]string
	// NoMD5Sums leaves out the generated md5sums (one line per regular
	// file, "<md5>  usr/bin/foo").
	NoMD5Sums bool
	// Compression is the data.tar compression: "xz" (default), "zst",
	// "gz", "bz2" (needs the bzip2 command; the test is skipped without
	// it), "lzma" or "none".
	Compression string
	// ControlCompression is the control.tar compression: "xz" (default,
	// as dpkg-deb), "zst", "gz" or "none".
	ControlCompression string
}

// MTime is the modification time of every entry Build writes.
var MTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

const defaultControl = "Package: test\nVersion: 1.0-1\nArchitecture: all\nMaintainer: Test <test@example.org>\nDescription: test package\n"

// Build returns the bytes of the .deb that s describes. It fails the test
// on a malformed Spec.
func Build(t testing.TB, s Spec) []byte {
	t.Helper()
	b, err := build(s)
	if err == errNoBzip2 {
		t.Skip("debtest: bzip2 command not found; cannot build data.tar.bz2")
	}
	if err != nil {
		t.Fatalf("debtest: %v", err)
	}
	return b
}

var errNoBzip2 = fmt.Errorf("bzip2 command not found")

func build(s Spec) ([]byte, error) {
	files, err := normalise(s.Files, s.AutoDirs)
	if err != nil {
		return nil, err
	}
	dataTar, err := writeTar(files)
	if err != nil {
		return nil, err
	}
	dcomp := s.Compression
	if dcomp == "" {
		dcomp = "xz"
	}
	dataZ, dext, err := compress(dcomp, dataTar)
	if err != nil {
		return nil, fmt.Errorf("data.tar: %w", err)
	}

	ctl := s.Control
	if ctl == "" {
		ctl = defaultControl
	}
	if !strings.HasSuffix(ctl, "\n") {
		ctl += "\n"
	}
	cfiles := []File{{Path: "./", Type: tar.TypeDir, Mode: 0755}, {Path: "./control", Data: []byte(ctl), Mode: 0644}}
	scripts := map[string]string{}
	for k, v := range s.Scripts {
		scripts[k] = v
	}
	if _, ok := scripts["md5sums"]; !ok && !s.NoMD5Sums {
		var sums strings.Builder
		for _, f := range files {
			if f.Type == tar.TypeReg {
				h := md5.Sum(f.Data)
				fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(h[:]), strings.TrimPrefix(f.Path, "./"))
			}
		}
		if sums.Len() > 0 {
			scripts["md5sums"] = sums.String()
		}
	}
	names := make([]string, 0, len(scripts))
	for k := range scripts {
		if k == "control" || k == "" || strings.Contains(k, "/") {
			return nil, fmt.Errorf("bad control member name %q", k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		mode := int64(0644)
		switch k {
		case "preinst", "postinst", "prerm", "postrm", "config":
			mode = 0755
		}
		cfiles = append(cfiles, File{Path: "./" + k, Data: []byte(scripts[k]), Mode: mode})
	}
	controlTar, err := writeTar(cfiles)
	if err != nil {
		return nil, err
	}
	ccomp := s.ControlCompression
	if ccomp == "" {
		ccomp = "xz"
	}
	if ccomp != "xz" && ccomp != "gz" && ccomp != "zst" && ccomp != "none" {
		return nil, fmt.Errorf("control.tar: unsupported compression %q", ccomp)
	}
	controlZ, cext, err := compress(ccomp, controlTar)
	if err != nil {
		return nil, fmt.Errorf("control.tar: %w", err)
	}
	return Ar(
		Member{Name: "debian-binary", Data: []byte("2.0\n")},
		Member{Name: "control.tar" + cext, Data: controlZ},
		Member{Name: "data.tar" + dext, Data: dataZ},
	), nil
}

// normalise fills in defaults and "./" names and adds parent directories.
func normalise(in []File, autoDirs bool) ([]File, error) {
	norm := func(p string) string {
		p = strings.TrimPrefix(p, "./")
		p = strings.TrimLeft(p, "/")
		if p == "" || p == "." {
			return "./"
		}
		return "./" + strings.TrimSuffix(path.Clean(p), "/")
	}
	explicit := map[string]File{} // directories listed in Files, by "./a/b"
	var out []File
	for _, f := range in {
		if f.Type == 0 || f.Type == tar.TypeRegA {
			f.Type = tar.TypeReg
		}
		switch f.Type {
		case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
		default:
			return nil, fmt.Errorf("%s: unsupported type %q", f.Path, f.Type)
		}
		f.Path = norm(f.Path)
		if f.Type == tar.TypeLink {
			f.Link = norm(f.Link)
		}
		if f.Mode == 0 {
			switch f.Type {
			case tar.TypeDir:
				f.Mode = 0755
			case tar.TypeSymlink:
				f.Mode = 0777
			default:
				f.Mode = 0644
			}
		}
		if f.Type == tar.TypeDir {
			explicit[f.Path] = f
		}
		out = append(out, f)
	}
	if !autoDirs {
		return out, nil
	}
	done := map[string]bool{}
	var res []File
	addDir := func(p string) {
		if done[p] {
			return
		}
		done[p] = true
		if f, ok := explicit[p]; ok {
			res = append(res, f)
			return
		}
		res = append(res, File{Path: p, Type: tar.TypeDir, Mode: 0755})
	}
	for _, f := range out {
		addDir("./")
		if f.Path == "./" {
			continue
		}
		rel := strings.TrimPrefix(f.Path, "./")
		parts := strings.Split(rel, "/")
		for i := 1; i < len(parts); i++ {
			addDir("./" + strings.Join(parts[:i], "/"))
		}
		if f.Type == tar.TypeDir {
			addDir(f.Path)
			continue
		}
		res = append(res, f)
	}
	return res, nil
}

// writeTar writes files as dpkg-deb does: GNU format, root-owned, fixed
// mtime, directory names ending in "/".
func writeTar(files []File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if f.Type == 0 {
			f.Type = tar.TypeReg
		}
		name := f.Path
		if f.Type == tar.TypeDir && !strings.HasSuffix(name, "/") {
			name += "/"
		}
		hdr := &tar.Header{
			Typeflag: f.Type,
			Name:     name,
			Linkname: f.Link,
			Mode:     f.Mode,
			Uid:      f.UID,
			Gid:      f.GID,
			Uname:    owner(f.UID),
			Gname:    owner(f.GID),
			ModTime:  MTime,
			Format:   tar.FormatGNU,
		}
		if f.Type == tar.TypeReg {
			hdr.Size = int64(len(f.Data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", f.Path, err)
		}
		if f.Type == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, fmt.Errorf("tar %s: %w", f.Path, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func owner(id int) string {
	if id == 0 {
		return "root"
	}
	return ""
}

// compress returns data compressed with comp and the member name's
// extension for it.
func compress(comp string, data []byte) ([]byte, string, error) {
	var buf bytes.Buffer
	switch comp {
	case "none":
		return data, "", nil
	case "gz":
		w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return nil, "", err
		}
		if err := writeClose(w, data); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), ".gz", nil
	case "xz":
		w, err := xz.NewWriter(&buf)
		if err != nil {
			return nil, "", err
		}
		if err := writeClose(w, data); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), ".xz", nil
	case "lzma":
		w, err := lzma.NewWriter(&buf)
		if err != nil {
			return nil, "", err
		}
		if err := writeClose(w, data); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), ".lzma", nil
	case "zst":
		w, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, "", err
		}
		if err := writeClose(w, data); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), ".zst", nil
	case "bz2":
		// The standard library has no bzip2 writer; use the command.
		bin, err := exec.LookPath("bzip2")
		if err != nil {
			return nil, "", errNoBzip2
		}
		cmd := exec.Command(bin, "-c", "-9")
		cmd.Stdin = bytes.NewReader(data)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &stderr
		if err := cmd.Run(); err != nil {
			return nil, "", fmt.Errorf("bzip2: %v: %s", err, stderr.Bytes())
		}
		return buf.Bytes(), ".bz2", nil
	}
	return nil, "", fmt.Errorf("unsupported compression %q", comp)
}

// Member is one member of an ar archive.
type Member struct {
	Name string // at most 16 bytes
	Data []byte
}

// Ar returns an ar archive of the members in order, in the format dpkg-deb
// writes (space-padded names without "/", mtime 0, root, mode 100644),
// with no validation: tests use it to build broken .debs.
func Ar(members ...Member) []byte {
	var buf bytes.Buffer
	buf.WriteString("!<arch>\n")
	for _, m := range members {
		fmt.Fprintf(&buf, "%-16s%-12s%-6s%-6s%-8s%-10s`\n", m.Name, "0", "0", "0", "100644", strconv.Itoa(len(m.Data)))
		buf.Write(m.Data)
		if len(m.Data)%2 == 1 {
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes()
}

func writeClose(w io.WriteCloser, data []byte) error {
	if _, err := w.Write(data); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
