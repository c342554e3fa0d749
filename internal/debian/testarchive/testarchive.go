// Package testarchive builds small, signed Debian archives for hermetic
// tests and serves them over httptest: a few packages, any suites, any
// architectures, with InRelease clearsigned by keys the test generates.
// Its Server can inject failures (status codes, truncation, stalls,
// tampering) per path, and counts requests so tests can assert what was
// (not) downloaded.
package testarchive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/klauspost/compress/gzip"
	"github.com/ulikunitz/xz"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/release"
	"github.com/temper-dev/temper/internal/debian/release/releasetest"
)

// Package is one binary package in a fixture suite.
type Package struct {
	Name, Version string
	Arch          string            // "amd64", "arm64" or "all"
	Fields        map[string]string // extra control fields: Depends, Provides, Source, Multi-Arch, ...
	// Deb is the .deb's content; a placeholder is used when nil.
	Deb []byte
	// Size, when non-zero, is the Size the Packages index claims instead
	// of the .deb's length (a lying index, for hostile-input tests).
	Size int64
}

// Suite is one suite of a fixture archive.
type Suite struct {
	Name string // e.g. "bookworm-security"
	// Archive is the archive this suite lives in: "debian" (default) or
	// "debian-security".
	Archive       string
	Codename      string    // defaults to Name
	Date          time.Time // defaults to 2026-01-01
	ValidUntil    time.Time // omitted when zero
	Architectures []string  // defaults to amd64 arm64
	NoByHash      bool
	// Compressions to publish, defaults to xz and gz.
	Compressions []string
	Packages     []Package
}

// Archive is a set of suites signed by Signers.
type Archive struct {
	Suites  []Suite
	Signers []*openpgp.Entity
}

// DefaultDate is the Date of suites that name none. InRelease signatures
// are made at the suite's Date, so fixture keys must be older
// (KeyCreation is a good choice).
var DefaultDate = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// KeyCreation is a creation time for fixture keys that predates DefaultDate,
// so tests do not depend on the real clock.
var KeyCreation = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Files renders the archive: a map from URL path (e.g.
// "/debian/dists/bookworm/InRelease") to content.
func (a *Archive) Files(t testing.TB) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, s := range a.Suites {
		a.addSuite(t, files, s.withDefaults())
	}
	return files
}

// withDefaults fills in what the suite leaves out.
func (s Suite) withDefaults() Suite {
	if s.Archive == "" {
		s.Archive = "debian"
	}
	if len(s.Architectures) == 0 {
		s.Architectures = []string{"amd64", "arm64"}
	}
	if s.Compressions == nil {
		s.Compressions = []string{"xz", "gz"}
	}
	if s.Codename == "" {
		s.Codename = s.Name
	}
	if s.Date.IsZero() {
		s.Date = DefaultDate
	}
	return s
}

// indexFile is one file a Release file lists, by its path below the
// suite directory.
type indexFile struct {
	path string
	data []byte
}

// addSuite renders one suite (defaults filled in): its pool files, its
// Packages indices in every compression, Release and InRelease.
func (a *Archive) addSuite(t testing.TB, files map[string][]byte, s Suite) {
	dist := "/" + s.Archive + "/dists/" + s.Name + "/"
	var listed []indexFile
	for _, arch := range s.Architectures {
		idx := packagesIndex(files, s, arch)
		base := "main/binary-" + arch + "/Packages"
		listed = append(listed, indexFile{base, idx})
		for _, c := range s.Compressions {
			listed = append(listed, indexFile{base + "." + c, compress(t, c, idx)})
		}
	}
	rel := releaseFile(s, listed)
	for _, e := range listed {
		if strings.HasSuffix(e.path, "/Packages") {
			continue // Debian lists the uncompressed index but does not publish it
		}
		files[dist+e.path] = e.data
		if !s.NoByHash {
			files[dist+path.Dir(e.path)+"/by-hash/SHA256/"+sha256Hex(e.data)] = e.data
		}
	}
	files[dist+"Release"] = rel
	files[dist+"InRelease"] = releasetest.ClearSignAt(t, s.Date, rel, a.Signers...)
}

// packagesIndex returns the Packages index of one architecture of the
// suite (packages of that architecture and "all", by name) and adds their
// .debs to files.
func packagesIndex(files map[string][]byte, s Suite, arch string) []byte {
	var idx bytes.Buffer
	pkgs := append([]Package(nil), s.Packages...)
	sort.SliceStable(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	for _, p := range pkgs {
		if p.Arch != arch && p.Arch != "all" {
			continue
		}
		deb := p.Deb
		if deb == nil {
			deb = []byte("!<arch>\nplaceholder " + p.Name + " " + p.Version + " " + p.Arch + "\n")
		}
		fn := fmt.Sprintf("pool/main/%s/%s/%s_%s_%s.deb", p.Name[:1], p.Name, p.Name, strings.ReplaceAll(p.Version, ":", "%3a"), p.Arch)
		files["/"+s.Archive+"/"+fn] = deb
		writeStanza(&idx, p, fn, deb)
	}
	return idx.Bytes()
}

// writeStanza writes a package's Packages stanza: its identity, its extra
// fields by name, a default Maintainer and Description, and where its .deb
// is.
func writeStanza(idx *bytes.Buffer, p Package, fn string, deb []byte) {
	fmt.Fprintf(idx, "Package: %s\nVersion: %s\nArchitecture: %s\n", p.Name, p.Version, p.Arch)
	keys := make([]string, 0, len(p.Fields))
	for k := range p.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(idx, "%s: %s\n", k, p.Fields[k])
	}
	if _, ok := p.Fields["Maintainer"]; !ok {
		idx.WriteString("Maintainer: Test Maintainer <test@example.org>\n")
	}
	if _, ok := p.Fields["Description"]; !ok {
		fmt.Fprintf(idx, "Description: fixture package %s\n a longer description\n .\n of %s\n", p.Name, p.Name)
	}
	size := int64(len(deb))
	if p.Size != 0 {
		size = p.Size
	}
	fmt.Fprintf(idx, "Filename: %s\nSize: %d\nSHA256: %s\n\n", fn, size, sha256Hex(deb))
}

// releaseFile is the suite's Release file listing the index files.
func releaseFile(s Suite, listed []indexFile) []byte {
	var rel bytes.Buffer
	fmt.Fprintf(&rel, "Origin: Debian\nLabel: Debian\nSuite: %s\nCodename: %s\nDate: %s\n", s.Name, s.Codename, s.Date.UTC().Format(time.RFC1123))
	if !s.ValidUntil.IsZero() {
		fmt.Fprintf(&rel, "Valid-Until: %s\n", s.ValidUntil.UTC().Format(time.RFC1123))
	}
	if !s.NoByHash {
		rel.WriteString("Acquire-By-Hash: yes\n")
	}
	fmt.Fprintf(&rel, "Architectures: %s\nComponents: main\nDescription: fixture %s\nSHA256:\n", strings.Join(s.Architectures, " "), s.Name)
	for _, e := range listed {
		fmt.Fprintf(&rel, " %s %8d %s\n", sha256Hex(e.data), len(e.data), e.path)
	}
	return rel.Bytes()
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func compress(t testing.TB, kind string, data []byte) []byte {
	var b bytes.Buffer
	switch kind {
	case "xz":
		w, err := xz.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case "gz":
		w := gzip.NewWriter(&b)
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("testarchive: unknown compression %q", kind)
	}
	return b.Bytes()
}

// Server serves fixture files over HTTP.
type Server struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	hook  func(w http.ResponseWriter, r *http.Request) bool
	hits  map[string]int
}

// Serve starts a server for files; it is closed when the test ends.
func Serve(t testing.TB, files map[string][]byte) *Server {
	s := &Server{files: files, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// ArchiveURL and SecurityURL are the two archives' base URLs.
func (s *Server) ArchiveURL() string  { return s.URL + "/debian" }
func (s *Server) SecurityURL() string { return s.URL + "/debian-security" }

// SetHook installs a function that may answer a request itself (returning
// true) before the normal file lookup: for injecting failures.
func (s *Server) SetHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	s.hook = h
	s.mu.Unlock()
}

// SetFile replaces or adds a file.
func (s *Server) SetFile(p string, data []byte) {
	s.mu.Lock()
	s.files[p] = data
	s.mu.Unlock()
}

// File returns a served file.
func (s *Server) File(p string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files[p]
}

// Hits returns how many requests each path received.
func (s *Server) Hits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.hits))
	for k, v := range s.hits {
		out[k] = v
	}
	return out
}

// ResetHits forgets the request counts.
func (s *Server) ResetHits() {
	s.mu.Lock()
	s.hits = map[string]int{}
	s.mu.Unlock()
}

// TotalHits counts all requests, optionally only those whose path contains substr.
func (s *Server) TotalHits(substr string) int {
	n := 0
	for p, c := range s.Hits() {
		if strings.Contains(p, substr) {
			n += c
		}
	}
	return n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	hook := s.hook
	data, ok := s.files[r.URL.Path]
	s.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	w.Write(data)
}

// Client returns an archive client for this server's two archives that
// trusts signers, caches in cacheDir, retries quickly, and sees the clock
// an hour after DefaultDate (so fixtures' Valid-Until and key dates hold).
func (s *Server) Client(t testing.TB, cacheDir string, signers ...*openpgp.Entity) *archive.Client {
	t.Helper()
	c, err := cache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	h := fetch.New("temper-test")
	h.Backoff = time.Millisecond
	cl, err := archive.New(archive.Config{
		Mirrors: s.Mirrors(),
		Cache:   c, HTTP: h, Keyring: release.NewKeyring(openpgp.EntityList(signers)),
		Now: func() time.Time { return DefaultDate.Add(time.Hour) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// Mirrors are the server's archive and security archive.
func (s *Server) Mirrors() archive.Mirrors {
	return archive.Mirrors{Archive: s.ArchiveURL(), Security: s.SecurityURL()}
}
