// Package archive is temper's client for a Debian archive: it fetches each
// suite's signed InRelease, verifies it, fetches and verifies the Packages
// indices it names, keeps them in a content-addressed cache, and presents a
// release (its suite, -updates and -security) as one set of candidate
// packages, the way apt sees it with default pins.
//
// Nothing from the network is trusted: InRelease must carry a good signature
// from a trusted archive key and be within its Valid-Until, and every index
// must match the size and SHA-256 the signed Release file lists. Anything that
// does not verify is refused and never cached.
package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/index"
	"github.com/temper-dev/temper/internal/debian/release"
	"github.com/temper-dev/temper/internal/limits"
	"github.com/temper-dev/temper/internal/xzdict"
)

// maxInRelease bounds how much we read for one InRelease file; Debian's
// largest are ~150 KB.
const maxInRelease = 32 << 20

// Config says where the archive is and how far to trust it.
type Config struct {
	Mirrors Mirrors
	Cache   *cache.Cache
	HTTP    *fetch.Client
	Keyring *release.Keyring
	// Now is the clock used for Valid-Until and key expiry; time.Now when nil.
	Now func() time.Time
	// AllowExpired accepts metadata past its Valid-Until (snapshot archives).
	AllowExpired bool
	// Offline uses the last verified InRelease of each suite from the cache
	// instead of the network. Signatures and Valid-Until are still checked.
	Offline bool
	// Components to read; ["main"] when empty.
	Components []string
}

// Client reads one archive configuration. It is safe for concurrent use and
// fetches each suite's InRelease at most once.
type Client struct {
	cfg Config

	mu     sync.Mutex
	suites map[string]*suiteCall
}

type suiteCall struct {
	done  chan struct{}
	suite *Suite
	err   error
}

// New checks the configuration and returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.Cache == nil {
		return nil, errors.New("archive: no cache configured")
	}
	if cfg.Keyring == nil {
		return nil, errors.New("archive: no keyring configured")
	}
	if cfg.HTTP == nil && !cfg.Offline {
		return nil, errors.New("archive: no HTTP client configured")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.Components) == 0 {
		cfg.Components = []string{"main"}
	}
	return &Client{cfg: cfg, suites: map[string]*suiteCall{}}, nil
}

// Suite is one suite's verified metadata.
type Suite struct {
	Ref SuiteRef
	// InReleaseSHA256 is the digest of the InRelease file as fetched: two
	// equal digests mean nothing in the suite changed.
	InReleaseSHA256 string
	Release         *release.File
	// Signatures are the good signatures that made us trust it.
	Signatures []release.SignatureCheck
	// FromCache is true when the InRelease was read from the cache
	// (offline mode) rather than the network.
	FromCache bool
}

// Suite fetches and verifies a suite's InRelease, once per client.
func (c *Client) Suite(ctx context.Context, ref SuiteRef) (*Suite, error) {
	// A suite verified with one keyring is never handed out for another:
	// two definitions that pin different keys for one URL each verify.
	key := ref.InReleaseURL() + "\x00" + keyringID(ref.Keyring)
	c.mu.Lock()
	call, ok := c.suites[key]
	if !ok {
		call = &suiteCall{done: make(chan struct{})}
		c.suites[key] = call
		c.mu.Unlock()
		call.suite, call.err = c.loadSuite(ctx, ref)
		close(call.done)
		if call.err != nil { // do not remember failures: a retry may succeed
			c.mu.Lock()
			delete(c.suites, key)
			c.mu.Unlock()
		}
		return call.suite, call.err
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call.suite, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func refName(url string) string { return "inrelease " + url }

func (c *Client) loadSuite(ctx context.Context, ref SuiteRef) (*Suite, error) {
	url := ref.InReleaseURL()
	var data []byte
	fromCache := false
	if c.cfg.Offline {
		sum, err := c.cfg.Cache.GetRef(refName(url))
		if err != nil {
			return nil, fmt.Errorf("%s: not in the cache for offline use (%v); run once with network access", url, err)
		}
		data, err = c.cfg.Cache.Read(string(sum))
		if err != nil {
			return nil, fmt.Errorf("%s: cached copy unusable: %w", url, err)
		}
		fromCache = true
	} else {
		var err error
		data, err = c.cfg.HTTP.GetBytes(ctx, url, maxInRelease)
		if err != nil {
			return nil, err
		}
	}
	now := c.cfg.Now()
	keyring := c.cfg.Keyring
	if ref.Keyring != nil {
		keyring = ref.Keyring
	}
	ver, err := release.VerifyInRelease(url, data, keyring, now)
	if err != nil {
		return nil, err
	}
	rel, err := release.Parse(ver.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	// A mirror that answers for one suite with another's metadata (by mistake
	// or to replay an old, vulnerable state) is caught here.
	if !ref.Flat && rel.Codename != ref.Name && rel.Suite != ref.Name {
		return nil, fmt.Errorf("%s: the signed Release describes suite %q (codename %q), not %q; the mirror is misconfigured or serving the wrong file", url, rel.Suite, rel.Codename, ref.Name)
	}
	if !c.cfg.AllowExpired {
		if err := rel.CheckValid(url, now); err != nil {
			return nil, err
		}
	}
	sum := sha256Hex(data)
	if !fromCache {
		// Only verified metadata is cached.
		if err := c.cfg.Cache.WriteBytes(sum, data); err != nil {
			return nil, err
		}
		if err := c.cfg.Cache.PutRef(refName(url), []byte(sum)); err != nil {
			return nil, err
		}
	}
	return &Suite{Ref: ref, InReleaseSHA256: sum, Release: rel, Signatures: ver.Good(), FromCache: fromCache}, nil
}

// IndexSource says where an index's bytes came from, for reporting and
// benchmarks.
type IndexSource struct {
	Path        string // e.g. main/binary-amd64/Packages
	SHA256      string // of the uncompressed index
	Size        int64  // uncompressed
	Downloaded  string // URL downloaded, "" when read from the cache
	Compression string // compression downloaded ("xz", "gz", ...), "" when cached
}

// IndexData returns the verified, uncompressed bytes of a suite's
// component/binary-arch/Packages, from the cache when present, else from
// the archive (xz preferred, then gz, zst, uncompressed).
func (c *Client) IndexData(ctx context.Context, s *Suite, component, arch string) ([]byte, IndexSource, error) {
	path := component + "/binary-" + arch + "/Packages"
	if s.Ref.Flat {
		path = "Packages" // a flat repository has one index beside its InRelease
	}
	src := IndexSource{Path: path}
	plain, hasPlain := s.Release.Lookup(path)
	if hasPlain {
		src.SHA256, src.Size = plain.SHA256, plain.Size
		data, err := c.cfg.Cache.Read(plain.SHA256)
		if err == nil {
			return data, src, nil
		}
		if !errors.Is(err, cache.ErrNotFound) {
			return nil, src, err
		}
	}
	if c.cfg.Offline {
		return nil, src, fmt.Errorf("%s %s: not in the cache for offline use; run once with network access", s.Ref.Name, path)
	}
	maxIndex := limits.Get().Index
	if hasPlain && plain.Size > maxIndex {
		return nil, src, indexLimit(s.Ref.Name, path+" ("+strconv.FormatInt(plain.Size, 10)+" bytes, says the signed Release)", maxIndex)
	}
	for _, ext := range []string{".xz", ".gz", ".zst", ""} {
		fh, ok := s.Release.Lookup(path + ext)
		if !ok || (ext == "" && !hasPlain) {
			continue
		}
		if !hasPlain {
			data, err := c.compressedIndex(ctx, s, fh, ext, maxIndex, &src)
			if err != nil {
				return nil, src, err
			}
			src.Compression, src.SHA256, src.Size = strings.TrimPrefix(ext, "."), sha256Hex(data), int64(len(data))
			return data, src, nil
		}
		comp, url, err := c.download(ctx, s, fh)
		if err != nil {
			if fetch.IsNotFound(err) {
				continue // the Release lists it but the mirror lacks it; try the next form
			}
			return nil, src, err
		}
		data, err := c.verifiedIndex(url, ext, comp, fh, plain)
		if err != nil {
			return nil, src, err
		}
		src.Downloaded, src.Compression = url, strings.TrimPrefix(ext, ".")
		if ext == "" {
			src.Compression = "none"
		}
		return data, src, nil
	}
	return nil, src, fmt.Errorf("%s: the signed Release lists no usable %s[.xz|.gz|.zst] (architectures %s, components %s)",
		s.Ref.InReleaseURL(), path, strings.Join(s.Release.Architectures, " "), strings.Join(s.Release.Components, " "))
}

// compressedIndex reads an index the signed Release names only compressed
// (fh): the compressed file is what the cache keeps, since its digest is
// the one the Release gives. It is downloaded when not cached (the URL in
// src.Downloaded) and decompressed up to maxIndex bytes.
func (c *Client) compressedIndex(ctx context.Context, s *Suite, fh release.FileHash, ext string, maxIndex int64, src *IndexSource) ([]byte, error) {
	comp, err := c.cfg.Cache.Read(fh.SHA256)
	if err != nil {
		comp, src.Downloaded, err = c.download(ctx, s, fh)
		if err != nil {
			return nil, err
		}
		if err := c.cfg.Cache.WriteBytes(fh.SHA256, comp); err != nil {
			return nil, err
		}
	}
	data, err := decompress(ext, comp, maxIndex)
	if errors.Is(err, errTooLarge) {
		return nil, indexLimit(s.Ref.Name, fh.Path+" decompressed", maxIndex)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: decompressing %s: %w", s.Ref.Name, fh.Path, err)
	}
	return data, nil
}

// verifiedIndex decompresses comp (fh, downloaded from url) and checks it
// against the uncompressed index the signed Release names (plain), then
// caches it under plain's digest.
func (c *Client) verifiedIndex(url, ext string, comp []byte, fh, plain release.FileHash) ([]byte, error) {
	// More than the signed Release's size is a mismatch already:
	// decompressing stops one byte past it.
	data, err := decompress(ext, comp, plain.Size)
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("%s: uncompressed index is larger than the signed Release's %d bytes; the mirror is inconsistent, try again later or use another mirror", url, plain.Size)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: decompressing %s: %w", url, fh.Path, err)
	}
	if int64(len(data)) != plain.Size || sha256Hex(data) != plain.SHA256 {
		return nil, fmt.Errorf("%s: uncompressed index does not match the signed Release (want %d bytes sha256 %s, got %d bytes sha256 %s); the mirror is inconsistent, try again later or use another mirror",
			url, plain.Size, plain.SHA256, len(data), sha256Hex(data))
	}
	if err := c.cfg.Cache.WriteBytes(plain.SHA256, data); err != nil {
		return nil, err
	}
	return data, nil
}

// download fetches one file the Release names and checks its size and
// SHA-256. By-hash URLs are used when the archive offers them, because they
// cannot change under us while a mirror syncs; the canonical path is the
// fallback when a mirror lacks the by-hash copy.
func (c *Client) download(ctx context.Context, s *Suite, fh release.FileHash) ([]byte, string, error) {
	base := s.Ref.dir()
	urls := []string{base + fh.Path}
	if s.Release.AcquireByHash {
		urls = []string{base + s.Release.ByHashPath(fh.Path), base + fh.Path}
	}
	var lastErr error
	for _, url := range urls {
		var buf bytes.Buffer
		err := c.cfg.HTTP.Get(ctx, url, func() (io.Writer, error) {
			buf.Reset()
			buf.Grow(int(min(fh.Size, 8<<20))) // a claimed size is not an allocation
			return &limitedWriter{w: &buf, n: fh.Size}, nil
		})
		if err != nil {
			lastErr = err
			if fetch.IsNotFound(err) {
				continue
			}
			return nil, url, err
		}
		data := buf.Bytes()
		if int64(len(data)) != fh.Size {
			return nil, url, fmt.Errorf("%s: got %d bytes, the signed Release says %d: the download was truncated or the mirror is inconsistent", url, len(data), fh.Size)
		}
		if got := sha256Hex(data); got != fh.SHA256 {
			return nil, url, fmt.Errorf("%s: sha256 %s does not match the signed Release (%s); refusing it (the mirror is inconsistent or the file was tampered with)", url, got, fh.SHA256)
		}
		return data, url, nil
	}
	return nil, urls[0], lastErr
}

// limitedWriter refuses more bytes than the Release announced, so a hostile
// or broken server cannot make us buffer without bound.
type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		return 0, fmt.Errorf("more data than the signed Release announced")
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}

// errTooLarge is decompress's error for output past its limit.
var errTooLarge = errors.New("decompressed data past the limit")

// indexLimit is the error of an index past the per-index limit.
func indexLimit(what, where string, max int64) error {
	return &limits.Error{What: what, Where: where,
		Limit: "the per-index limit of " + limits.Human(max) + " (TEMPER_LIMIT_INDEX)"}
}

// decompress decompresses data, counting while it reads: past max bytes
// of output it stops with errTooLarge, having allocated at most max+1
// bytes (a few kilobytes of xz can claim gigabytes of zeros).
func decompress(ext string, data []byte, max int64) ([]byte, error) {
	var r io.Reader
	switch ext {
	case "":
		if int64(len(data)) > max {
			return nil, errTooLarge
		}
		return data, nil
	case ".xz":
		// A block header claiming a dictionary past the limit is refused
		// before the decoder allocates it.
		xr, err := xzdict.NewReader(bytes.NewReader(data), limits.Get().XZDict)
		if err != nil {
			return nil, err
		}
		r = xr
	case ".gz":
		gr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		defer gr.Close()
		r = gr
	case ".zst":
		zr, err := zstd.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	default:
		return nil, fmt.Errorf("unknown compression %q", ext)
	}
	var out bytes.Buffer
	out.Grow(int(min(int64(len(data))*6, max+1)))
	n, err := io.Copy(&out, io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, errTooLarge
	}
	return out.Bytes(), nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Index loads and parses one suite's Packages index for a component and
// architecture.
func (c *Client) Index(ctx context.Context, s *Suite, component, arch string) ([]index.Package, IndexSource, error) {
	data, src, err := c.IndexData(ctx, s, component, arch)
	if err != nil {
		return nil, src, err
	}
	pkgs, err := index.Parse(data)
	if err != nil {
		return nil, src, fmt.Errorf("%s %s: %w", s.Ref.Name, src.Path, err)
	}
	return pkgs, src, nil
}
