package sbom

import (
	"sort"
	"strings"
)

// dep5ToSPDX maps the DEP-5 short names Debian uses to SPDX license
// identifiers (case-insensitive keys). A "+" suffix means "or later".
var dep5ToSPDX = map[string]string{
	"apache-2.0": "Apache-2.0", "apache-2": "Apache-2.0",
	"artistic": "Artistic-1.0-Perl", "artistic-1.0": "Artistic-1.0", "artistic-2.0": "Artistic-2.0",
	"bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "bsd-4-clause": "BSD-4-Clause",
	"bsl-1.0": "BSL-1.0", "cc0-1.0": "CC0-1.0", "cc0": "CC0-1.0", "expat": "MIT", "mit": "MIT",
	"isc": "ISC", "zlib": "Zlib", "mpl-1.1": "MPL-1.1", "mpl-2.0": "MPL-2.0", "psf-2": "PSF-2.0", "python": "Python-2.0",
	"python-2.0": "Python-2.0", "openssl": "OpenSSL", "ssleay": "SSLeay-standalone", "unicode": "Unicode-DFS-2016",
	"x11": "X11", "curl": "curl", "ftl": "FTL", "ofl-1.1": "OFL-1.1", "sleepycat": "Sleepycat", "tcl": "TCL",
	"gfdl-1.2": "GFDL-1.2-only", "gfdl-1.3": "GFDL-1.3-only", "bzip2-1.0.6": "bzip2-1.0.6", "libpng": "Libpng", "libpng-2.0": "libpng-2.0",
	"zpl-2.1": "ZPL-2.1", "wtfpl": "WTFPL", "unlicense": "Unlicense", "0bsd": "0BSD",
	"gpl-1": "GPL-1.0-only", "gpl-2": "GPL-2.0-only", "gpl-3": "GPL-3.0-only",
	"lgpl-2": "LGPL-2.0-only", "lgpl-2.0": "LGPL-2.0-only", "lgpl-2.1": "LGPL-2.1-only", "lgpl-3": "LGPL-3.0-only", "lgpl-3.0": "LGPL-3.0-only",
	"gpl-2.0": "GPL-2.0-only", "gpl-3.0": "GPL-3.0-only", "agpl-3": "AGPL-3.0-only", "agpl-3.0": "AGPL-3.0-only",
	"gpl": "GPL-1.0-or-later", "lgpl": "LGPL-2.0-or-later",
}

// LicenseExpression turns DEP-5 license short names into one SPDX license
// expression: each name maps to its SPDX identifier ("GPL-2+" →
// "GPL-2.0-or-later", "Expat" → "MIT"), a name SPDX does not list becomes
// "LicenseRef-<name>", "a or b" becomes "(A OR B)", and the names are
// joined with AND. It returns "NOASSERTION" for no names. refs receives
// every LicenseRef used, keyed by identifier, with the DEP-5 name.
func LicenseExpression(names []string, refs map[string]string) string {
	var parts []string
	seen := map[string]bool{}
	for _, n := range names {
		e := licenseTerm(n, refs)
		if e != "" && !seen[e] {
			seen[e] = true
			parts = append(parts, e)
		}
	}
	if len(parts) == 0 {
		return "NOASSERTION"
	}
	sort.Strings(parts)
	if len(parts) == 1 {
		return strings.TrimSuffix(strings.TrimPrefix(parts[0], "("), ")")
	}
	return strings.Join(parts, " AND ")
}

func licenseTerm(name string, refs map[string]string) string {
	fields := strings.Fields(name)
	var out []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, licenseID(strings.Join(cur, " "), refs))
			cur = nil
		}
	}
	ops := 0
	for _, f := range fields {
		switch strings.ToLower(strings.TrimSuffix(f, ",")) {
		case "or":
			flush()
			out = append(out, "OR")
			ops++
		case "and":
			flush()
			out = append(out, "AND")
			ops++
		default:
			cur = append(cur, f)
		}
	}
	flush()
	if len(out) == 0 || out[0] == "OR" || out[0] == "AND" || out[len(out)-1] == "OR" || out[len(out)-1] == "AND" {
		return licenseID(name, refs)
	}
	if ops == 0 {
		return out[0]
	}
	return "(" + strings.Join(out, " ") + ")"
}

// licenseID maps one DEP-5 name (which may carry "with X exception") to
// an SPDX identifier or a LicenseRef.
func licenseID(name string, refs map[string]string) string {
	n := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(name), ","))
	l := strings.ToLower(n)
	if !strings.Contains(l, " ") {
		if id, ok := dep5ToSPDX[l]; ok {
			return id
		}
		if strings.HasSuffix(l, "+") {
			if id, ok := dep5ToSPDX[strings.TrimSuffix(l, "+")]; ok {
				switch {
				case strings.HasSuffix(id, "-only"):
					return strings.TrimSuffix(id, "-only") + "-or-later"
				case strings.HasSuffix(id, "-or-later"):
					return id
				}
			}
		}
	}
	var b strings.Builder
	b.WriteString("LicenseRef-")
	for _, r := range n {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		case r == '+':
			b.WriteString("-or-later")
		default:
			b.WriteByte('-')
		}
	}
	id := b.String()
	if refs != nil {
		refs[id] = n
	}
	return id
}
