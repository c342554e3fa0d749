// Package openvex writes an image's vulnerability verdicts as an OpenVEX
// v0.2.0 document: what Debian fixed or never shipped, what still affects
// the image and what to do about it, what Debian has not yet assessed, and
// the exceptions the team documented, so that scanners reading the image's
// attestations agree with temper.
//
// The JSON types are written here rather than taken from
// github.com/openvex/go-vex: v0.2.9 builds, but requiring it upgrades
// golang.org/x/text, and the document is a few fields.
//
// It does not sign or attach the document: that is the evidence code's job
// (an in-toto statement with predicate type https://openvex.dev/ns).
package openvex

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"time"

	"github.com/temper-dev/temper/internal/sbom"
	"github.com/temper-dev/temper/internal/vuln"
	"github.com/temper-dev/temper/internal/vuln/policy"
)

// Context is the OpenVEX version written; PredicateType is the in-toto
// predicate type an attestation of the document uses.
const (
	Context       = "https://openvex.dev/ns/v0.2.0"
	PredicateType = "https://openvex.dev/ns"
)

// Doc is an OpenVEX document.
type Doc struct {
	Context    string      `json:"@context"`
	ID         string      `json:"@id"`
	Author     string      `json:"author"`
	Timestamp  string      `json:"timestamp"`
	Version    int         `json:"version"`
	Tooling    string      `json:"tooling,omitempty"`
	Statements []Statement `json:"statements"`
}

// Statement is one vulnerability's status for the image.
type Statement struct {
	Vulnerability   Vulnerability `json:"vulnerability"`
	Products        []Product     `json:"products"`
	Status          string        `json:"status"`
	StatusNotes     string        `json:"status_notes,omitempty"`
	Justification   string        `json:"justification,omitempty"`
	ImpactStatement string        `json:"impact_statement,omitempty"`
	ActionStatement string        `json:"action_statement,omitempty"`
}

// Vulnerability names a CVE (or a Debian TEMP- id).
type Vulnerability struct {
	Name string `json:"name"`
}

// Product is the image, with the packages concerned as subcomponents.
type Product struct {
	ID            string      `json:"@id"`
	Subcomponents []Component `json:"subcomponents,omitempty"`
}

// Component is one package, by purl.
type Component struct {
	ID string `json:"@id"`
}

// Options describe the image the document is about.
type Options struct {
	Name   string // the image's name, for pkg:oci/NAME
	Digest string // the image (index) digest, sha256:...; "" when not built
	// Distro is the purl distro qualifier the image's SBOM uses, e.g.
	// "debian-12.13"; "" when unknown (a scan of a lock).
	Distro    string
	Author    string    // default "temper"
	Timestamp time.Time // the document's time (a build uses its SOURCE_DATE_EPOCH)
	// Exceptions are the gate's decisions; unexpired ones become statements.
	Exceptions []policy.Decision
}

// Document returns the OpenVEX document for one scanned image.
func Document(img *vuln.Image, opt Options) ([]byte, error) {
	d := Doc{Context: Context, Author: opt.Author, Timestamp: opt.Timestamp.UTC().Format(time.RFC3339), Version: 1, Tooling: "temper"}
	if d.Author == "" {
		d.Author = "temper"
	}
	product := ImagePURL(opt.Name, opt.Digest)
	for _, f := range img.Verdicts {
		d.Statements = append(d.Statements, statement(img, f, product, opt))
	}
	for _, f := range img.Findings {
		d.Statements = append(d.Statements, statement(img, f, product, opt))
	}
	sort.SliceStable(d.Statements, func(i, j int) bool {
		a, b := d.Statements[i], d.Statements[j]
		if a.Vulnerability.Name != b.Vulnerability.Name {
			return a.Vulnerability.Name < b.Vulnerability.Name
		}
		return a.Products[0].Subcomponents[0].ID < b.Products[0].Subcomponents[0].ID
	})
	if d.Statements == nil {
		d.Statements = []Statement{}
	}
	body, err := json.Marshal(d.Statements)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(append([]byte(product+"\n"), body...))
	d.ID = "https://openvex.dev/docs/public/vex-" + hex.EncodeToString(h[:])
	return json.MarshalIndent(d, "", "  ")
}

// ImagePURL is pkg:oci/NAME@DIGEST (or pkg:oci/NAME before a build).
func ImagePURL(name, digest string) string {
	s := "pkg:oci/" + url.PathEscape(name)
	if digest != "" {
		s += "@" + url.QueryEscape(digest)
	}
	return s
}

// statement maps a finding or verdict (or the exception covering it).
func statement(img *vuln.Image, f vuln.Finding, product string, opt Options) Statement {
	p := Product{ID: product}
	for _, b := range f.Binaries {
		p.Subcomponents = append(p.Subcomponents, Component{ID: sbom.PURL(b.Name, b.Version, b.Architecture, opt.Distro)})
	}
	sort.Slice(p.Subcomponents, func(i, j int) bool { return p.Subcomponents[i].ID < p.Subcomponents[j].ID })
	s := Statement{Vulnerability: Vulnerability{Name: f.ID}, Products: []Product{p}}
	for _, e := range opt.Exceptions {
		if !e.Expired && e.Source == f.Source && e.Covers(img.Definition, f.ID, f.Source) {
			s.Status, s.Justification, s.ActionStatement = e.Status, e.Justification, e.Action
			s.ImpactStatement = e.Reason
			s.StatusNotes = fmt.Sprintf("exception by %s, expires %s (%s)", e.Author, e.Expires, e.File)
			return s
		}
	}
	switch f.Status {
	case vuln.Fixed:
		s.Status = "fixed"
		s.StatusNotes = fmt.Sprintf("Debian fixed this in %s %s; %s is locked", f.Source, f.FixedVersion, f.SourceVersion)
	case vuln.NotAffected:
		s.Status, s.Justification = "not_affected", "vulnerable_code_not_present"
		s.ImpactStatement = fmt.Sprintf("Debian's security tracker: %s in %s never contained the vulnerable code", f.Source, img.Release)
	case vuln.Undetermined:
		s.Status = "under_investigation"
		s.StatusNotes = "Debian has not yet determined whether " + f.Source + " is affected"
	case vuln.Fixable:
		s.Status = "affected"
		s.ActionStatement = fmt.Sprintf("Update %s to %s or later (temper update)", f.Source, f.FixedVersion)
	default:
		s.Status = "affected"
		s.ActionStatement = fmt.Sprintf("No fix in Debian %s", img.Release)
		s.StatusNotes = "Debian status: " + string(f.Status)
		if f.Comment != "" {
			s.StatusNotes += ": " + f.Comment
		}
	}
	return s
}
