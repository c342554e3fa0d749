package assemble

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/hardening"
)

// A variant that keeps the package manager (docs/variants.md) gets what
// dpkg and apt need to install more packages in a builder stage: dpkg's
// database (status, and each package's file list, md5sums and
// conffiles under info/) and apt's sources for the stream's release,
// naming the mirror the build was configured with (Input.AptArchive,
// Input.AptSecurity). Runtime images and definitions that are not
// variants are untouched: their bytes do not change.

const (
	dpkgDir     = "var/lib/dpkg"
	aptSources  = "etc/apt/sources.list.d/debian.sources"
	placeholder = "http://<mirror>/debian"
)

// packageManager writes dpkg's database and apt's sources for a variant
// with package_manager: true.
func (b *builder) packageManager() error {
	d := b.in.Def
	if d.Variant == "" || !hardening.RelaxPackageManager.In(d) {
		return nil
	}
	for _, dir := range []string{dpkgDir, dpkgDir + "/info", dpkgDir + "/updates", dpkgDir + "/triggers", dpkgDir + "/alternatives",
		"var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "etc/apt/sources.list.d", "etc/apt/preferences.d", "etc/apt/apt.conf.d"} {
		if err := b.dir(dir, 0o755, 0, 0); err != nil {
			return err
		}
	}
	var status bytes.Buffer
	pkgs := append([]*pkg(nil), b.pkgs...)
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].name < pkgs[j].name })
	for _, p := range pkgs {
		ctrl := bytes.TrimRight(p.control["control"], "\n")
		for i, l := range bytes.SplitAfter(ctrl, []byte("\n")) {
			status.Write(l)
			if i == 0 {
				if !bytes.HasSuffix(l, []byte("\n")) {
					status.WriteByte('\n')
				}
				status.WriteString("Status: install ok installed\n")
			}
		}
		status.WriteString("\n\n")
		id := p.name
		if strings.Contains(string(ctrl), "\nMulti-Arch: same") {
			id += ":" + p.arch
		}
		var list strings.Builder
		list.WriteString("/.\n")
		for _, e := range p.entries {
			if e.Path != "" {
				list.WriteString("/" + e.Path + "\n")
			}
		}
		files := map[string][]byte{".list": []byte(list.String())}
		for _, m := range []string{"md5sums", "conffiles", "shlibs", "triggers"} {
			if data, ok := p.control[m]; ok {
				files["."+m] = data
			}
		}
		for ext, data := range files {
			if err := b.putFile(path.Join(dpkgDir, "info", id+ext), 0o644, data); err != nil {
				return err
			}
		}
	}
	if err := b.putFile(dpkgDir+"/status", 0o644, bytes.TrimSuffix(status.Bytes(), []byte("\n"))); err != nil {
		return err
	}
	for _, f := range []string{"available", "diversions", "statoverride"} {
		if err := b.putFile(dpkgDir+"/"+f, 0o644, nil); err != nil {
			return err
		}
	}
	if err := b.putFile(dpkgDir+"/arch", 0o644, []byte(b.in.Arch+"\n")); err != nil {
		return err
	}
	return b.putFile(aptSources, 0o644, b.sources())
}

// sources is apt's deb822 sources file for the stream's release: the
// release and -updates from the archive mirror, -security from the
// security mirror, verified with Debian's archive keyring.
func (b *builder) sources() []byte {
	archive, security := b.in.AptArchive, b.in.AptSecurity
	if archive == "" {
		archive = placeholder
	}
	if security == "" {
		security = placeholder + "-security"
	}
	keyring := "/usr/share/keyrings/debian-archive-keyring.gpg"
	if _, ok := b.fs.Get("usr/share/keyrings/debian-archive-keyring.pgp"); ok {
		keyring = "/usr/share/keyrings/debian-archive-keyring.pgp"
	}
	comps := strings.Join(b.in.Def.Debian.Components, " ")
	if comps == "" {
		comps = "main"
	}
	r := b.in.Release
	var s strings.Builder
	fmt.Fprintf(&s, "# Debian %s, as the image's packages came from it (temper, variant %s).\n", r, b.in.Def.Variant)
	fmt.Fprintf(&s, "# Installing here may upgrade libraries the runtime image shares: see docs/variants.md.\n")
	fmt.Fprintf(&s, "Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: %s\nSigned-By: %s\n\n", archive, r, r, comps, keyring)
	fmt.Fprintf(&s, "Types: deb\nURIs: %s\nSuites: %s-security\nComponents: %s\nSigned-By: %s\n", security, r, comps, keyring)
	return []byte(s.String())
}
