package sbom

import (
	"archive/tar"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/debian/deb822"
)

// Facts are what an image says about its own packages, read from its
// filesystem: the dpkg status.d stanzas (version, architecture,
// maintainer), the machine-readable copyright files, and the release it
// identifies as (os-release, debian_version). The lock has none of the
// maintainers and licenses; the image has them because the build keeps
// /var/lib/dpkg/status.d and usr/share/doc/*/copyright.
type Facts struct {
	// Distro is the purl distro qualifier, e.g. "debian-12.15".
	Distro string
	// Packages maps a package name to what its status.d stanza and
	// copyright file say.
	Packages map[string]PackageFacts
}

// PackageFacts describe one installed package.
type PackageFacts struct {
	Version      string
	Architecture string
	Source       string // Source field as written (may carry a version in parentheses)
	Maintainer   string
	// Licenses are the DEP-5 license short names of the package's
	// machine-readable copyright file, deduplicated and sorted; nil when
	// the file is missing or not machine-readable.
	Licenses []string
}

const statusDir = "var/lib/dpkg/status.d/"

// ReadLayer reads Facts from an uncompressed image layer tar (temper
// images have exactly one layer). Paths may carry a leading "./" or "/".
func ReadLayer(r io.Reader) (*Facts, error) {
	tr := tar.NewReader(r)
	files := map[string][]byte{}
	links := map[string]string{} // usr/share/doc/<pkg> symlinks
	var osRelease, debianVersion []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sbom: reading image layer: %w", err)
		}
		p := strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")
		p = strings.TrimSuffix(p, "/")
		switch {
		case h.Typeflag == tar.TypeSymlink && strings.HasPrefix(p, "usr/share/doc/"):
			links[p] = h.Linkname
		case h.Typeflag != tar.TypeReg:
		case strings.HasPrefix(p, statusDir) && !strings.Contains(p[len(statusDir):], "/") && !strings.HasSuffix(p, ".md5sums"),
			strings.HasPrefix(p, "usr/share/doc/") && strings.HasSuffix(p, "/copyright"):
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("sbom: reading /%s: %w", p, err)
			}
			files[p] = b
		case p == "usr/lib/os-release" || (p == "etc/os-release" && osRelease == nil):
			if osRelease, err = io.ReadAll(tr); err != nil {
				return nil, fmt.Errorf("sbom: reading /%s: %w", p, err)
			}
		case p == "etc/debian_version":
			if debianVersion, err = io.ReadAll(tr); err != nil {
				return nil, fmt.Errorf("sbom: reading /%s: %w", p, err)
			}
		}
	}
	f := &Facts{Distro: Distro(osRelease, debianVersion), Packages: map[string]PackageFacts{}}
	for p, data := range files {
		if !strings.HasPrefix(p, statusDir) {
			continue
		}
		st := parseStanza(data)
		name := st["Package"]
		if name == "" {
			return nil, fmt.Errorf("sbom: /%s has no Package field", p)
		}
		pf := PackageFacts{Version: st["Version"], Architecture: st["Architecture"], Source: st["Source"], Maintainer: st["Maintainer"]}
		if c, ok := copyrightOf(name, files, links); ok {
			pf.Licenses = ParseCopyright(c)
		}
		f.Packages[name] = pf
	}
	return f, nil
}

// copyrightOf finds usr/share/doc/<pkg>/copyright, following a
// usr/share/doc/<pkg> symlink to another package's directory.
func copyrightOf(pkg string, files map[string][]byte, links map[string]string) ([]byte, bool) {
	dir := "usr/share/doc/" + pkg
	for i := 0; i < 8; i++ {
		if c, ok := files[dir+"/copyright"]; ok {
			return c, true
		}
		t, ok := links[dir]
		if !ok {
			return nil, false
		}
		if path.IsAbs(t) {
			dir = strings.TrimPrefix(path.Clean(t), "/")
		} else {
			dir = path.Join(path.Dir(dir), t)
		}
	}
	return nil, false
}

// Distro returns the purl distro qualifier of an image: "debian-" and
// /etc/debian_version when that is a point release number (12.15),
// otherwise os-release's ID-VERSION_ID, otherwise ID-VERSION_CODENAME.
func Distro(osRelease, debianVersion []byte) string {
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(osRelease))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if ok {
			kv[k] = strings.Trim(v, `"'`)
		}
	}
	id := kv["ID"]
	if id == "" {
		id = "debian"
	}
	if dv := strings.TrimSpace(string(debianVersion)); dv != "" && dv[0] >= '0' && dv[0] <= '9' && !strings.ContainsAny(dv, "/ ") {
		return id + "-" + dv
	}
	if v := kv["VERSION_ID"]; v != "" {
		return id + "-" + v
	}
	if v := kv["VERSION_CODENAME"]; v != "" {
		return id + "-" + v
	}
	return ""
}

// parseStanza reads the first stanza of a status.d file or a copyright
// paragraph through the deb822 reader, leniently (lines that are not
// fields are passed over: copyright files are written by hand), into a map
// by exact field name. A repeated field keeps its last value; continuation
// lines are trimmed and joined with newlines.
func parseStanza(data []byte) map[string]string {
	m := map[string]string{}
	sc := deb822.NewBytesScanner(data)
	sc.SetLenient()
	if !sc.Scan() {
		return m
	}
	st := sc.Stanza()
	for i := range st.Fields {
		f := &st.Fields[i]
		var b strings.Builder
		for k, l := range st.ValueLines(f) {
			if k > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(strings.TrimSpace(string(l.Text)))
		}
		m[string(f.Name)] = b.String()
	}
	return m
}

// ParseCopyright returns the license short names a machine-readable
// (DEP-5) debian/copyright file declares in its header and Files
// paragraphs, deduplicated and sorted. It returns nil for a file that is
// not machine-readable (no Format: line naming copyright-format) or names
// no license.
func ParseCopyright(data []byte) []string {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	paras := splitParagraphs(text)
	if len(paras) == 0 {
		return nil
	}
	head := parseStanza([]byte(paras[0]))
	format := head["Format"]
	if format == "" {
		format = head["Format-Specification"]
	}
	if !strings.Contains(format, "copyright-format") && !strings.Contains(format, "dep5") && !strings.Contains(format, "DEP-5") {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for i, p := range paras {
		st := parseStanza([]byte(p))
		if i > 0 && st["Files"] == "" {
			continue // a stand-alone License paragraph: the text of a license named elsewhere
		}
		lic, _, _ := strings.Cut(st["License"], "\n")
		lic = strings.TrimSpace(lic)
		if lic == "" || seen[lic] {
			continue
		}
		seen[lic] = true
		out = append(out, lic)
	}
	sort.Strings(out)
	return out
}

func splitParagraphs(text string) []string {
	var paras []string
	var cur []string
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				paras = append(paras, strings.Join(cur, "\n"))
				cur = nil
			}
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		paras = append(paras, strings.Join(cur, "\n"))
	}
	return paras
}
