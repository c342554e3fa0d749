package assemble

import (
	"bytes"
)

const statusDir = "var/lib/dpkg/status.d"

func (b *builder) status() error {
	if err := b.dir(statusDir, 0o755, 0, 0); err != nil {
		return err
	}
	for _, p := range b.pkgs {
		ctrl := bytes.TrimRight(p.control["control"], "\n")
		var out bytes.Buffer
		lines := bytes.SplitAfter(ctrl, []byte("\n"))
		done := false
		for _, l := range lines {
			out.Write(l)
			if !done && bytes.HasPrefix(l, []byte("Package:")) {
				if !bytes.HasSuffix(l, []byte("\n")) {
					out.WriteByte('\n')
				}
				out.WriteString("Status: install ok installed\n")
				done = true
			}
		}
		if !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteByte('\n')
		}
		if err := b.putFile(statusDir+"/"+p.name, 0o644, out.Bytes()); err != nil {
			return err
		}
		if md5, ok := p.control["md5sums"]; ok {
			if err := b.putFile(statusDir+"/"+p.name+".md5sums", 0o644, md5); err != nil {
				return err
			}
		}
	}
	return nil
}
