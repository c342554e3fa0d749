package main

import (
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/vuln"
)

// SARIF 2.1.0, the subset code-scanning dashboards read: one rule per
// vulnerability id, one result per finding, located at the lock file.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	} `json:"driver"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
	} `json:"physicalLocation"`
}

func sarifOf(rep *scanReport) sarifLog {
	run := sarifRun{Results: []sarifResult{}}
	run.Tool.Driver.Name = "temper"
	run.Tool.Driver.InformationURI = "https://github.com/temper-dev/temper"
	run.Tool.Driver.Rules = []sarifRule{}
	seen := map[string]bool{}
	for _, r := range rep.Images {
		if r.Error != "" {
			continue
		}
		for _, f := range r.Findings {
			if !seen[f.ID] {
				seen[f.ID] = true
				run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: f.ID, ShortDescription: sarifMessage{Text: firstLine(f.Description, f.ID)}})
			}
			res := sarifResult{RuleID: f.ID, Level: sarifLevel(f), Message: sarifMessage{Text: f.ID + " in " + f.Source + " " + f.SourceVersion + ": " + string(f.Status)}}
			var loc sarifLocation
			loc.PhysicalLocation.ArtifactLocation.URI = spec.LockPath(r.Definition)
			res.Locations = []sarifLocation{loc}
			run.Results = append(run.Results, res)
		}
	}
	return sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
}

func sarifLevel(f vuln.Finding) string {
	switch {
	case f.KEV != nil || f.Urgency == "high":
		return "error"
	case f.Urgency == "medium" || f.Status == vuln.Fixable:
		return "warning"
	}
	return "note"
}

func firstLine(s, def string) string {
	if s == "" {
		return def
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
