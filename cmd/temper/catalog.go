package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/imagebuild"
	"github.com/temper-dev/temper/internal/lock"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/published"
	"github.com/temper-dev/temper/internal/update"
)

func newCatalogCommand(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Report on a catalog of definitions",
	}
	var layout, distroInfo, publishedFile string
	report := &cobra.Command{
		Use:   "report DIR|DEFINITION.yaml...",
		Short: "Write a Markdown report of a catalog's built images: release, packages, sizes, end of support",
		Long: `Write a Markdown table of every image of the catalog: its Debian release,
the number of packages of each architecture (from the lock), the compressed
and uncompressed size of each architecture's image (read from the OCI layout
temper build wrote, --layout) and the date its release's security support
ends, from Debian's lifecycle data (distro-info-data's debian.csv, read from
the newest release of the catalog in the archive, or --distro-info FILE).
With --published FILE (docs/published-sizes.yaml) it also compares each
image's compressed size with the size published for the image teams use
today in its place, architecture by architecture, with the source of every
figure; a figure naming no image of the catalog is an error.
The report depends only on the locks, the images, the lifecycle data and the
published figures: the same inputs give the same bytes.`,
		Example: "  temper build examples/catalog -o out && temper catalog report examples/catalog --layout out --published docs/published-sizes.yaml > docs/catalog.md",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if layout == "" {
				if layout, err = imagebuild.DefaultStore(); err != nil {
					return fmt.Errorf("no image store: %w; pass --layout DIR", err)
				}
			}
			files, err := lock.FindDefinitions(args)
			if err != nil {
				return err
			}
			// Read the published figures first: a mistake in them is
			// reported before any image is read.
			var pub *published.File
			if publishedFile != "" {
				if pub, err = published.Load(publishedFile); err != nil {
					return err
				}
			}
			rows, releases, err := catalogRows(files, layout)
			if err != nil {
				return err
			}
			var csv []byte
			var csvFrom string
			if distroInfo != "" {
				if csv, err = os.ReadFile(distroInfo); err != nil {
					return err
				}
				csvFrom = filepath.Base(distroInfo)
			} else if csv, csvFrom, err = fetchDistroInfo(cmd.Context(), g, releases); err != nil {
				return fmt.Errorf("lifecycle data: %w (or pass --distro-info FILE)", err)
			}
			life, err := update.ParseDebianCSV(csv)
			if err != nil {
				return err
			}
			if pub != nil {
				if err := pub.Check(rowNames(rows)); err != nil {
					return err
				}
			}
			return writeCatalog(cmd.OutOrStdout(), reportCommand(args, publishedFile), rows, life, csvFrom, pub)
		},
	}
	report.Flags().StringVar(&layout, "layout", "", "OCI layout holding the built images (default: the embedded store)")
	report.Flags().StringVar(&publishedFile, "published", "", "sizes published for the images teams use today (e.g. docs/published-sizes.yaml), to compare with")
	report.Flags().StringVar(&distroInfo, "distro-info", "", "Debian lifecycle data (distro-info-data's debian.csv) instead of reading it from the archive")
	cmd.AddCommand(report)
	return cmd
}

type catalogImage struct {
	Arch                     string
	Packages                 int
	Compressed, Uncompressed int64
}

type catalogRow struct {
	File, Name, Version, Release string
	Shell, Root                  bool
	Images                       []catalogImage
	LockDate                     time.Time
}

func catalogRows(files []string, layout string) ([]catalogRow, []string, error) {
	var rows []catalogRow
	seen := map[string]bool{}
	var releases []string
	for _, f := range files {
		def, l, err := imagebuild.Load(f)
		if err != nil {
			return nil, nil, err
		}
		row := catalogRow{File: f, Name: def.Name, Version: def.Version, Release: def.Debian.Release, Shell: def.Shell, Root: def.Hardening.AllowRoot, LockDate: imagebuild.Epoch(l)}
		if !seen[row.Release] {
			seen[row.Release] = true
			releases = append(releases, row.Release)
		}
		ref := imagebuild.RefName(def)
		idx, err := oci.ReadLayoutRef(layout, ref)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w (build it: temper build %s -o %s)", f, err, f, layout)
		}
		if m, err := idx.IndexManifest(); err != nil || m.Annotations[imagebuild.AnnotationBuildKey] != imagebuild.BuildKey(def, l) {
			return nil, nil, fmt.Errorf("%s: the image %s in %s was not built from this lock; rebuild it: temper build %s -o %s", f, ref, layout, f, layout)
		}
		for _, arch := range def.Architectures {
			img, err := oci.ImageFor(idx, arch)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", f, err)
			}
			ci := catalogImage{Arch: arch, Packages: len(l.Architectures[arch].Packages)}
			if ci.Compressed, ci.Uncompressed, err = imageSizes(img); err != nil {
				return nil, nil, fmt.Errorf("%s %s: %w", ref, arch, err)
			}
			row.Images = append(row.Images, ci)
		}
		rows = append(rows, row)
	}
	sort.Slice(releases, func(i, j int) bool { return releaseOrder(releases[i]) < releaseOrder(releases[j]) })
	return rows, releases, nil
}

// imageSizes sums an image's layers: compressed as stored, uncompressed as
// recorded on each layer's descriptor by temper, or counted by
// decompressing a layer that has no record.
func imageSizes(img v1.Image) (compressed, uncompressed int64, err error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, 0, err
	}
	for _, d := range m.Layers {
		compressed += d.Size
		if u, err := strconv.ParseInt(d.Annotations[oci.AnnotationUncompressedSize], 10, 64); err == nil && u >= 0 {
			uncompressed += u
			continue
		}
		layer, err := img.LayerByDigest(d.Digest)
		if err != nil {
			return 0, 0, err
		}
		u, err := uncompressedSize(layer.Compressed)
		if err != nil {
			return 0, 0, err
		}
		uncompressed += u
	}
	return compressed, uncompressed, nil
}

func uncompressedSize(open func() (io.ReadCloser, error)) (int64, error) {
	rc, err := open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		return 0, err
	}
	return io.Copy(io.Discard, zr)
}

var knownReleases = []string{"buster", "bullseye", "bookworm", "trixie", "forky", "duke"}

func releaseOrder(r string) int {
	for i, k := range knownReleases {
		if k == r {
			return i
		}
	}
	return len(knownReleases)
}

// fetchDistroInfo reads debian.csv from distro-info-data in the newest
// release of the catalog: the newest package knows every release's dates.
func fetchDistroInfo(ctx context.Context, g *globalFlags, releases []string) ([]byte, string, error) {
	if len(releases) == 0 {
		return nil, "", fmt.Errorf("no release")
	}
	client, mirrors, err := g.archiveClient()
	if err != nil {
		return nil, "", err
	}
	c, err := g.cache()
	if err != nil {
		return nil, "", err
	}
	newest := releases[len(releases)-1]
	rel, err := client.LoadReleaseComponents(ctx, newest, "amd64", []string{"main"})
	if err != nil {
		return nil, "", err
	}
	p := rel.Candidate("distro-info-data")
	if p == nil {
		return nil, "", fmt.Errorf("%s has no distro-info-data", newest)
	}
	f := g.debFetcher(mirrors.Mirrors, c)
	it := pool.Item{Name: p.Name, Version: p.Version, Suite: p.Suite, Filename: p.Filename, SHA256: strings.ToLower(p.SHA256), Size: p.Size}
	data, _, err := f.Fetch(ctx, []pool.Item{it})
	if err != nil {
		return nil, "", err
	}
	csv, err := update.DebFile(p.Name+"_"+p.Version+".deb", data[0], update.DistroInfoPath)
	if err != nil {
		return nil, "", err
	}
	return csv, "distro-info-data " + p.Version + " (" + newest + ")", nil
}

func mb(n int64) string {
	if n < 1e6 {
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// reportCommand is the command line recorded in the report, without the
// machine-specific --layout.
func reportCommand(args []string, publishedFile string) string {
	cmd := "temper catalog report " + strings.Join(args, " ")
	if publishedFile != "" {
		cmd += " --published " + publishedFile
	}
	return cmd
}

func rowNames(rows []catalogRow) []string {
	var names []string
	for _, r := range rows {
		names = append(names, r.Name+":"+r.Version)
	}
	return names
}

func writeCatalog(w io.Writer, command string, rows []catalogRow, life map[string]update.Lifecycle, from string, pub *published.File) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# The catalog\n\n")
	fmt.Fprintf(&b, "<!-- Generated by `%s`; do not edit. -->\n\n", command)
	fmt.Fprintf(&b, "%d image streams, %d images. Sizes are those of the images temper built from the committed locks: ", len(rows), countImages(rows))
	fmt.Fprintf(&b, "*compressed* is the gzip layer a registry stores and a client downloads, *uncompressed* the layer's tar (what the image takes on disk). ")
	fmt.Fprintf(&b, "MB = 10^6 bytes, kB = 10^3. Security support dates come from Debian's lifecycle data (%s): *until* is the end of regular security support, *LTS* the end of Debian LTS. ", from)
	fmt.Fprintf(&b, "*ended* is judged at the date of the image's lock. A stream never leaves its release; past the LTS date it is frozen and flagged by `temper check`.\n\n")
	b.WriteString("| image | release | packages amd64 / arm64 | amd64 compressed | amd64 uncompressed | arm64 compressed | arm64 uncompressed | security support until | LTS until | relaxed |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---|---|---|\n")
	for _, r := range rows {
		var pk []string
		byArch := map[string]catalogImage{}
		for _, im := range r.Images {
			pk = append(pk, fmt.Sprint(im.Packages))
			byArch[im.Arch] = im
		}
		size := func(arch string, u bool) string {
			im, ok := byArch[arch]
			if !ok {
				return "–"
			}
			if u {
				return mb(im.Uncompressed)
			}
			return mb(im.Compressed)
		}
		lc := life[r.Release]
		eol, lts := "not announced", "not announced"
		if !lc.EOL.IsZero() {
			eol = lc.EOL.Format(time.DateOnly)
			// Judged at the lock's date, not the clock: the same inputs
			// give the same report.
			if r.LockDate.After(lc.EOL.AddDate(0, 0, 1)) {
				eol += " (ended; LTS)"
			}
		}
		if !lc.EOLLTS.IsZero() {
			lts = lc.EOLLTS.Format(time.DateOnly)
		}
		var relaxed []string
		if r.Shell {
			relaxed = append(relaxed, "shell")
		}
		if r.Root {
			relaxed = append(relaxed, "root")
		}
		rel := r.Release
		if lc.Version != "" {
			rel = fmt.Sprintf("%s (%s)", r.Release, lc.Version)
		}
		fmt.Fprintf(&b, "| `%s:%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Name, r.Version, rel, strings.Join(pk, " / "),
			size("amd64", false), size("amd64", true), size("arm64", false), size("arm64", true), eol, lts, strings.Join(relaxed, ", "))
	}
	b.WriteString(catalogComparison)
	if pub != nil {
		writeComparison(&b, rows, pub)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func countImages(rows []catalogRow) int {
	n := 0
	for _, r := range rows {
		n += len(r.Images)
	}
	return n
}

// catalogComparison is the hand-written part of the report: what the
// images teams use today publish about themselves, with sources.
const catalogComparison = `
## Compared with what teams use today

Only figures their publishers state are quoted here; none were measured on
this machine, and they move with every rebuild of those images.

### distroless

Its README states that the smallest image, ` + "`static-debian12`" + `, is around
2 MiB, about 50% of alpine (~5 MiB) and under 2% of debian (124 MiB), *as
published, not measured here* (source:
https://github.com/GoogleContainerTools/distroless#why-should-i-use-distroless-images);
it publishes no per-image sizes to compare with. temper's ` + "`static`" + ` images
hold what distroless static holds (CA bundle, zoneinfo, base-files, netbase,
media-types, no libc) in 0.6-0.8 MB compressed: ca-certificates, tzdata and
base-files are taken as data (` + "`no_dependencies`" + `). temper's ` + "`base`" + ` images
correspond to distroless ` + "`base-debian12`/`base-debian13`" + ` (glibc, CA
certificates, tzdata).
`

// writeComparison writes one table per publisher: each temper image's
// compressed size against the published one, architecture by architecture,
// and a summary of the ratios.
func writeComparison(b *strings.Builder, rows []catalogRow, pub *published.File) {
	sizes := map[string]map[string]int64{}
	for _, r := range rows {
		m := map[string]int64{}
		for _, im := range r.Images {
			m[im.Arch] = im.Compressed
		}
		sizes[r.Name+":"+r.Version] = m
	}
	var publishers []string
	byPublisher := map[string][]published.Figure{}
	for _, f := range pub.Figures {
		if _, ok := byPublisher[f.Publisher]; !ok {
			publishers = append(publishers, f.Publisher)
		}
		byPublisher[f.Publisher] = append(byPublisher[f.Publisher], f)
	}
	for _, p := range publishers {
		figs := byPublisher[p]
		sort.SliceStable(figs, func(i, j int) bool { return figs[i].Compare < figs[j].Compare })
		fmt.Fprintf(b, "\n### %s\n\n", p)
		fmt.Fprintf(b, "Compressed (download) size per architecture as published, against the compressed size of temper's image above. ")
		fmt.Fprintf(b, "Each figure links the page it was copied from, pinned to the commit it was read at (%s); ", pub.Path)
		fmt.Fprintf(b, "*as of* is the date of the published image's newest layer. *×* is published size ÷ temper's size.")
		if about := pub.About[p]; about != "" {
			fmt.Fprintf(b, " %s", strings.TrimSpace(about))
		}
		b.WriteString("\n\n")
		b.WriteString("| temper image | published image | its base | as of | amd64: temper vs published | arm64: temper vs published | how it differs | source |\n")
		b.WriteString("|---|---|---|---|---|---|---|---|\n")
		var ratios []float64
		smaller := 0
		covered := map[string]bool{}
		for _, f := range figs {
			covered[f.Compare] = true
			cell := func(arch string) string {
				ours, ok := sizes[f.Compare][arch]
				theirs, pubOK := f.Compressed[arch]
				if !ok || !pubOK || ours == 0 {
					return "–"
				}
				r := float64(theirs) / float64(ours)
				ratios = append(ratios, r)
				if r > 1 {
					smaller++
				}
				return fmt.Sprintf("%s vs %s (%s)", mb(ours), mb(theirs), ratioText(r))
			}
			fmt.Fprintf(b, "| `%s` | `%s` | %s | %s | %s | %s | %s | [%s](%s) |\n", f.Compare, f.Image, f.Base, f.Date, cell("amd64"), cell("arm64"), f.Note, sourceLabel(f.Source), f.Source)
		}
		if len(ratios) > 0 {
			sort.Float64s(ratios)
			fmt.Fprintf(b, "\nOver %d comparisons (image × architecture) temper's image is the smaller in %d; the published image is %s temper's in the median (from %s to %s).\n",
				len(ratios), smaller, ratioTimes(median(ratios)), ratioTimes(ratios[0]), ratioTimes(ratios[len(ratios)-1]))
		}
		var missing []string
		for _, name := range rowNames(rows) {
			if !covered[name] {
				missing = append(missing, "`"+name+"`")
			}
		}
		if len(missing) > 0 {
			fmt.Fprintf(b, "\nNot compared (%s publish no figure for a matching image): %s.\n", p, strings.Join(missing, ", "))
		}
	}
}

// ratioText says how temper's image compares: r is published ÷ temper.
func ratioText(r float64) string {
	if r >= 1 {
		return fmt.Sprintf("%.2f× smaller", r)
	}
	return fmt.Sprintf("%.2f× larger", 1/r)
}

func ratioTimes(r float64) string { return fmt.Sprintf("%.2f×", r) }

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// sourceLabel is a short link text: the URL's last path element.
func sourceLabel(u string) string {
	u = strings.TrimRight(u, "/")
	if i := strings.LastIndex(u, "/"); i >= 0 && i+1 < len(u) {
		return u[i+1:]
	}
	return u
}
