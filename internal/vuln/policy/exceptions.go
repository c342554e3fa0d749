package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"
)

// OpenVEX justifications for not_affected (OpenVEX spec v0.2.0).
var justifications = []string{
	"component_not_present",
	"vulnerable_code_not_present",
	"vulnerable_code_not_in_execute_path",
	"vulnerable_code_cannot_be_controlled_by_adversary",
	"inline_mitigations_already_exist",
}

// Exception is a team's documented decision about one vulnerability.
type Exception struct {
	ID string `yaml:"id" json:"id"`
	// Status is not_affected (with Justification) or affected (with Action).
	Status        string `yaml:"status" json:"status"`
	Justification string `yaml:"justification,omitempty" json:"justification,omitempty"`
	Action        string `yaml:"action,omitempty" json:"action,omitempty"`
	Reason        string `yaml:"reason" json:"reason"`
	Author        string `yaml:"author" json:"author"`
	Expires       string `yaml:"expires" json:"expires"` // YYYY-MM-DD: the exception applies through that day (UTC)
	// Definitions and Sources, when set, limit the exception to definitions
	// matching one of these globs and to these source packages.
	Definitions []string `yaml:"definitions,omitempty" json:"definitions,omitempty"`
	Sources     []string `yaml:"sources,omitempty" json:"sources,omitempty"`

	// File is where the exception was read from.
	File string `yaml:"-" json:"file"`
}

type exceptionsFile struct {
	Exceptions []Exception `yaml:"exceptions"`
}

// LoadExceptions reads an exceptions file (YAML or JSON) strictly.
func LoadExceptions(file string) ([]Exception, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var f exceptionsFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	for i := range f.Exceptions {
		e := &f.Exceptions[i]
		e.File = file
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("%s: exceptions[%d] (%s): %v", file, i, e.ID, err)
		}
	}
	return f.Exceptions, nil
}

func (e *Exception) validate() error {
	switch {
	case e.ID == "":
		return errors.New("id is required")
	case e.Reason == "" || e.Author == "":
		return errors.New("reason and author are required")
	}
	if _, err := e.expiry(); err != nil {
		return err
	}
	for _, g := range e.Definitions {
		if _, err := path.Match(g, ""); err != nil {
			return fmt.Errorf("definitions: %q: %v", g, err)
		}
	}
	switch e.Status {
	case "not_affected":
		if !slices.Contains(justifications, e.Justification) {
			return fmt.Errorf("not_affected needs an OpenVEX justification, one of %v", justifications)
		}
	case "affected":
		if e.Action == "" {
			return errors.New("affected needs an action statement (action:)")
		}
	default:
		return fmt.Errorf("status %q: want not_affected or affected", e.Status)
	}
	return nil
}

// expiry is the first instant the exception no longer applies.
func (e *Exception) expiry() (time.Time, error) {
	d, err := time.Parse("2006-01-02", e.Expires)
	if err != nil {
		return time.Time{}, fmt.Errorf("expires %q: want a date, YYYY-MM-DD", e.Expires)
	}
	return d.AddDate(0, 0, 1), nil
}

// Expired reports whether the exception no longer applies at now.
func (e *Exception) Expired(now time.Time) bool {
	t, err := e.expiry()
	return err != nil || !now.Before(t)
}

// Covers reports whether the exception is about this finding of this
// definition (whatever its expiry).
func (e *Exception) Covers(definition, id, source string) bool {
	if e.ID != id || (len(e.Sources) > 0 && !slices.Contains(e.Sources, source)) {
		return false
	}
	if len(e.Definitions) == 0 {
		return true
	}
	for _, g := range e.Definitions {
		if ok, _ := path.Match(g, definition); ok {
			return true
		}
	}
	return false
}
