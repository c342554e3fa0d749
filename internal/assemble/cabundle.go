package assemble

import (
	"bytes"
	"strings"

	"github.com/temper-dev/temper/internal/rootfs"
)

// caCert is one CA certificate file ca-certificates ships.
type caCert struct {
	path  string // usr/share/ca-certificates/...crt
	entry *rootfs.Entry
}

// caCertFiles lists every *.crt under usr/share/ca-certificates, sorted by
// path: what update-ca-certificates enables by default.
func (b *builder) caCertFiles() []caCert {
	var out []caCert
	for _, p := range b.fs.Paths() {
		if !strings.HasPrefix(p, "usr/share/ca-certificates/") || !strings.HasSuffix(p, ".crt") {
			continue
		}
		e, _ := b.fs.Get(p)
		if e.Kind == rootfs.Hardlink {
			e, _ = b.fs.Get(e.Target)
		}
		if e == nil || e.Kind != rootfs.File {
			continue
		}
		out = append(out, caCert{path: p, entry: e})
	}
	return out
}

func (b *builder) caBundle() error {
	if !b.has("ca-certificates") {
		return nil
	}
	var buf bytes.Buffer
	n := 0
	for _, c := range b.caCertFiles() {
		e := c.entry
		buf.Write(e.Data)
		if len(e.Data) > 0 && e.Data[len(e.Data)-1] != '\n' {
			buf.WriteByte('\n')
		}
		n++
	}
	if n == 0 {
		return nil
	}
	if err := b.putFile(CABundle, 0o644, buf.Bytes()); err != nil {
		return err
	}
	b.report.Env = append(b.report.Env, "SSL_CERT_FILE=/"+CABundle)
	return nil
}
