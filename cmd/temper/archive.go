package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/config"
	"github.com/temper-dev/temper/internal/debian/archive"
)

func newArchiveCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "archive",
		Short: "Read Debian's archive: verified suites and packages",
	}
	cmd.AddCommand(newArchiveShowCommand(g))
	return cmd
}

type archiveShowFlags struct {
	release string
	arch    string
	json    bool
}

func newArchiveShowCommand(g *globalFlags) *cobra.Command {
	f := &archiveShowFlags{}
	cmd := &cobra.Command{
		Use:   "show PACKAGE",
		Short: "Show every version of a package across a release's suites, and its candidate",
		Long: `Show every version of PACKAGE that the release's suites offer (the release,
its -updates and its -security suite), the candidate apt would install, and the
candidate's dependencies, source package, size and SHA-256, with the date of
each suite's signed InRelease. Like apt-cache policy and apt-cache show.`,
		Example: "  temper archive show python3 --release bookworm\n  temper archive show libssl3t64 --release trixie --arch arm64 --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, mirrors, err := g.archiveClient()
			if err != nil {
				return err
			}
			rel, err := client.LoadRelease(cmd.Context(), f.release, f.arch)
			if err != nil {
				return err
			}
			vs, err := rel.Lookup(args[0])
			if err != nil {
				return err
			}
			out := newShowResult(args[0], rel, vs, mirrors)
			if f.json {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			return out.writeText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&f.release, "release", "", "Debian release codename (bookworm, trixie, ...)")
	cmd.Flags().StringVar(&f.arch, "arch", "amd64", "architecture")
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON (schema in docs/archive-show.md)")
	cmd.MarkFlagRequired("release")
	return cmd
}

// showResult is the --json schema of `temper archive show`
// (docs/archive-show.md).
type showResult struct {
	Package   string        `json:"package"`
	Release   string        `json:"release"`
	Arch      string        `json:"architecture"`
	Candidate showCandidate `json:"candidate"`
	Versions  []showVersion `json:"versions"`
	Suites    []showSuite   `json:"suites"`
	Mirrors   showMirrors   `json:"mirrors"`
}

type showCandidate struct {
	Version string `json:"version"`
	Suite   string `json:"suite"`
}

type showVersion struct {
	Version       string `json:"version"`
	Suite         string `json:"suite"`
	Architecture  string `json:"architecture"`
	MultiArch     string `json:"multi_arch,omitempty"`
	Essential     bool   `json:"essential,omitempty"`
	Priority      string `json:"priority,omitempty"`
	Section       string `json:"section,omitempty"`
	Source        string `json:"source"`
	SourceVersion string `json:"source_version"`
	Maintainer    string `json:"maintainer,omitempty"`
	PreDepends    string `json:"pre_depends,omitempty"`
	Depends       string `json:"depends,omitempty"`
	Recommends    string `json:"recommends,omitempty"`
	Provides      string `json:"provides,omitempty"`
	Conflicts     string `json:"conflicts,omitempty"`
	Breaks        string `json:"breaks,omitempty"`
	Size          int64  `json:"size"`
	InstalledSize int64  `json:"installed_size_kib,omitempty"`
	SHA256        string `json:"sha256"`
	URL           string `json:"url"`
	Description   string `json:"description,omitempty"`
}

type showSuite struct {
	Name            string          `json:"name"`
	URL             string          `json:"inrelease_url"`
	InReleaseSHA256 string          `json:"inrelease_sha256"`
	Date            time.Time       `json:"date"`
	ValidUntil      time.Time       `json:"valid_until,omitzero"`
	SignedBy        []showSignature `json:"signed_by"`
}

type showSignature struct {
	KeyID       string `json:"key_id"`
	Fingerprint string `json:"fingerprint"`
	UserID      string `json:"user_id"`
	Algorithm   string `json:"algorithm"`
}

type showMirrors struct {
	Archive      string `json:"archive"`
	ArchiveFrom  string `json:"archive_from"`
	Security     string `json:"security"`
	SecurityFrom string `json:"security_from"`
}

func newShowResult(name string, rel *archive.Release, vs []*archive.Package, m config.MirrorChoice) *showResult {
	r := &showResult{
		Package: name, Release: rel.Name, Arch: rel.Arch,
		Candidate: showCandidate{Version: vs[0].Version, Suite: vs[0].Suite},
		Mirrors:   showMirrors{m.Archive, m.ArchiveFrom, m.Security, m.SecurityFrom},
	}
	for _, p := range vs {
		r.Versions = append(r.Versions, showVersion{
			Version: p.Version, Suite: p.Suite, Architecture: p.Architecture, MultiArch: p.MultiArch,
			Essential: p.Essential, Priority: p.Priority, Section: p.Section,
			Source: p.Source, SourceVersion: p.SourceVersion, Maintainer: p.Maintainer,
			PreDepends: p.PreDepends, Depends: p.Depends, Recommends: p.Recommends, Provides: p.Provides,
			Conflicts: p.Conflicts, Breaks: p.Breaks,
			Size: p.Size, InstalledSize: p.InstalledSize, SHA256: p.SHA256, URL: p.URL(), Description: p.Description,
		})
	}
	for _, s := range rel.Suites {
		ss := showSuite{Name: s.Ref.Name, URL: s.Ref.InReleaseURL(), InReleaseSHA256: s.InReleaseSHA256, Date: s.Release.Date, ValidUntil: s.Release.ValidUntil}
		for _, sig := range s.Signatures {
			ss.SignedBy = append(ss.SignedBy, showSignature{KeyID: sig.KeyID, Fingerprint: sig.Fingerprint, UserID: sig.UserID, Algorithm: sig.Algorithm})
		}
		r.Suites = append(r.Suites, ss)
	}
	return r
}

func (r *showResult) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s (%s, %s):\n", r.Package, r.Release, r.Arch)
	fmt.Fprintf(tw, "  Candidate: %s (%s)\n", r.Candidate.Version, r.Candidate.Suite)
	fmt.Fprintf(tw, "  Version table:\n")
	for i, v := range r.Versions {
		mark := "   "
		if i == 0 {
			mark = "***"
		}
		fmt.Fprintf(tw, " %s %s\t%s\t%s\n", mark, v.Version, v.Suite, v.Architecture)
	}
	tw.Flush()
	c := r.Versions[0]
	fmt.Fprintln(w)
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
	field("Package", r.Package)
	field("Version", c.Version)
	field("Suite", c.Suite)
	field("Architecture", c.Architecture)
	field("Multi-Arch", c.MultiArch)
	if c.Essential {
		field("Essential", "yes")
	}
	field("Priority", c.Priority)
	field("Section", c.Section)
	src := c.Source
	if c.SourceVersion != "" && c.SourceVersion != c.Version {
		src += " (" + c.SourceVersion + ")"
	}
	field("Source", src)
	field("Maintainer", c.Maintainer)
	field("Pre-Depends", c.PreDepends)
	field("Depends", c.Depends)
	field("Recommends", c.Recommends)
	field("Provides", c.Provides)
	field("Conflicts", c.Conflicts)
	field("Breaks", c.Breaks)
	field("Size", fmt.Sprint(c.Size))
	if c.InstalledSize > 0 {
		field("Installed-Size", fmt.Sprintf("%d KiB", c.InstalledSize))
	}
	field("SHA256", c.SHA256)
	field("URL", c.URL)
	field("Description", c.Description)
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Suite\tInRelease date\tValid until\tInRelease SHA-256\tSigned by")
	for _, s := range r.Suites {
		vu := "-"
		if !s.ValidUntil.IsZero() {
			vu = s.ValidUntil.UTC().Format("2006-01-02 15:04 MST")
		}
		var signers []string
		for _, sig := range s.SignedBy {
			name, _, _ := strings.Cut(sig.UserID, " <")
			signers = append(signers, sig.KeyID+" ("+name+")")
		}
		signer := strings.Join(signers, ", ")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Date.UTC().Format("2006-01-02 15:04 MST"), vu, s.InReleaseSHA256[:16], signer)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nArchive: %s (from %s); security archive: %s (from %s)\n", r.Mirrors.Archive, r.Mirrors.ArchiveFrom, r.Mirrors.Security, r.Mirrors.SecurityFrom)
	return nil
}
