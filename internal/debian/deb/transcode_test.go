package deb_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/debian/debtest"
)

func entries(t *testing.T, d *deb.Deb) []string {
	var out []string
	err := d.Walk(func(h *tar.Header, r io.Reader) error {
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		out = append(out, h.Name+"|"+h.Linkname+"|"+string(rune(h.Typeflag))+"|"+string(rune(h.Mode))+"|"+string(sum[:]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTranscodeKeepsEverything(t *testing.T) {
	orig := debtest.Build(t, debtest.Spec{
		Control:  "Package: tc\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t <t@example.org>\nDescription: t\n",
		AutoDirs: true,
		Files: []debtest.File{
			{Path: "./usr/bin/tool", Mode: 0o4755, Data: []byte("#!binary\x00\x01")},
			{Path: "./usr/share/doc/tc/odd", Data: []byte("odd length!")},
			{Path: "./usr/bin/alias", Type: tar.TypeSymlink, Link: "tool"},
		},
		Scripts: map[string]string{"postinst": "#!/bin/sh\nexit 0\n"},
	})
	fast, err := deb.Transcode(context.Background(), "tc.deb", orig)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := deb.Open("orig", orig)
	b, err := deb.Open("fast", fast)
	if err != nil {
		t.Fatal(err)
	}
	if b.DataCompression() != "zst" || a.DataCompression() != "xz" {
		t.Fatalf("compressions %s -> %s", a.DataCompression(), b.DataCompression())
	}
	ea, eb := entries(t, a), entries(t, b)
	if len(ea) != len(eb) {
		t.Fatalf("%d entries vs %d", len(ea), len(eb))
	}
	for i := range ea {
		if ea[i] != eb[i] {
			t.Errorf("entry %d differs", i)
		}
	}
	ca, _ := a.Control()
	cb, _ := b.Control()
	if !bytes.Equal(ca["control"], cb["control"]) || !bytes.Equal(ca["postinst"], cb["postinst"]) || !bytes.Equal(ca["md5sums"], cb["md5sums"]) {
		t.Error("control member changed")
	}
	again, _ := deb.Transcode(context.Background(), "tc.deb", orig)
	if !bytes.Equal(again, fast) {
		t.Error("transcoding is not deterministic")
	}
	// dpkg-deb accepts the copy.
	if _, err := exec.LookPath("dpkg-deb"); err == nil {
		p := filepath.Join(t.TempDir(), "fast.deb")
		os.WriteFile(p, fast, 0o644)
		if out, err := exec.Command("dpkg-deb", "--contents", p).CombinedOutput(); err != nil {
			t.Errorf("dpkg-deb rejects the transcoded .deb: %v\n%s", err, out)
		}
	}
}
