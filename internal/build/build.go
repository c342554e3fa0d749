// Package build turns a definition and its lock into an OCI image
// index: it fetches the lock's .debs (verified, cached), assembles each
// architecture's tree (internal/assemble), packages it deterministically
// (internal/oci) and writes the requested outputs. The lock is the only
// input besides the definition: the live archive is never consulted, so the
// same lock gives the same digests on any machine at any time.
package build

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/temper-dev/temper/internal/assemble"
	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/deb"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// FormatVersion names the image layout temper produces. It is part of the
// build key: a temper that changes what it writes for a given lock bumps
// it, so stores rebuild instead of keeping stale images. 2: ucf
// conffiles (php.ini) are installed. 3: layer descriptors record the
// uncompressed size.
const FormatVersion = "3"

// Annotation keys temper sets on its manifests and indexes.
const (
	AnnotationLockDigest = "dev.temper.lock.digest"
	AnnotationBuildKey   = "dev.temper.build.key"
	AnnotationRelease    = "dev.temper.debian.release"
	AnnotationRelaxed    = "dev.temper.hardening.relaxed"
)

// Options say what to write.
type Options struct {
	Fetcher *pool.Fetcher
	// Output is an OCI layout directory; images are added to it under
	// their reference name (NAME:VERSION).
	Output string
	// Tarball writes a docker-archive of one architecture (TarballArch,
	// default the first of the definition's) for podman/docker load.
	Tarball     string
	TarballArch string
	// Push pushes the index to a registry reference.
	Push string
	// Force rebuilds even when the output already holds this build.
	Force bool
	// Log receives progress lines; nil for none.
	Log io.Writer
	// Signer, when set, signs the index and each platform manifest and
	// attaches the SBOMs and provenance as signed attestations, in
	// cosign's layout, to the layout output and the pushed image
	// (evidence.go).
	Signer *attest.Signer
	// SBOMDir, when set, receives each architecture's SPDX and CycloneDX
	// documents.
	SBOMDir string
	// Remote options for pushing the signatures (tests: transports).
	Remote []remote.Option
}

// ImageInfo describes one architecture's image.
type ImageInfo struct {
	Arch             string
	Digest           string
	Packages         int
	CompressedSize   int64 // layer bytes as stored
	UncompressedSize int64 // layer tar bytes
	Report           *assemble.Report
}

// Result is one build.
type Result struct {
	Definition  string
	Ref         string
	Skipped     bool // the output already held this exact build
	IndexDigest string
	BuildKey    string
	Images      []ImageInfo
	Fetch       pool.Stats
	Elapsed     time.Duration
}

// RefName is the name an image gets in layouts and tarballs.
func RefName(def *spec.Definition) string { return def.Name + ":" + def.Version }

// BuildKey identifies a build: the lock, the definition (which shapes the
// image config and hardening) and the output format.
func BuildKey(def *spec.Definition, l *spec.Lock) string {
	h := sha256.Sum256([]byte("temper-build " + FormatVersion + "\n" + l.Digest() + "\n" + def.SHA256 + "\n"))
	return hex.EncodeToString(h[:])
}

// Load reads a definition and its lock and checks that they belong
// together.
func Load(defPath string) (*spec.Definition, *spec.Lock, error) {
	def, err := spec.LoadDefinition(defPath)
	if err != nil {
		return nil, nil, err
	}
	lockPath := def.LockPath()
	l, err := spec.LoadLock(lockPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s: no lock (%s); run `temper lock %s` first", defPath, lockPath, defPath)
	}
	if err != nil {
		return nil, nil, err
	}
	if !l.Matches(def) {
		return nil, nil, fmt.Errorf("%s: the lock %s was made from a different version of the definition (sha256 %s, now %s); run `temper lock %s`", defPath, lockPath, l.Definition.SHA256, def.SHA256, defPath)
	}
	for _, a := range def.Architectures {
		if l.Architectures[a] == nil {
			return nil, nil, fmt.Errorf("%s: the lock has no %s closure; run `temper lock %s`", defPath, a, defPath)
		}
	}
	return def, l, nil
}

// Epoch is the SOURCE_DATE_EPOCH of a lock: the newest Date of the signed
// suites it was resolved against. It moves only when the lock does.
func Epoch(l *spec.Lock) time.Time {
	var t time.Time
	for _, s := range l.Suites {
		if s.Date.After(t) {
			t = s.Date
		}
	}
	return oci.Epoch(t)
}

// AlreadyBuilt reports whether the layout at dir holds this build under
// ref: its index carries the same build key. It reads only index.json and
// one small manifest, so a no-op rebuild costs milliseconds.
func AlreadyBuilt(dir, ref, key string) (string, bool) {
	idx, err := oci.ReadLayoutRef(dir, ref)
	if err != nil {
		return "", false
	}
	m, err := idx.IndexManifest()
	if err != nil || m.Annotations[AnnotationBuildKey] != key {
		return "", false
	}
	d, err := idx.Digest()
	if err != nil {
		return "", false
	}
	return d.String(), true
}

// Build builds one definition.
func Build(ctx context.Context, defPath string, opt Options) (*Result, error) {
	start := time.Now()
	def, l, err := Load(defPath)
	if err != nil {
		return nil, err
	}
	res := &Result{Definition: defPath, Ref: RefName(def), BuildKey: BuildKey(def, l)}
	if opt.Output != "" && !opt.Force && opt.Tarball == "" && opt.Push == "" && opt.Signer == nil && opt.SBOMDir == "" {
		if d, ok := AlreadyBuilt(opt.Output, res.Ref, res.BuildKey); ok {
			res.Skipped, res.IndexDigest, res.Elapsed = true, d, time.Since(start)
			return res, nil
		}
	}
	idx, infos, st, err := Index(ctx, def, l, opt.Fetcher, opt.Log)
	res.Fetch = st
	if err != nil {
		return nil, fmt.Errorf("%s: %w", defPath, err)
	}
	res.Images = infos
	d, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	res.IndexDigest = d.String()
	if opt.Output != "" {
		if err := oci.WriteLayout(opt.Output, idx, res.Ref); err != nil {
			return nil, fmt.Errorf("%s: writing %s: %w", defPath, opt.Output, err)
		}
	}
	if opt.Tarball != "" {
		arch := opt.TarballArch
		if arch == "" {
			arch = def.Architectures[0]
		}
		img, err := oci.ImageFor(idx, arch)
		if err != nil {
			return nil, err
		}
		if err := oci.WriteTarball(opt.Tarball, img, res.Ref); err != nil {
			return nil, fmt.Errorf("%s: writing %s: %w", defPath, opt.Tarball, err)
		}
	}
	if opt.Push != "" {
		if err := oci.Push(ctx, opt.Push, idx); err != nil {
			return nil, fmt.Errorf("%s: pushing %s: %w", defPath, opt.Push, err)
		}
	}
	if err := evidence(ctx, def, l, idx, opt); err != nil {
		return nil, fmt.Errorf("%s: %w", defPath, err)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// Index fetches the lock's .debs and builds the image index in memory.
func Index(ctx context.Context, def *spec.Definition, l *spec.Lock, f *pool.Fetcher, log io.Writer) (v1.ImageIndex, []ImageInfo, pool.Stats, error) {
	epoch := Epoch(l)
	key := BuildKey(def, l)
	var items []pool.Item
	seen := map[string]int{}
	for _, arch := range def.Architectures {
		for _, p := range l.Architectures[arch].Packages {
			if _, ok := seen[p.SHA256]; ok {
				continue
			}
			seen[p.SHA256] = len(items)
			items = append(items, pool.Item{Name: p.Name, Version: p.Version, Suite: p.Suite, Filename: p.Filename, SHA256: p.SHA256, Size: p.Size})
		}
	}
	data, st, err := f.Fetch(ctx, items)
	if err != nil {
		return nil, nil, st, err
	}
	if data, err = fastCopies(f.Cache, items, data); err != nil {
		return nil, nil, st, err
	}
	var images []v1.Image
	var infos []ImageInfo
	for _, arch := range def.Architectures {
		var debs []assemble.Deb
		for _, p := range l.Architectures[arch].Packages {
			debs = append(debs, assemble.Deb{Package: p, Data: data[seen[p.SHA256]]})
		}
		tree, rep, err := assemble.Assemble(assemble.Input{Def: def, Arch: arch, Debs: debs, Release: l.Release})
		if err != nil {
			return nil, nil, st, fmt.Errorf("%s: %w", arch, err)
		}
		layer, err := oci.Layer(tree, epoch)
		if err != nil {
			return nil, nil, st, fmt.Errorf("%s: %w", arch, err)
		}
		user, err := runUser(tree, def)
		if err != nil {
			return nil, nil, st, err
		}
		cfg := oci.ImageConfig{
			Architecture: arch,
			User:         user,
			Env:          env(rep, def),
			Entrypoint:   def.Image.Entrypoint,
			Cmd:          def.Image.Cmd,
			WorkingDir:   def.Image.Workdir,
			Labels:       labels(def, l, rep, key),
			Created:      epoch,
			History:      "temper build (lock sha256:" + l.Digest() + ")",
			ExposedPorts: def.Image.Ports,
		}
		img, err := oci.Image(layer, cfg, labels(def, l, rep, key))
		if err != nil {
			return nil, nil, st, err
		}
		images = append(images, img)
		d, _ := img.Digest()
		size, _ := layer.Size()
		info := ImageInfo{Arch: arch, Digest: d.String(), Packages: len(debs), CompressedSize: size, Report: rep}
		if u, ok := layer.(interface{ UncompressedSize() int64 }); ok {
			info.UncompressedSize = u.UncompressedSize()
		}
		infos = append(infos, info)
		if log != nil {
			fmt.Fprintf(log, "%s %s: %d packages, %s compressed, %s uncompressed, %s\n", RefName(def), arch, len(debs), human(info.CompressedSize), human(info.UncompressedSize), info.Digest)
		}
	}
	ann := map[string]string{
		"org.opencontainers.image.title":   def.Name,
		"org.opencontainers.image.version": def.Version,
		"org.opencontainers.image.created": epoch.Format(time.RFC3339),
		AnnotationLockDigest:               "sha256:" + l.Digest(),
		AnnotationBuildKey:                 key,
		AnnotationRelease:                  l.Release,
	}
	for k, v := range def.Image.Annotations {
		ann[k] = v
	}
	idx, err := oci.Index(images, ann)
	return idx, infos, st, err
}

// fastCopies swaps each verified .deb for its zstd-transcoded copy
// (deb.Transcode), from the cache when an earlier build made it. The copy
// unpacks to exactly the same files; it only spares warm builds the xz
// decoding that dominates them. A ref maps the .deb's digest to the copy's,
// and the copy itself is content-addressed and verified on read like
// everything in the cache.
func fastCopies(c *cache.Cache, items []pool.Item, data [][]byte) ([][]byte, error) {
	out := make([][]byte, len(data))
	errs := make([]error, len(data))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out[i], errs[i] = fastCopy(c, items[i], data[i])
			}
		}()
	}
	for i := range data {
		work <- i
	}
	close(work)
	wg.Wait()
	return out, errors.Join(errs...)
}

func fastCopy(c *cache.Cache, it pool.Item, data []byte) ([]byte, error) {
	ref := "deb-zst " + it.SHA256
	if sum, err := c.GetRef(ref); err == nil {
		if fast, err := c.Read(string(sum)); err == nil {
			return fast, nil
		}
	}
	fast, err := deb.Transcode(path.Base(it.Filename), data)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", it.Name, it.Version, err)
	}
	h := sha256.Sum256(fast)
	sum := hex.EncodeToString(h[:])
	// A failure to cache the copy only costs the next build time.
	if c.WriteBytes(sum, fast) == nil {
		c.PutRef(ref, []byte(sum))
	}
	return fast, nil
}

func env(rep *assemble.Report, def *spec.Definition) []string {
	out := append([]string(nil), rep.Env...)
	keys := make([]string, 0, len(def.Image.Env))
	for k := range def.Image.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv := k + "=" + def.Image.Env[k]
		replaced := false
		for i, e := range out {
			if strings.HasPrefix(e, k+"=") {
				out[i], replaced = kv, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

func labels(def *spec.Definition, l *spec.Lock, rep *assemble.Report, key string) map[string]string {
	m := map[string]string{
		"org.opencontainers.image.title":   def.Name,
		"org.opencontainers.image.version": def.Version,
		"org.opencontainers.image.created": Epoch(l).Format(time.RFC3339),
		AnnotationLockDigest:               "sha256:" + l.Digest(),
		AnnotationBuildKey:                 key,
		AnnotationRelease:                  l.Release,
	}
	if len(rep.Relaxed) > 0 {
		m[AnnotationRelaxed] = strings.Join(rep.Relaxed, ",")
	}
	for k, v := range def.Image.Annotations {
		m[k] = v
	}
	return m
}

// runUser turns the definition's user into the numeric uid:gid the image
// config needs, reading the image's own /etc/passwd.
func runUser(tree *rootfs.FS, def *spec.Definition) (string, error) {
	u := def.Image.User
	if u == "" {
		u = spec.DefaultUser
	}
	if strings.Contains(u, ":") {
		return u, nil
	}
	if _, err := strconv.Atoi(u); err == nil {
		return u + ":" + u, nil
	}
	e, ok := tree.Get("etc/passwd")
	if !ok {
		return "", fmt.Errorf("user %q: the image has no /etc/passwd", u)
	}
	sc := bufio.NewScanner(bytes.NewReader(e.Data))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) >= 4 && f[0] == u {
			return f[2] + ":" + f[3], nil
		}
	}
	return "", fmt.Errorf("user %q is not in the image's /etc/passwd; declare it under image.accounts", u)
}

func human(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// DefaultStore is the embedded image store: an OCI layout under the user's
// data directory ($XDG_DATA_HOME/temper/images, ~/.local/share/temper/images).
func DefaultStore() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "temper", "images"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "share", "temper", "images"), nil
}
