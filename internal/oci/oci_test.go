package oci

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math/rand"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/temper-dev/temper/internal/rootfs"
)

var epoch = time.Date(2024, 6, 8, 10, 0, 0, 0, time.UTC)

var longDir = "usr/lib/python3.11/site-packages/some-really-long-distribution-name-1.2.3.dist-info/and/even/deeper"

// entries is the test tree, parents omitted on purpose: Put creates them.
func entries() []*rootfs.Entry {
	return []*rootfs.Entry{
		{Path: "etc", Kind: rootfs.Dir, Mode: 0o755},
		{Path: "etc/passwd", Kind: rootfs.File, Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n")},
		{Path: "home/nonroot", Kind: rootfs.Dir, Mode: 0o700, UID: 65532, GID: 65532},
		{Path: "tmp", Kind: rootfs.Dir, Mode: 0o777 | fs.ModeSticky},
		{Path: "usr/bin/su", Kind: rootfs.File, Mode: 0o755 | fs.ModeSetuid, Data: []byte("\x7fELF su")},
		{Path: "usr/bin/wall", Kind: rootfs.File, Mode: 0o755 | fs.ModeSetgid, GID: 5, Data: []byte("\x7fELF wall")},
		{Path: "usr/bin/python3.11", Kind: rootfs.File, Mode: 0o755, Data: bytes.Repeat([]byte("python "), 5000)},
		{Path: "usr/bin/python3", Kind: rootfs.Symlink, Mode: 0o777, Target: "python3.11"},
		// A hardlink that sorts before the file it was recorded against.
		{Path: "usr/bin/perl", Kind: rootfs.Hardlink, Mode: 0o644, Target: "usr/bin/perl5.36.0"},
		{Path: "usr/bin/perl5.36.0", Kind: rootfs.File, Mode: 0o755, Data: []byte("\x7fELF perl")},
		// One that sorts after it.
		{Path: "usr/bin/zperl", Kind: rootfs.Hardlink, Target: "usr/bin/perl5.36.0"},
		{Path: "bin", Kind: rootfs.Symlink, Mode: 0o777, Target: "usr/bin"},
		{Path: longDir + "/METADATA-with-a-name-that-is-also-long-enough.txt", Kind: rootfs.File, Mode: 0o644, Data: []byte("Metadata-Version: 2.1\n")},
		{Path: "usr/lib/big-owner", Kind: rootfs.File, Mode: 0o600, UID: 3000000, GID: 3000000, Data: []byte("x")},
		{Path: "usr/share/a-link-with-a-long-target", Kind: rootfs.Symlink, Mode: 0o777, Target: "/" + longDir + "/METADATA-with-a-name-that-is-also-long-enough.txt"},
		{Path: "usr/bin-tools/x", Kind: rootfs.File, Mode: 0o755, Data: []byte("x")}, // "bin-tools" sorts between "bin" and "bin/..."
		{Path: "var/lib/empty", Kind: rootfs.File, Mode: 0o644},
	}
}

func tree(t testing.TB, seed int64) *rootfs.FS {
	t.Helper()
	es := entries()
	if seed != 0 {
		rand.New(rand.NewSource(seed)).Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
	}
	f := rootfs.New()
	for _, e := range es {
		if err := f.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func mustLayer(t testing.TB, f *rootfs.FS, mtime time.Time) v1.Layer {
	t.Helper()
	l, err := Layer(f, mtime)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func compressed(t testing.TB, l v1.Layer) []byte {
	t.Helper()
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testConfig(arch string, created time.Time) ImageConfig {
	return ImageConfig{
		Architecture: arch,
		User:         "65532:65532",
		Env:          []string{"PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8"},
		Entrypoint:   []string{"/usr/bin/python3"},
		Cmd:          []string{"-V"},
		WorkingDir:   "/home/nonroot",
		Labels:       map[string]string{"org.opencontainers.image.title": "python", "b": "2", "a": "1"},
		Created:      created,
		History:      "temper build (lock sha256:0123)",
		ExposedPorts: []string{"8080/tcp", "53/udp"},
		Volumes:      []string{"/data"},
	}
}

func buildIndex(t testing.TB, seed int64, mtime time.Time, archs ...string) v1.ImageIndex {
	t.Helper()
	var imgs []v1.Image
	for _, arch := range archs {
		l := mustLayer(t, tree(t, seed), mtime)
		img, err := Image(l, testConfig(arch, mtime), map[string]string{"org.opencontainers.image.version": "3.11.2"})
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	idx, err := Index(imgs, map[string]string{"org.opencontainers.image.created": "2024-06-08T10:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func digest(t testing.TB, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestEpoch(t *testing.T) {
	in := time.Date(2024, 6, 8, 12, 0, 0, 999_999_999, time.FixedZone("CEST", 2*3600)).Add(time.Duration(0))
	got := Epoch(in)
	if !got.Equal(epoch) || got.Location() != time.UTC || got.Nanosecond() != 0 {
		t.Errorf("Epoch(%v) = %v, want %v", in, got, epoch)
	}
	if Epoch(time.Now()) != Epoch(time.Now()).Round(0) {
		t.Error("Epoch kept the monotonic clock reading")
	}
}

func TestDeterminism(t *testing.T) {
	// Same tree built from different insertion orders, with mtimes that
	// differ only below a second and in zone: identical bytes.
	t1 := epoch
	t2 := epoch.Add(700 * time.Millisecond).In(time.FixedZone("X", -5*3600))
	l1 := mustLayer(t, tree(t, 0), t1)
	l2 := mustLayer(t, tree(t, 42), t2)
	if b1, b2 := compressed(t, l1), compressed(t, l2); !bytes.Equal(b1, b2) {
		t.Fatalf("layer blobs differ (%d vs %d bytes)", len(b1), len(b2))
	}
	if digest(t, l1) != digest(t, l2) {
		t.Fatal("layer digests differ")
	}
	// Digest and Size are stable across calls (no recompression).
	if sz, _ := l1.Size(); sz != int64(len(compressed(t, l1))) {
		t.Errorf("Size = %d, blob has %d bytes", sz, len(compressed(t, l1)))
	}

	i1 := buildIndex(t, 0, t1, "amd64", "arm64", "armhf")
	i2 := buildIndex(t, 7, t2, "armhf", "amd64", "arm64")
	if digest(t, i1) != digest(t, i2) {
		raw1, _ := i1.RawManifest()
		raw2, _ := i2.RawManifest()
		t.Fatalf("index digests differ:\n%s\n%s", raw1, raw2)
	}
	m1, _ := i1.IndexManifest()
	m2, _ := i2.IndexManifest()
	for n := range m1.Manifests {
		if m1.Manifests[n].Digest != m2.Manifests[n].Digest {
			t.Errorf("image %d digests differ", n)
		}
	}
	if err := Validate(i1); err != nil {
		t.Fatal(err)
	}
}

func TestLayerContent(t *testing.T) {
	mtime := epoch
	l := mustLayer(t, tree(t, 3), mtime)
	if mt, _ := l.MediaType(); mt != types.OCILayer {
		t.Errorf("media type %s", mt)
	}
	raw := compressed(t, l)
	// gzip header: no name, mtime 0, OS 255.
	if raw[3] != 0 || !bytes.Equal(raw[4:8], []byte{0, 0, 0, 0}) || raw[9] != 255 {
		t.Errorf("gzip header % x: want no flags, zero mtime, OS 255", raw[:10])
	}
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tarBytes, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(tarBytes)
	if d, _ := l.DiffID(); d.Hex != fmt.Sprintf("%x", sum) {
		t.Errorf("DiffID %s does not hash the tar", d)
	}

	type got struct {
		hdr  *tar.Header
		data string
	}
	var hs []got
	tr := tar.NewReader(bytes.NewReader(tarBytes))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		hs = append(hs, got{h, string(b)})
	}
	if len(hs) != 31 {
		t.Errorf("%d entries in the layer, want 31 (17 entries, 14 implied directories)", len(hs))
	}
	byName := map[string]*tar.Header{}
	seen := map[string]bool{}
	prev := ""
	for _, g := range hs {
		h := g.hdr
		name := strings.TrimSuffix(h.Name, "/")
		if name <= prev {
			t.Errorf("%s after %s: not sorted", h.Name, prev)
		}
		prev = name
		if strings.HasPrefix(h.Name, "/") || strings.HasPrefix(h.Name, "./") || name == "" {
			t.Errorf("bad name %q", h.Name)
		}
		if (h.Typeflag == tar.TypeDir) != strings.HasSuffix(h.Name, "/") {
			t.Errorf("%s: typeflag %c and trailing slash disagree", h.Name, h.Typeflag)
		}
		if dir := filepath.Dir(name); dir != "." && !seen[dir] {
			t.Errorf("%s precedes its directory %s", h.Name, dir)
		}
		if h.Typeflag == tar.TypeLink && !seen[h.Linkname] {
			t.Errorf("hardlink %s precedes its target %s", h.Name, h.Linkname)
		}
		seen[name] = true
		byName[name] = h
		if h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: uname/gname %q/%q", h.Name, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(mtime) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: times %v %v %v", h.Name, h.ModTime, h.AccessTime, h.ChangeTime)
		}
		for k := range h.PAXRecords {
			if k != "path" && k != "linkpath" && k != "uid" && k != "gid" {
				t.Errorf("%s: unexpected PAX record %s", h.Name, k)
			}
		}
		wantFormat := tar.FormatUSTAR
		if len(h.PAXRecords) > 0 {
			wantFormat = tar.FormatPAX
		}
		if h.Format != wantFormat {
			t.Errorf("%s: format %v, want %v", h.Name, h.Format, wantFormat)
		}
	}

	check := func(name string, typ byte, mode int64, uid, gid int, link string) {
		t.Helper()
		h := byName[name]
		if h == nil {
			t.Errorf("%s missing", name)
			return
		}
		if h.Typeflag != typ || h.Mode != mode || h.Uid != uid || h.Gid != gid || h.Linkname != link {
			t.Errorf("%s: type %c mode %o owner %d:%d link %q; want %c %o %d:%d %q",
				name, h.Typeflag, h.Mode, h.Uid, h.Gid, h.Linkname, typ, mode, uid, gid, link)
		}
	}
	check("etc", tar.TypeDir, 0o755, 0, 0, "")
	check("usr", tar.TypeDir, 0o755, 0, 0, "") // created by Put
	check("tmp", tar.TypeDir, 0o1777, 0, 0, "")
	check("home/nonroot", tar.TypeDir, 0o700, 65532, 65532, "")
	check("usr/bin/su", tar.TypeReg, 0o4755, 0, 0, "")
	check("usr/bin/wall", tar.TypeReg, 0o2755, 0, 5, "")
	check("usr/bin/python3", tar.TypeSymlink, 0o777, 0, 0, "python3.11")
	check("bin", tar.TypeSymlink, 0o777, 0, 0, "usr/bin")
	// The first path of the hardlinked file carries content and the
	// file's metadata; the others link to it.
	check("usr/bin/perl", tar.TypeReg, 0o755, 0, 0, "")
	check("usr/bin/perl5.36.0", tar.TypeLink, 0o755, 0, 0, "usr/bin/perl")
	check("usr/bin/zperl", tar.TypeLink, 0o755, 0, 0, "usr/bin/perl")
	check("usr/lib/big-owner", tar.TypeReg, 0o600, 3000000, 3000000, "")
	long := longDir + "/METADATA-with-a-name-that-is-also-long-enough.txt"
	if len(long) <= 100 {
		t.Fatal("test path not long enough")
	}
	check(long, tar.TypeReg, 0o644, 0, 0, "")
	check("usr/share/a-link-with-a-long-target", tar.TypeSymlink, 0o777, 0, 0, "/"+long)
	check("var/lib/empty", tar.TypeReg, 0o644, 0, 0, "")

	data := map[string]string{}
	for _, g := range hs {
		data[g.hdr.Name] = g.data
	}
	if data["usr/bin/perl"] != "\x7fELF perl" || data["usr/bin/perl5.36.0"] != "" {
		t.Errorf("hardlink content misplaced")
	}
	if data[long] != "Metadata-Version: 2.1\n" {
		t.Errorf("long path content %q", data[long])
	}
	if byName["usr/lib/big-owner"].Format != tar.FormatPAX || byName["usr/bin/su"].Format != tar.FormatUSTAR {
		t.Error("PAX only where needed")
	}
}

func TestLayerErrors(t *testing.T) {
	f := rootfs.New()
	if err := f.Put(&rootfs.Entry{Path: "a", Kind: rootfs.Hardlink, Target: "missing"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Layer(f, epoch); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("hardlink to a missing file: %v", err)
	}
	f = rootfs.New()
	f.Put(&rootfs.Entry{Path: "d", Kind: rootfs.Dir, Mode: 0o755})
	f.Put(&rootfs.Entry{Path: "a", Kind: rootfs.Hardlink, Target: "d"})
	if _, err := Layer(f, epoch); err == nil {
		t.Error("hardlink to a directory: no error")
	}
}

func TestPlatform(t *testing.T) {
	for arch, want := range map[string]string{
		"amd64":   "linux/amd64",
		"arm64":   "linux/arm64",
		"armhf":   "linux/arm/v7",
		"i386":    "linux/386",
		"ppc64el": "linux/ppc64le",
		"s390x":   "linux/s390x",
		"riscv64": "linux/riscv64",
	} {
		p, err := Platform(arch)
		if err != nil || p.String() != want {
			t.Errorf("Platform(%s) = %s, %v; want %s", arch, p.String(), err, want)
		}
		img, err := Image(mustLayer(t, tree(t, 0), epoch), testConfig(arch, epoch), nil)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if got := cf.Platform().String(); got != want {
			t.Errorf("%s: config platform %s, want %s", arch, got, want)
		}
	}
	if _, err := Platform("hurd-i386"); err == nil {
		t.Error("unknown architecture accepted")
	}
}

func TestImageConfig(t *testing.T) {
	l := mustLayer(t, tree(t, 0), epoch)
	img, err := Image(l, testConfig("amd64", epoch.Add(time.Second/3)), map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s", mt)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.MediaType != types.OCIConfigJSON || len(m.Layers) != 1 || m.Layers[0].Digest != digest(t, l) || m.Annotations["k"] != "v" {
		t.Errorf("manifest %+v", m)
	}
	// The layer descriptor records the tar's size: count it.
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil || n < 1024 {
		t.Fatalf("layer tar: %d bytes, %v", n, err)
	}
	if got := m.Layers[0].Annotations[AnnotationUncompressedSize]; got != strconv.FormatInt(n, 10) {
		t.Errorf("%s = %q, the tar has %d bytes", AnnotationUncompressedSize, got, n)
	}
	raw, _ := img.RawConfigFile()
	for _, want := range []string{
		`"created":"2024-06-08T10:00:00Z"`,
		`"User":"65532:65532"`,
		`"Env":["PATH=/usr/local/bin:/usr/bin","LANG=C.UTF-8"]`,
		`"ExposedPorts":{"53/udp":{},"8080/tcp":{}}`,
		`"Volumes":{"/data":{}}`,
		`"Labels":{"a":"1","b":"2","org.opencontainers.image.title":"python"}`,
		`"history":[{"created":"2024-06-08T10:00:00Z","created_by":"temper build (lock sha256:0123)"}]`,
		`"rootfs":{"type":"layers","diff_ids":["sha256:`,
	} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("config lacks %s:\n%s", want, raw)
		}
	}
	if err := Validate(buildIndex(t, 0, epoch, "amd64")); err != nil {
		t.Error(err)
	}
	// Zero Created is the Unix epoch, not year 1.
	img, _ = Image(l, ImageConfig{Architecture: "amd64"}, nil)
	raw, _ = img.RawConfigFile()
	if !strings.Contains(string(raw), `"created":"1970-01-01T00:00:00Z"`) {
		t.Errorf("zero Created: %s", raw)
	}
}

func TestIndex(t *testing.T) {
	idx := buildIndex(t, 0, epoch, "s390x", "i386", "ppc64el", "armhf", "arm64", "amd64")
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("media type %s", mt)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var plats []string
	for _, d := range im.Manifests {
		plats = append(plats, d.Platform.String())
		if d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("%s: %s", d.Platform, d.MediaType)
		}
	}
	if got, want := strings.Join(plats, " "), "linux/386 linux/amd64 linux/arm/v7 linux/arm64 linux/ppc64le linux/s390x"; got != want {
		t.Errorf("platforms %s, want %s", got, want)
	}
	if im.Annotations["org.opencontainers.image.created"] == "" {
		t.Error("annotations lost")
	}
	img, err := ImageFor(idx, "armhf")
	if err != nil {
		t.Fatal(err)
	}
	if cf, _ := img.ConfigFile(); cf.Variant != "v7" {
		t.Errorf("ImageFor(armhf) gave %s/%s", cf.Architecture, cf.Variant)
	}
	if _, err := ImageFor(idx, "riscv64"); err == nil {
		t.Error("ImageFor missing platform: no error")
	}
	a, _ := Image(mustLayer(t, tree(t, 0), epoch), testConfig("amd64", epoch), nil)
	if _, err := Index([]v1.Image{a, a}, nil); err == nil {
		t.Error("duplicate platform accepted")
	}
}

func mtimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, err := d.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[p] = fi.ModTime()
		return nil
	})
	return out
}

func TestLayoutRoundTrip(t *testing.T) {
	dir := t.TempDir()
	idx := buildIndex(t, 0, epoch, "amd64", "arm64")
	if err := WriteLayout(dir, idx, "python:3.11"); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, back) != digest(t, idx) {
		t.Fatal("round trip changed the index digest")
	}
	if err := Validate(back); err != nil {
		t.Fatal(err)
	}
	top, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if !strings.Contains(string(top), `"org.opencontainers.image.ref.name":"python:3.11"`) ||
		!strings.Contains(string(top), `"mediaType":"application/vnd.oci.image.index.v1+json"`) {
		t.Errorf("index.json: %s", top)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "oci-layout")); string(b) != ociLayoutFile {
		t.Errorf("oci-layout: %s", b)
	}

	// Writing again changes nothing.
	before := mtimes(t, dir)
	time.Sleep(20 * time.Millisecond)
	if err := WriteLayout(dir, buildIndex(t, 5, epoch, "arm64", "amd64"), "python:3.11"); err != nil {
		t.Fatal(err)
	}
	after := mtimes(t, dir)
	if len(before) != len(after) {
		t.Errorf("second write changed the file set: %d → %d", len(before), len(after))
	}
	for p, m := range before {
		if !after[p].Equal(m) {
			t.Errorf("%s rewritten", p)
		}
	}

	// A second reference is added beside the first; ReadLayout then wants a name.
	other := buildIndex(t, 0, epoch.Add(time.Hour), "amd64")
	if err := WriteLayout(dir, other, "python:3.12"); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLayout(dir); err == nil {
		t.Error("ReadLayout with two references: no error")
	}
	for ref, want := range map[string]v1.ImageIndex{"python:3.11": idx, "python:3.12": other} {
		got, err := ReadLayoutRef(dir, ref)
		if err != nil {
			t.Fatal(err)
		}
		if digest(t, got) != digest(t, want) {
			t.Errorf("%s: wrong index", ref)
		}
	}
	// Replacing a reference keeps one entry for it.
	if err := WriteLayout(dir, other, "python:3.11"); err != nil {
		t.Fatal(err)
	}
	top, _ = os.ReadFile(filepath.Join(dir, "index.json"))
	if n := strings.Count(string(top), "python:3.11"); n != 1 {
		t.Errorf("python:3.11 named %d times: %s", n, top)
	}
	if _, err := ReadLayoutRef(dir, "nope"); err == nil {
		t.Error("missing reference: no error")
	}
	// No temporary files left behind.
	for p := range mtimes(t, dir) {
		if strings.Contains(filepath.Base(p), ".tmp-") {
			t.Errorf("left %s", p)
		}
	}
}

func TestLayoutRepairsTruncatedBlob(t *testing.T) {
	dir := t.TempDir()
	idx := buildIndex(t, 0, epoch, "amd64")
	img, _ := ImageFor(idx, "amd64")
	layers, _ := img.Layers()
	h := digest(t, layers[0])
	blob := filepath.Join(dir, "blobs", "sha256", h.Hex)
	os.MkdirAll(filepath.Dir(blob), 0o755)
	os.WriteFile(blob, []byte("partial"), 0o644)
	if err := WriteLayout(dir, idx, "x"); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(back); err != nil {
		t.Fatal(err)
	}
}

func TestWriteTarball(t *testing.T) {
	idx := buildIndex(t, 0, epoch, "amd64", "arm64")
	img, err := ImageFor(idx, "arm64")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "python.tar")
	if err := WriteTarball(path, img, "python:3.11"); err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag("python:3.11")
	back, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.ConfigName()
	if got, err := back.ConfigName(); err != nil || got != want {
		t.Errorf("config %s, want %s (%v)", got, want, err)
	}
	bl, _ := back.Layers()
	il, _ := img.Layers()
	if len(bl) != 1 || digest(t, bl[0]) != digest(t, il[0]) {
		t.Error("tarball layer differs")
	}
	m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil || len(m) != 1 || len(m[0].RepoTags) != 1 || m[0].RepoTags[0] != "python:3.11" {
		t.Errorf("manifest.json %+v %v", m, err)
	}
}

func TestPush(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no user credentials
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	idx := buildIndex(t, 0, epoch, "amd64", "arm64", "armhf")
	ref := u.Host + "/temper/python:3.11"
	if err := Push(context.Background(), ref, idx); err != nil {
		t.Fatal(err)
	}
	d := digest(t, idx)
	dref, err := name.ParseReference(u.Host+"/temper/python@"+d.String(), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Index(dref)
	if err != nil {
		t.Fatal(err)
	}
	if digest(t, pulled) != d {
		t.Fatalf("pulled %s, pushed %s", digest(t, pulled), d)
	}
	tref, _ := name.ParseReference(ref, name.Insecure)
	byTag, err := remote.Index(tref)
	if err != nil || digest(t, byTag) != d {
		t.Fatalf("by tag: %v", err)
	}
	if err := Validate(pulled); err != nil {
		t.Fatal(err)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "localhost:5000": true, "127.0.0.1:38211": true, "127.1.2.3": true,
		"[::1]:5000": true, "registry.example:5000": false, "10.0.0.1:5000": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%s) = %v", host, got)
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestSkopeo(t *testing.T) {
	if _, err := exec.LookPath("skopeo"); err != nil {
		t.Skip("skopeo not installed")
	}
	dir := t.TempDir()
	idx := buildIndex(t, 0, epoch, "amd64", "arm64")
	if err := WriteLayout(dir, idx, "python:3.11"); err != nil {
		t.Fatal(err)
	}
	raw, _ := idx.RawManifest()
	if got := run(t, "skopeo", "inspect", "--raw", "oci:"+dir+":python:3.11"); got != string(raw) {
		t.Errorf("skopeo inspect --raw:\n%s\nwant\n%s", got, raw)
	}
	// skopeo copies and re-reads the one platform image.
	out := t.TempDir()
	run(t, "skopeo", "copy", "--override-arch", "arm64", "oci:"+dir+":python:3.11", "oci:"+out+":copy")
	run(t, "skopeo", "inspect", "--override-arch", "arm64", "oci:"+out+":copy")
}

func TestUmoci(t *testing.T) {
	if _, err := exec.LookPath("umoci"); err != nil {
		t.Skip("umoci not installed")
	}
	dir := filepath.Join(t.TempDir(), "layout")
	idx := buildIndex(t, 0, epoch, "amd64")
	if err := WriteLayout(dir, idx, "python:3.11"); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(t.TempDir(), "bundle")
	run(t, "umoci", "unpack", "--rootless", "--image", dir+":python:3.11", bundle)
	b, err := os.ReadFile(filepath.Join(bundle, "rootfs", "usr", "bin", "perl5.36.0"))
	if err != nil || string(b) != "\x7fELF perl" {
		t.Errorf("unpacked hardlink: %q %v", b, err)
	}
	if target, err := os.Readlink(filepath.Join(bundle, "rootfs", "usr", "bin", "python3")); err != nil || target != "python3.11" {
		t.Errorf("unpacked symlink: %q %v", target, err)
	}
}

// benchWords make text-like test content.
var benchWords = strings.Fields("the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their if has will so no would what up can more when out do said")

// mixedContent is n bytes of one of four kinds of content: 0 and 1
// text-like (words), 2 binary-like (small values with some noise), 3
// random.
func mixedContent(r *rand.Rand, n, kind int) []byte {
	data := make([]byte, n)
	switch kind {
	case 0, 1:
		var sb strings.Builder
		for sb.Len() < n {
			sb.WriteString(benchWords[r.Intn(len(benchWords))])
			sb.WriteByte(" \n"[r.Intn(8)/7])
		}
		copy(data, sb.String())
	case 2:
		for j := range data {
			if r.Intn(4) == 0 {
				data[j] = byte(r.Intn(256))
			} else {
				data[j] = byte(r.Intn(16))
			}
		}
	default:
		r.Read(data)
	}
	return data
}

// benchTree is ~5,000 files / ~50 MB: half text-like (compressible), a
// quarter binary-like, a quarter random.
func benchTree(b *testing.B) (*rootfs.FS, int64) {
	r := rand.New(rand.NewSource(1))
	f := rootfs.New()
	var total int64
	for i := 0; i < 5000; i++ {
		size := 2000 + r.Intn(18000)
		data := mixedContent(r, size, i%4)
		total += int64(size)
		p := fmt.Sprintf("usr/lib/pkg%03d/sub%d/file%04d", i/50, i%5, i)
		if err := f.Put(&rootfs.Entry{Path: p, Kind: rootfs.File, Mode: 0o644, Data: data}); err != nil {
			b.Fatal(err)
		}
	}
	return f, total
}

func BenchmarkLayer(b *testing.B) {
	f, total := benchTree(b)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	var size int64
	for b.Loop() {
		l, err := Layer(f, epoch)
		if err != nil {
			b.Fatal(err)
		}
		size, _ = l.Size()
	}
	b.ReportMetric(float64(size)/float64(total), "ratio")
}

// Concurrent writers of one layout keep every name.
func TestWriteLayoutConcurrent(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tree := rootfs.New()
			tree.Put(&rootfs.Entry{Path: fmt.Sprintf("file%d", i), Kind: rootfs.File, Mode: 0o644, Data: []byte{byte(i)}})
			layer, err := Layer(tree, time.Unix(0, 0))
			if err != nil {
				errs[i] = err
				return
			}
			img, err := Image(layer, ImageConfig{Architecture: "amd64", User: "65532:65532"}, nil)
			if err != nil {
				errs[i] = err
				return
			}
			idx, err := Index([]v1.Image{img}, nil)
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = WriteLayout(dir, idx, fmt.Sprintf("img:%d", i))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range errs {
		if _, err := ReadLayoutRef(dir, fmt.Sprintf("img:%d", i)); err != nil {
			t.Errorf("img:%d lost: %v", i, err)
		}
	}
}
