package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/temper-dev/temper/internal/config"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/vuln"
	"github.com/temper-dev/temper/internal/vuln/openvex"
	"github.com/temper-dev/temper/internal/vuln/policy"
)

// exitGateFailed is temper scan's status when an image fails the policy
// gate (documented in docs/scan.md, beside check's 10).
const exitGateFailed = 20

type scanFlags struct {
	asJSON                bool
	openvexDir, sarifFile string
	policyFile            string
	exceptions            []string
	files                 vuln.Files
	allowStale            bool
	layouts               []string
	images                []string
	keyFile               string
}

func newScanCommand(g *globalFlags) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan [DEFINITION.yaml|DIR...]",
		Short: "List the known vulnerabilities of every locked image and apply the policy gate",
		Long: `For each definition with a lock, match every locked package, by its source
package and source version, against the Debian security tracker's records for
the lock's release; mark CVEs in CISA's KEV catalog; and apply the policy
(temper.yaml policy:, or --policy FILE) with the documented exceptions.

Exit status: 0 every image passes the gate; 20 an image fails it; 1 error
(including data older than policy max_age without --allow-stale).
See docs/scan.md for the matching rules and the JSON schema.`,
		Example: "  temper vuln update && temper scan examples/catalog\n  temper scan --json --openvex out/vex . | jq '.images[].gate'",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && len(f.layouts) == 0 && len(f.images) == 0 {
				args = []string{"."}
			}
			return runScan(cmd, g, f, args)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.asJSON, "json", false, "write the report as JSON (schema: docs/scan.md)")
	fl.StringVar(&f.openvexDir, "openvex", "", "write one OpenVEX document per image into `DIR`")
	fl.StringVar(&f.sarifFile, "sarif", "", "write the findings as SARIF 2.1.0 to `FILE`")
	fl.StringVar(&f.policyFile, "policy", "", "policy YAML `FILE` (temper.yaml's policy: section) instead of temper.yaml's")
	fl.StringArrayVar(&f.exceptions, "exceptions", nil, "exceptions `FILE` (YAML or JSON), in addition to the catalog-wide one")
	fl.StringVar(&f.files.Tracker, "tracker", "", "security tracker JSON `FILE` instead of the copy `temper vuln update` kept")
	fl.StringVar(&f.files.KEV, "kev", "", "CISA KEV JSON `FILE` instead of the kept copy")
	fl.StringVar(&f.files.EPSS, "epss", "", "EPSS CSV `FILE` instead of the kept copy")
	fl.BoolVar(&f.allowStale, "allow-stale", false, "decide on data older than the policy's max_age")
	fl.StringArrayVar(&f.layouts, "layout", nil, "also scan a built image in an OCI layout, `DIR:NAME:VERSION` (what its /var/lib/dpkg/status.d says it holds)")
	fl.StringArrayVar(&f.images, "image", nil, "also scan an image in a registry, `REF` (its SPDX SBOM attestations verified with --key, else its layers' status.d)")
	fl.StringVar(&f.keyFile, "key", "", "public key (cosign.pub): --image reads the SPDX SBOM attestations signed with it instead of pulling layers")
	return cmd
}

// scanResult is one image of the report: the scan and its gate (or why it
// could not be scanned).
type scanResult struct {
	*vuln.Image
	Name  string       `json:"name"`
	Gate  *policy.Gate `json:"gate,omitempty"`
	Error string       `json:"error,omitempty"`

	// ReadFrom says where a built image's packages were read from
	// (--layout, --image): status.d or spdx-attestation.
	ReadFrom string `json:"read_from,omitempty"`
	// Warnings say what a built image's scan could not tell: its packages'
	// origins when its index does not record them (vuln.NoOriginsWarning).
	Warnings []string `json:"warnings,omitempty"`

	// digest and distro name a built image (--layout, --image) in its
	// OpenVEX; vexName is its OpenVEX file name when not derived.
	digest, distro, vexName string
}

type scanReport struct {
	Schema string        `json:"schema"`
	Data   vuln.Data     `json:"data"`
	Images []*scanResult `json:"images"`
}

func runScan(cmd *cobra.Command, g *globalFlags, f scanFlags, args []string) error {
	pol, exc, err := scanPolicy(g, f)
	if err != nil {
		return err
	}
	c, err := g.cache()
	if err != nil {
		return err
	}
	now := g.now()
	db, err := vuln.Load(c, f.files, now)
	if err != nil {
		return err
	}
	if err := policy.CheckFreshness(db.Data, pol.MaxAgeOrDefault(), f.allowStale); err != nil {
		return err
	}
	var defs []string
	if len(args) > 0 {
		if defs, err = spec.FindDefinitions(args); err != nil {
			return err
		}
	}
	rep := &scanReport{Schema: "temper.scan/v1", Data: db.Data, Images: []*scanResult{}}
	results := make([]*scanResult, 0, len(defs)+len(f.layouts)+len(f.images))
	for _, def := range defs {
		results = append(results, scanOne(def, db))
	}
	for _, l := range f.layouts {
		results = append(results, scanLayout(l, db))
	}
	if len(f.images) > 0 {
		key, err := scanKey(f.keyFile)
		if err != nil {
			return err
		}
		for _, ref := range f.images {
			results = append(results, scanImage(cmd.Context(), ref, key, db))
		}
	}
	for _, r := range results {
		gate := policy.NotScanned(r.Error)
		if r.Error == "" {
			gate = policy.Evaluate(policy.Input{Image: r.Image, Policy: pol.For(r.Definition), Exceptions: exc, Now: now})
		}
		r.Gate = &gate
		rep.Images = append(rep.Images, r)
	}
	if err := writeScanOutputs(cmd.OutOrStdout(), rep, f, now); err != nil {
		return err
	}
	return scanStatus(cmd.ErrOrStderr(), rep)
}

// scanOne scans one definition's lock.
func scanOne(def string, db *vuln.DB) *scanResult {
	name := filepath.ToSlash(def)
	d, err := spec.LoadDefinition(def)
	if err != nil {
		return &scanResult{Image: &vuln.Image{Definition: name}, Error: err.Error()}
	}
	l, err := spec.LoadLock(spec.LockPath(def))
	if errors.Is(err, os.ErrNotExist) {
		err = fmt.Errorf("not locked: run temper lock %s", def)
	}
	if err == nil && !l.Matches(d) {
		err = fmt.Errorf("the lock was made from another version of %s: run temper lock", def)
	}
	if err != nil {
		return &scanResult{Image: &vuln.Image{Definition: name, Release: d.Debian.Release}, Name: d.Name, Error: err.Error()}
	}
	return &scanResult{Image: vuln.Scan(name, l, db), Name: d.Name}
}

// scanStatus: 1 when an image could not be scanned (its gate failed too:
// nothing is known of it), 20 when one fails the gate, else 0.
func scanStatus(stderr io.Writer, rep *scanReport) error {
	failed, broken := 0, 0
	for _, r := range rep.Images {
		switch {
		case r.Error != "":
			broken++
			fmt.Fprintf(stderr, "error: %s: %s\n", r.Definition, r.Error)
		case !r.Gate.Passed:
			failed++
		}
	}
	if broken > 0 {
		return fmt.Errorf("%d definitions could not be scanned", broken)
	}
	if failed > 0 {
		return exitStatus(exitGateFailed)
	}
	return nil
}

// scanPolicy returns the policy (temper.yaml's or --policy's) and every
// exception: the catalog-wide file and --exceptions files.
func scanPolicy(g *globalFlags, f scanFlags) (*policy.Policy, []policy.Exception, error) {
	conf, err := config.Find(g.config)
	if err != nil {
		return nil, nil, err
	}
	pol := &conf.Policy
	files := slices.Clone(f.exceptions)
	if pol.Exceptions != "" {
		files = append([]string{relativeTo(conf.File, pol.Exceptions)}, files...)
	}
	if f.policyFile != "" {
		if pol, err = loadPolicy(f.policyFile); err != nil {
			return nil, nil, err
		}
		if pol.Exceptions != "" {
			files = append(files, relativeTo(f.policyFile, pol.Exceptions))
		}
	}
	var exc []policy.Exception
	for _, file := range files {
		e, err := policy.LoadExceptions(file)
		if err != nil {
			return nil, nil, err
		}
		exc = append(exc, e...)
	}
	return pol, exc, nil
}

func loadPolicy(file string) (*policy.Policy, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var p policy.Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return &p, nil
}

// relativeTo resolves name against the directory of the file naming it.
func relativeTo(file, name string) string {
	if file == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(file), name)
}

// openvexName is the file an image's OpenVEX document is written to:
// NAME_DEFINITION, or NAME_VERSION for a built image.
func openvexName(r *scanResult) string {
	if r.vexName != "" {
		return r.vexName
	}
	if r.digest != "" {
		_, ref, _ := strings.Cut(r.Definition, ":")
		return strings.ReplaceAll(ref, ":", "_") + ".openvex.json"
	}
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(r.Definition), ".yaml"), ".yml")
	return r.Name + "_" + base + ".openvex.json"
}

func writeOpenVEX(dir string, rep *scanReport, opt openvex.Options) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, r := range rep.Images {
		if r.Error != "" {
			continue
		}
		o := opt
		o.Name, o.Exceptions = r.Name, r.Gate.Exceptions
		o.Digest, o.Distro = r.digest, r.distro
		doc, err := openvex.Document(r.Image, o)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, openvexName(r)), append(doc, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}
