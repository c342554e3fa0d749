package evidence

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/temper-dev/temper/internal/attest"
	"github.com/temper-dev/temper/internal/vuln/openvex"
)

// VEXReport is what Verify found in an index's OpenVEX attestation: its
// statements, counted by status.
type VEXReport struct {
	ID         string
	Statements int
	ByStatus   map[string]int
}

// Summary is "N statements (affected 2, fixed 10, ...)".
func (r *VEXReport) Summary() string {
	var parts []string
	for _, s := range sortedStatus(r.ByStatus) {
		parts = append(parts, fmt.Sprintf("%s %d", s, r.ByStatus[s]))
	}
	return fmt.Sprintf("%d statements (%s)", r.Statements, strings.Join(parts, ", "))
}

func sortedStatus(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkOpenVEX checks the index's OpenVEX attestations, when there are
// any (a build without the vulnerability gate has none): the signature
// and the subject digest were checked with every attestation
// (attest.VerifyAttestations); here the predicate must parse as an
// OpenVEX v0.2.0 document whose every statement is well formed and about
// this image (product pkg:oci/NAME@<digest>). The last good one is
// reported.
func (c *checker) checkOpenVEX(sts []attest.VerifiedStatement, digest, what string) *VEXReport {
	var rep *VEXReport
	for _, st := range sts {
		if st.PredicateType != openvex.PredicateType {
			continue
		}
		r, err := CheckOpenVEX(st.Statement.Predicate, digest)
		if err != nil {
			c.fail(what, fmt.Errorf("OpenVEX attestation: %w", err))
			continue
		}
		rep = r
	}
	return rep
}

// vexStatuses are OpenVEX's statuses, and what each requires.
var vexStatuses = map[string]bool{"not_affected": true, "affected": true, "fixed": true, "under_investigation": true}

// CheckOpenVEX checks that predicate is an OpenVEX v0.2.0 document about
// the image whose index digest is digest, and counts its statements.
func CheckOpenVEX(predicate []byte, digest string) (*VEXReport, error) {
	var doc openvex.Doc
	if err := json.Unmarshal(predicate, &doc); err != nil {
		return nil, fmt.Errorf("not an OpenVEX document: %w", err)
	}
	if doc.Context != openvex.Context {
		return nil, fmt.Errorf("@context %q, want %q", doc.Context, openvex.Context)
	}
	if doc.ID == "" || doc.Timestamp == "" {
		return nil, errors.New("the document has no @id or timestamp")
	}
	suffix := "@" + url.QueryEscape(digest)
	rep := &VEXReport{ID: doc.ID, ByStatus: map[string]int{}}
	for i, s := range doc.Statements {
		where := fmt.Sprintf("statement %d (%s)", i, s.Vulnerability.Name)
		switch {
		case s.Vulnerability.Name == "":
			return nil, fmt.Errorf("statement %d names no vulnerability", i)
		case !vexStatuses[s.Status]:
			return nil, fmt.Errorf("%s: status %q is not an OpenVEX status", where, s.Status)
		case s.Status == "not_affected" && s.Justification == "" && s.ImpactStatement == "":
			return nil, fmt.Errorf("%s: not_affected without a justification or impact statement", where)
		case s.Status == "affected" && s.ActionStatement == "":
			return nil, fmt.Errorf("%s: affected without an action statement", where)
		case len(s.Products) == 0:
			return nil, fmt.Errorf("%s: no product", where)
		}
		for _, p := range s.Products {
			if !strings.HasPrefix(p.ID, "pkg:oci/") || !strings.HasSuffix(p.ID, suffix) {
				return nil, fmt.Errorf("%s: product %s is not this image (%s)", where, p.ID, digest)
			}
		}
		rep.Statements++
		rep.ByStatus[s.Status]++
	}
	return rep, nil
}
