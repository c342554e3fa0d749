package deb_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/livetest"
)

var (
	releasesMu sync.Mutex
	releases   = map[string]*archive.Release{}
)

// liveDeb downloads (or reads from dir's cache) the candidate .deb of pkg
// in release rel, amd64, and checks its SHA-256 against the signed index.
func liveDeb(t testing.TB, dir, rel, pkg string) (*archive.Package, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	releasesMu.Lock()
	r := releases[dir+"\x00"+rel]
	if r == nil {
		var err error
		r, err = livetest.Client(t, dir, false).LoadRelease(ctx, rel, "amd64")
		if err != nil {
			releasesMu.Unlock()
			t.Fatal(err)
		}
		releases[dir+"\x00"+rel] = r
	}
	releasesMu.Unlock()
	p := r.Candidate(pkg)
	if p == nil {
		t.Fatalf("%s has no %s", rel, pkg)
	}
	sum := strings.ToLower(p.SHA256)
	c, err := cache.Open(filepath.Join(dir, "debs"))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := c.Read(sum); err == nil {
		return p, b
	}
	b, err := fetch.New("temper test").GetBytes(ctx, p.URL(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.Sum256(b)
	if hex.EncodeToString(got[:]) != sum {
		t.Fatalf("%s: SHA-256 %x, index says %s", p.URL(), got, sum)
	}
	if int64(len(b)) != p.Size {
		t.Fatalf("%s: %d bytes, index says %d", p.URL(), len(b), p.Size)
	}
	if err := c.WriteBytes(sum, b); err != nil {
		t.Fatal(err)
	}
	return p, b
}

// TestLiveDebs reads real packages and checks Control and Walk against
// dpkg-deb: the same entries in the same order with the same headers and
// content, and content that matches the package's md5sums.
func TestLiveDebs(t *testing.T) {
	if !livetest.Enabled() {
		t.Skip("live test: set TEMPER_LIVE=1 (CI sets CI=true) to read the real Debian archive")
	}
	dir := t.TempDir()
	for _, c := range []struct{ rel, pkg string }{
		{"bookworm", "libc6"},
		{"bookworm", "tzdata"},
		{"bookworm", "base-files"},
		{"bookworm", "ca-certificates"},
		{"bookworm", "python3.11-minimal"},
		{"trixie", "base-files"},
		{"trixie", "libc6"},
	} {
		t.Run(c.rel+"/"+c.pkg, func(t *testing.T) {
			p, b := liveDeb(t, dir, c.rel, c.pkg)
			name := path.Base(p.Filename)
			d, err := deb.Open(name, b)
			if err != nil {
				t.Fatal(err)
			}
			ctl, err := d.Control()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(ctl["control"], []byte("Package: "+c.pkg+"\n")) {
				t.Errorf("control starts %q", ctl["control"][:min(40, len(ctl["control"]))])
			}
			if ctl["md5sums"] == nil {
				t.Fatalf("no md5sums; control.tar has %v", keys(ctl))
			}
			sums := parseMD5Sums(t, ctl["md5sums"])

			type rec struct {
				name, link string
				typ        byte
				mode       int64
				uid, gid   int
				size       int64
				format     tar.Format
				sum        [32]byte
			}
			var got []rec
			formats := map[tar.Format]int{}
			types := map[byte]int{}
			seenSums := 0
			var total int64
			err = d.Walk(func(hdr *tar.Header, r io.Reader) error {
				h := sha256.New()
				m := md5.New()
				n, err := io.Copy(io.MultiWriter(h, m), r)
				if err != nil {
					return err
				}
				total += n
				var s [32]byte
				h.Sum(s[:0])
				got = append(got, rec{hdr.Name, hdr.Linkname, hdr.Typeflag, hdr.Mode, hdr.Uid, hdr.Gid, hdr.Size, 0, s})
				formats[hdr.Format]++
				types[hdr.Typeflag]++
				if !strings.HasPrefix(hdr.Name, "./") {
					t.Errorf("entry %q lacks the ./ prefix", hdr.Name)
				}
				if hdr.Typeflag == tar.TypeReg {
					if want, ok := sums[strings.TrimPrefix(hdr.Name, "./")]; ok {
						seenSums++
						if hex.EncodeToString(m.Sum(nil)) != want {
							t.Errorf("%s: md5 does not match md5sums", hdr.Name)
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if seenSums != len(sums) {
				t.Errorf("md5sums lists %d files, %d found in data.tar", len(sums), seenSums)
			}
			t.Logf("%s %s: data.tar.%s, control.tar.%s, %d entries, %d bytes, formats %v, types %q, control members %v",
				c.pkg, p.Version, d.DataCompression(), d.ControlCompression(), len(got), total, formats, typeList(types), keys(ctl))

			dpkgDeb, err := exec.LookPath("dpkg-deb")
			if err != nil {
				t.Log("dpkg-deb not installed: not compared")
				return
			}
			f := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
			tarball, err := exec.Command(dpkgDeb, "--fsys-tarfile", f).Output()
			if err != nil {
				t.Fatalf("dpkg-deb --fsys-tarfile: %v", err)
			}
			var want []rec
			tr := tar.NewReader(bytes.NewReader(tarball))
			for {
				hdr, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				h := sha256.New()
				io.Copy(h, tr)
				var s [32]byte
				h.Sum(s[:0])
				want = append(want, rec{hdr.Name, hdr.Linkname, hdr.Typeflag, hdr.Mode, hdr.Uid, hdr.Gid, hdr.Size, 0, s})
			}
			if len(got) != len(want) {
				t.Fatalf("Walk saw %d entries, dpkg-deb --fsys-tarfile %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("entry %d: Walk %+v, dpkg-deb %+v", i, got[i], want[i])
				}
			}
			listing, err := exec.Command(dpkgDeb, "--contents", f).Output()
			if err != nil {
				t.Fatalf("dpkg-deb --contents: %v", err)
			}
			lines := strings.Split(strings.TrimSuffix(string(listing), "\n"), "\n")
			if len(lines) != len(got) {
				t.Fatalf("dpkg-deb --contents lists %d entries, Walk %d", len(lines), len(got))
			}
			for i, line := range lines {
				if fields := strings.Fields(line); len(fields) < 6 || fields[5] != got[i].name {
					if !strings.ContainsAny(got[i].name, " \\") {
						t.Errorf("entry %d: dpkg-deb --contents %q, Walk %q", i, line, got[i].name)
					}
				}
			}
		})
	}
}

func typeList(m map[byte]int) string {
	var s []string
	for t, n := range m {
		s = append(s, string(rune(t))+"="+strconv.Itoa(n))
	}
	return strings.Join(s, " ")
}

// BenchmarkWalk walks libc6's data.tar.xz from bookworm (about 13 MB
// uncompressed), reading every file; MB/s is of uncompressed data.
func BenchmarkWalk(b *testing.B) {
	if !livetest.Enabled() {
		b.Skip("live benchmark: set TEMPER_LIVE=1 to read the real Debian archive")
	}
	_, data := liveDeb(b, livetest.CacheDir(b), "bookworm", "libc6")
	benchWalk(b, "libc6.deb", data)
}

// BenchmarkWalkSynthetic walks a generated .deb (hermetic) per compression.
func BenchmarkWalkSynthetic(b *testing.B) {
	for _, comp := range []string{"xz", "zst", "gz"} {
		b.Run(comp, func(b *testing.B) {
			s := debtestBenchSpec(comp)
			benchWalk(b, "synthetic.deb", buildDeb(b, s))
		})
	}
}

func benchWalk(b *testing.B, name string, data []byte) {
	d, err := deb.Open(name, data)
	if err != nil {
		b.Fatal(err)
	}
	var size int64
	walk := func() {
		size = 0
		err := d.Walk(func(hdr *tar.Header, r io.Reader) error {
			n, err := io.Copy(io.Discard, r)
			size += n
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	walk()
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		walk()
	}
}

func debtestBenchSpec(comp string) debtest.Spec {
	s := debtest.Spec{Compression: comp, AutoDirs: true}
	rng := uint64(1)
	for i := range 200 {
		data := make([]byte, 40<<10)
		for j := range data {
			rng = rng*6364136223846793005 + 1442695040888963407
			data[j] = "abcdefghijklmnop\n\x00\x01\x7f"[rng>>59&15]
		}
		s.Files = append(s.Files, debtest.File{Path: "usr/lib/x/f" + strconv.Itoa(i), Data: data})
	}
	return s
}

func buildDeb(b *testing.B, s debtest.Spec) []byte { return debtest.Build(b, s) }
