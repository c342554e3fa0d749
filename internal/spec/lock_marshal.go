package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The canonical lock text: what Marshal writes and Digest hashes.

// Marshal writes the lock in its canonical form: equal locks give
// byte-identical output, whatever the order of packages and required_by in
// l. It returns an error, and no bytes, when the lock is not valid.
func (l *Lock) Marshal() ([]byte, error) {
	n := l.normalized()
	r := &reporter{}
	n.validate(r)
	if err := r.errs.err(); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(LockHeader + "\n")
	fmt.Fprintf(&b, "definition: {file: %s, sha256: %s}\n", scalar(n.Definition.File), scalar(n.Definition.SHA256))
	fmt.Fprintf(&b, "release: %s\n", scalar(n.Release))
	b.WriteString("suites:\n")
	for _, s := range n.Suites {
		fmt.Fprintf(&b, "  - {name: %s, inrelease_sha256: %s, date: %s}\n", scalar(s.Name), scalar(s.InReleaseSHA256), s.Date.Format(time.RFC3339Nano))
	}
	if len(n.Repositories) > 0 {
		b.WriteString("repositories:\n")
		for _, x := range n.Repositories {
			fmt.Fprintf(&b, "  - {name: %s, url: %s, suite: %s, fingerprint: %s, inrelease_sha256: %s, date: %s}\n",
				scalar(x.Name), scalar(x.URL), scalar(x.Suite), scalar(x.Fingerprint), scalar(x.InReleaseSHA256), x.Date.Format(time.RFC3339Nano))
		}
	}
	if len(n.Files) > 0 {
		b.WriteString("files:\n")
		for _, f := range n.Files {
			fmt.Fprintf(&b, "  - {src: %s, sha256: %s, size: %d}\n", scalar(f.Src), scalar(f.SHA256), f.Size)
		}
	}
	if len(n.LocalDebs) > 0 {
		b.WriteString("local_debs:\n")
		for _, f := range n.LocalDebs {
			fmt.Fprintf(&b, "  - {src: %s, sha256: %s, size: %d}\n", scalar(f.Src), scalar(f.SHA256), f.Size)
		}
	}
	b.WriteString("architectures:\n")
	for _, arch := range sortedKeys(n.Architectures) {
		fmt.Fprintf(&b, "  %s:\n", scalar(arch))
		pkgs := n.Architectures[arch].Packages
		if len(pkgs) == 0 {
			b.WriteString("    packages: []\n")
			continue
		}
		b.WriteString("    packages:\n")
		for _, p := range pkgs {
			fmt.Fprintf(&b, "      - name: %s\n", scalar(p.Name))
			fmt.Fprintf(&b, "        version: %s\n", scalar(p.Version))
			fmt.Fprintf(&b, "        architecture: %s\n", scalar(p.Architecture))
			fmt.Fprintf(&b, "        source: %s\n", scalar(p.Source))
			fmt.Fprintf(&b, "        source_version: %s\n", scalar(p.SourceVersion))
			fmt.Fprintf(&b, "        suite: %s\n", scalar(p.Suite))
			if p.Repository != "" {
				fmt.Fprintf(&b, "        repository: %s\n", scalar(p.Repository))
			}
			fmt.Fprintf(&b, "        filename: %s\n", scalar(p.Filename))
			fmt.Fprintf(&b, "        sha256: %s\n", scalar(p.SHA256))
			fmt.Fprintf(&b, "        size: %d\n", p.Size)
			fmt.Fprintf(&b, "        installed_size: %d\n", p.InstalledSize)
			rb := make([]string, len(p.RequiredBy))
			for i, s := range p.RequiredBy {
				rb[i] = scalar(s)
			}
			fmt.Fprintf(&b, "        required_by: [%s]\n", strings.Join(rb, ", "))
		}
	}
	return b.Bytes(), nil
}

// Digest is the lowercase hex SHA-256 of the lock's canonical form
// (Marshal); it identifies the lock. It is "" for a lock that does not
// validate.
func (l *Lock) Digest() string {
	data, err := l.Marshal()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

var yamlWords = map[string]bool{"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true, "true": true, "false": true, "null": true}

// isPlain is ^[A-Za-z0-9_/][A-Za-z0-9_./+~-]*$, by hand: scalar runs for
// every field of every lock, and the regexp was a third of locking time.
func isPlain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '/'
		if i > 0 {
			ok = ok || c == '.' || c == '+' || c == '~' || c == '-'
		}
		if !ok {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// numberLike reports whether a YAML 1.1 or 1.2 reader could take s for a
// number or a date:
// ^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$ or
// ^0[xXoObB] or ^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.
func numberLike(s string) bool {
	if len(s) >= 2 && s[0] == '0' && strings.ContainsRune("xXoObB", rune(s[1])) {
		return true
	}
	if len(s) >= 8 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) && s[4] == '-' && isDigit(s[5]) {
		i := 6
		if isDigit(s[i]) {
			i++
		}
		if i < len(s) && s[i] == '-' && i+1 < len(s) && isDigit(s[i+1]) {
			return true
		}
	}
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	switch {
	case i < len(s) && s[i] == '.':
		i++
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == j {
			return false
		}
	case i < len(s) && isDigit(s[i]):
		for i < len(s) && (isDigit(s[i]) || s[i] == '_') {
			i++
		}
		if i < len(s) && s[i] == '.' {
			i++
			for i < len(s) && (isDigit(s[i]) || s[i] == '_') {
				i++
			}
		}
	default:
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(s)
}

// scalar writes s as a YAML scalar that every YAML 1.1 or 1.2 reader reads
// back as the same string: plain when that is unambiguous, otherwise
// double-quoted. Anything with a colon (epochs: 1:2.36-9), anything that
// looks like a number (1.0, 3.11), boolean, null or date is quoted.
func scalar(s string) string {
	if isPlain(s) && !numberLike(s) && !yamlWords[strings.ToLower(s)] {
		return s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
