package deb_test

import (
	"archive/tar"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/debian/debtest"
)

var longName = "./usr/share/doc/x/" + strings.Repeat("d", 150) + "/file"

func spec(comp, ccomp string) debtest.Spec {
	return debtest.Spec{
		Control: "Package: x\nVersion: 1\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: x",
		Files: []debtest.File{
			{Path: "./", Type: tar.TypeDir},
			{Path: "./usr/", Type: tar.TypeDir},
			{Path: "./usr/bin/", Type: tar.TypeDir},
			{Path: "usr/bin/x", Mode: 0o4755, Data: []byte("binary")},
			{Path: "usr/bin/y", Type: tar.TypeLink, Link: "./usr/bin/x"},
			{Path: "usr/bin/z", Type: tar.TypeSymlink, Link: "x"},
			{Path: longName, Data: bytes.Repeat([]byte("0123456789"), 10000)},
		},
		Scripts:            map[string]string{"postinst": "#!/bin/sh\n", "conffiles": "/etc/x\n", "triggers": "interest x\n"},
		Compression:        comp,
		ControlCompression: ccomp,
	}
}

type entry struct {
	name, link string
	typ        byte
	mode       int64
	data       string
}

func walkAll(t testing.TB, d *deb.Deb) []entry {
	t.Helper()
	var got []entry
	err := d.Walk(func(hdr *tar.Header, r io.Reader) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		got = append(got, entry{hdr.Name, hdr.Linkname, hdr.Typeflag, hdr.Mode, string(b)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRoundTrip(t *testing.T) {
	for _, c := range []struct{ data, control string }{
		{"xz", "xz"}, {"zst", "zst"}, {"gz", "gz"}, {"bz2", "none"}, {"lzma", "xz"}, {"none", "gz"},
	} {
		t.Run(c.data+"/"+c.control, func(t *testing.T) {
			s := spec(c.data, c.control)
			d, err := deb.Open("x_1_all.deb", debtest.Build(t, s))
			if err != nil {
				t.Fatal(err)
			}
			if d.DataCompression() != c.data || d.ControlCompression() != c.control {
				t.Errorf("compression %q/%q", d.DataCompression(), d.ControlCompression())
			}
			if d.Name() != "x_1_all.deb" {
				t.Errorf("Name %q", d.Name())
			}
			ctl, err := d.Control()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(ctl["control"]), "Package: x\n") || !strings.HasSuffix(string(ctl["control"]), "Description: x\n") {
				t.Errorf("control %q", ctl["control"])
			}
			for k, v := range s.Scripts {
				if string(ctl[k]) != v {
					t.Errorf("%s = %q, want %q", k, ctl[k], v)
				}
			}
			if len(ctl) != 5 {
				t.Errorf("control members %d: %v", len(ctl), keys(ctl))
			}
			sums := parseMD5Sums(t, ctl["md5sums"])
			got := walkAll(t, d)
			want := []entry{
				{"./", "", tar.TypeDir, 0o755, ""},
				{"./usr/", "", tar.TypeDir, 0o755, ""},
				{"./usr/bin/", "", tar.TypeDir, 0o755, ""},
				{"./usr/bin/x", "", tar.TypeReg, 0o4755, "binary"},
				{"./usr/bin/y", "./usr/bin/x", tar.TypeLink, 0o644, ""},
				{"./usr/bin/z", "x", tar.TypeSymlink, 0o777, ""},
				{longName, "", tar.TypeReg, 0o644, strings.Repeat("0123456789", 10000)},
			}
			if len(got) != len(want) {
				t.Fatalf("got %d entries, want %d: %+v", len(got), len(want), got)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("entry %d: got %+v\nwant %+v", i, trim(got[i]), trim(want[i]))
				}
				if want[i].typ == tar.TypeReg {
					h := md5.Sum([]byte(got[i].data))
					if sums[strings.TrimPrefix(got[i].name, "./")] != hex.EncodeToString(h[:]) {
						t.Errorf("%s: md5 does not match md5sums", got[i].name)
					}
				}
			}
		})
	}
}

func trim(e entry) entry {
	if len(e.data) > 20 {
		e.data = e.data[:20] + "..."
	}
	return e
}

func keys(m map[string][]byte) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

func parseMD5Sums(t testing.TB, b []byte) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 32 {
			t.Fatalf("bad md5sums line %q", line)
		}
		m[name] = sum
	}
	return m
}

func TestWalkStop(t *testing.T) {
	d, err := deb.Open("x.deb", debtest.Build(t, spec("xz", "")))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = d.Walk(func(hdr *tar.Header, r io.Reader) error {
		n++
		return fs.SkipAll
	})
	if err != nil || n != 1 {
		t.Errorf("SkipAll: n=%d err=%v", n, err)
	}
	sentinel := errors.New("stop here")
	err = d.Walk(func(hdr *tar.Header, r io.Reader) error {
		if hdr.Name == "./usr/bin/x" {
			return sentinel
		}
		return nil
	})
	if err != sentinel {
		t.Errorf("fn error not returned as is: %v", err)
	}
}

func TestUnderscoreMembersAndTrailer(t *testing.T) {
	b := debtest.Build(t, spec("gz", "gz"))
	d, err := deb.Open("x.deb", b)
	if err != nil {
		t.Fatal(err)
	}
	members := splitAr(t, b)
	sig := debtest.Member{Name: "_gpgorigin", Data: []byte("signature")}
	for name, data := range map[string][]byte{
		"before control": debtest.Ar(members[0], sig, members[1], members[2]),
		"before data":    debtest.Ar(members[0], members[1], sig, members[2]),
		"after data":     debtest.Ar(members[0], members[1], members[2], sig),
		"junk after":     append(debtest.Ar(members...), "not an ar header"...),
		"member after":   debtest.Ar(members[0], members[1], members[2], debtest.Member{Name: "data.tar.xz", Data: []byte("x")}),
		"gnu names":      bytes.Replace(bytes.Replace(b, []byte("debian-binary   "), []byte("debian-binary/  "), 1), []byte("data.tar.xz     "), []byte("data.tar.xz/    "), 1),
	} {
		d2, err := deb.Open("x.deb", data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d2.DataMember() != d.DataMember() || len(walkAll(t, d2)) != len(walkAll(t, d)) {
			t.Errorf("%s: different result", name)
		}
	}
}

// splitAr returns the members of a .deb built by debtest.
func splitAr(t testing.TB, b []byte) []debtest.Member {
	t.Helper()
	var ms []debtest.Member
	b = b[8:]
	for len(b) > 0 {
		name := strings.TrimRight(string(b[:16]), " ")
		var size int
		for _, c := range strings.TrimSpace(string(b[48:58])) {
			size = size*10 + int(c-'0')
		}
		ms = append(ms, debtest.Member{Name: name, Data: b[60 : 60+size]})
		b = b[60+size+size%2:]
	}
	return ms
}

func TestOpenErrors(t *testing.T) {
	good := debtest.Build(t, spec("xz", "xz"))
	m := splitAr(t, good)
	bin, ctl, data := m[0], m[1], m[2]
	mem := func(name string, b string) debtest.Member { return debtest.Member{Name: name, Data: []byte(b)} }
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "not a Debian binary package"},
		{"short", []byte("!<ar"), "truncated"},
		{"text", []byte("Package: x\n"), "no ar magic"},
		{"magic only", []byte("!<arch>\n"), "no debian-binary"},
		{"first not debian-binary", debtest.Ar(ctl, bin, data), `first ar member is "control.tar.xz"`},
		{"version", debtest.Ar(mem("debian-binary", "3.0\n"), ctl, data), `unsupported format version "3.0\n"`},
		{"no control", debtest.Ar(bin), "missing control.tar"},
		{"no data", debtest.Ar(bin, ctl), "missing data.tar"},
		{"data before control", debtest.Ar(bin, data, ctl), `unexpected member "data.tar.xz" before control.tar`},
		{"unknown before control", debtest.Ar(bin, mem("foo", "x"), ctl, data), `unexpected member "foo" before control.tar`},
		{"unknown before data", debtest.Ar(bin, ctl, mem("foo", "x"), data), `unexpected member "foo" before data.tar`},
		{"two controls", debtest.Ar(bin, ctl, ctl, data), `unexpected member "control.tar.xz" before data.tar`},
		{"control compression", debtest.Ar(bin, mem("control.tar.bz2", "x"), data), `unknown compression ".bz2" for control.tar`},
		{"data compression", debtest.Ar(bin, ctl, mem("data.tar.rar", "x")), `unknown compression ".rar" for data.tar`},
		{"truncated header", good[:8+60+4+30], "truncated ar member header"},
		{"truncated member", good[:len(good)-10], `member "data.tar.xz" truncated`},
		{"bad size", bytes.Replace(good, []byte("4         `\n"), []byte("4x        `\n"), 1), "bad ar size field"},
		{"negative size", bytes.Replace(good, []byte("4         `\n"), []byte("-4        `\n"), 1), "bad ar size field"},
		{"bad terminator", bytes.Replace(good, []byte("4         `\n"), []byte("4         ``"), 1), "bad terminator"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := deb.Open("bad_1_all.deb", c.in)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "deb bad_1_all.deb: ") {
				t.Errorf("error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestCorruptMembers(t *testing.T) {
	for _, comp := range []string{"xz", "zst", "gz", "bz2", "lzma", "none"} {
		t.Run(comp, func(t *testing.T) {
			good := debtest.Build(t, spec(comp, "gz"))
			m := splitAr(t, good)
			data := m[2].Data
			for name, bad := range map[string][]byte{
				"truncated": data[:len(data)*2/3],
				"flipped":   flip(data, len(data)/2),
				"tail cut":  data[:len(data)-1],
			} {
				d, err := deb.Open("c.deb", debtest.Ar(m[0], m[1], debtest.Member{Name: m[2].Name, Data: bad}))
				if err != nil {
					if comp == "none" {
						t.Fatal(err)
					}
					continue
				}
				err = d.Walk(func(hdr *tar.Header, r io.Reader) error {
					_, err := io.Copy(io.Discard, r)
					return err
				})
				if comp == "none" && name == "flipped" {
					continue // an uncompressed tar has no checksum over file content
				}
				if err == nil {
					t.Errorf("%s: no error", name)
					continue
				}
				if !strings.HasPrefix(err.Error(), "deb c.deb: "+m[2].Name+": ") {
					t.Errorf("%s: error %q does not name the .deb and member", name, err)
				}
				t.Logf("%s: %v", name, err)
			}
		})
	}
	// control.tar without a control file, and a corrupt control.tar.
	bin := debtest.Member{Name: "debian-binary", Data: []byte("2.0\n")}
	data := splitAr(t, debtest.Build(t, spec("none", "none")))[2]
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "./md5sums", Size: 1, Mode: 0o644})
	tw.Write([]byte("x"))
	tw.Close()
	ctlGz := splitAr(t, debtest.Build(t, spec("none", "gz")))[1].Data
	for name, ctl := range map[string]debtest.Member{
		"no control file": {Name: "control.tar", Data: buf.Bytes()},
		"corrupt":         {Name: "control.tar.gz", Data: []byte("\x1f\x8b\x08\x00garbage")},
		"not gzip":        {Name: "control.tar.gz", Data: []byte("plain")},
		"not tar":         {Name: "control.tar", Data: bytes.Repeat([]byte("x"), 1024)},
		"truncated":       {Name: "control.tar", Data: buf.Bytes()[:512]},
		"truncated gz":    {Name: "control.tar.gz", Data: ctlGz[:len(ctlGz)-12]},
	} {
		d, err := deb.Open("c.deb", debtest.Ar(bin, ctl, data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, err = d.Control()
		if err == nil || !strings.HasPrefix(err.Error(), "deb c.deb: control.tar") || strings.Count(err.Error(), "c.deb") != 1 {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

// TestErrorNamesMember checks the form of Walk's own errors.
func TestErrorNamesMember(t *testing.T) {
	m := splitAr(t, debtest.Build(t, spec("xz", "gz")))
	m[2].Data = m[2].Data[:len(m[2].Data)-8]
	d, err := deb.Open("libfoo1_1.0_amd64.deb", debtest.Ar(m...))
	if err != nil {
		t.Fatal(err)
	}
	err = d.Walk(func(*tar.Header, io.Reader) error { return nil })
	var de *deb.Error
	if !errors.As(err, &de) || de.Deb != "libfoo1_1.0_amd64.deb" || de.Member != "data.tar.xz" {
		t.Fatalf("error %v", err)
	}
	if !strings.HasPrefix(err.Error(), "deb libfoo1_1.0_amd64.deb: data.tar.xz: ") {
		t.Errorf("error text %q", err)
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x55
	return c
}

func FuzzOpen(f *testing.F) {
	for _, c := range [][2]string{{"xz", "xz"}, {"zst", "zst"}, {"gz", "gz"}, {"lzma", "none"}, {"none", "none"}} {
		s := spec(c[0], c[1])
		s.Files = s.Files[:6]
		f.Add(debtest.Build(f, s))
	}
	f.Add([]byte("!<arch>\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := deb.Open("fuzz.deb", data)
		if err != nil {
			return
		}
		d.Control()
		d.Walk(func(hdr *tar.Header, r io.Reader) error {
			_, err := io.Copy(io.Discard, io.LimitReader(r, 1<<20))
			return err
		})
	})
}
