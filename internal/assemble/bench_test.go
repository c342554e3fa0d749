package assemble

import (
	"fmt"
	"testing"

	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/spec"
)

// BenchmarkAssemble assembles 50 synthetic xz-compressed packages of 100
// files (4 KiB each, ~20 MB unpacked) with docs to remove, a postinst
// with update-alternatives and base-passwd, like a python3 image.
func BenchmarkAssemble(b *testing.B) {
	var debs []Deb
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("pkg%02d", i)
		var files []debtest.File
		for j := 0; j < 100; j++ {
			data := make([]byte, 4096)
			for k := range data {
				data[k] = byte(i*j + k)
			}
			dir := "./usr/lib/" + name
			if j%10 == 0 {
				dir = "./usr/share/doc/" + name
			}
			files = append(files, debtest.File{Path: fmt.Sprintf("%s/f%03d", dir, j), Data: data})
		}
		files = append(files, debtest.File{Path: "./usr/share/doc/" + name + "/copyright", Data: []byte("c")})
		files = append(files, debtest.File{Path: "./usr/bin/" + name, Data: []byte("bin"), Mode: 0o755})
		ctrl := fmt.Sprintf("Package: %s\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: T <t@example.org>\nDescription: d\n", name)
		data := debtest.Build(b, debtest.Spec{Control: ctrl, Files: files, AutoDirs: true, Compression: "xz",
			Scripts: map[string]string{"postinst": fmt.Sprintf("update-alternatives --install /usr/bin/alt%d alt /usr/bin/%s %d\n", i%3, name, i)}})
		debs = append(debs, Deb{Package: spec.LockedPackage{Name: name, Version: "1.0-1", Architecture: "amd64"}, Data: data})
	}
	in := Input{Def: def(), Arch: "amd64", Debs: debs, Release: "bookworm"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Assemble(in); err != nil {
			b.Fatal(err)
		}
	}
}
