package vuln

import (
	"encoding/json"
	"fmt"
)

// KEV is CISA's record that a vulnerability is known to be exploited.
type KEV struct {
	DateAdded string `json:"date_added"`
	DueDate   string `json:"due_date"`
	// Ransomware is CISA's knownRansomwareCampaignUse: "Known" or "Unknown".
	Ransomware string `json:"ransomware"`
}

// kevCatalog is the part of CISA's JSON feed temper reads.
type kevCatalog struct {
	CatalogVersion  string `json:"catalogVersion"`
	DateReleased    string `json:"dateReleased"`
	Vulnerabilities []struct {
		CVE        string `json:"cveID"`
		DateAdded  string `json:"dateAdded"`
		DueDate    string `json:"dueDate"`
		Ransomware string `json:"knownRansomwareCampaignUse"`
	} `json:"vulnerabilities"`
}

// ParseKEV reads CISA's Known Exploited Vulnerabilities JSON feed into a
// map from CVE id. A document without a vulnerabilities list is an error:
// an empty catalog would silently turn every KEV rule off.
func ParseKEV(data []byte) (map[string]KEV, error) {
	var c kevCatalog
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("KEV catalog: %w", err)
	}
	if len(c.Vulnerabilities) == 0 {
		return nil, fmt.Errorf("KEV catalog: no vulnerabilities listed (is this CISA's known_exploited_vulnerabilities.json?)")
	}
	out := make(map[string]KEV, len(c.Vulnerabilities))
	for _, v := range c.Vulnerabilities {
		if v.CVE == "" {
			return nil, fmt.Errorf("KEV catalog: an entry has no cveID")
		}
		out[v.CVE] = KEV{DateAdded: v.DateAdded, DueDate: v.DueDate, Ransomware: v.Ransomware}
	}
	return out, nil
}
