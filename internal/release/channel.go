package release

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Channel is a moving tag and the rules for entering it.
type Channel struct {
	Name string
	// Soak is how long a release must have been in the previous channel.
	Soak time.Duration
	// FullTests requires a passed full test suite (the snapshot's).
	FullTests bool
	// Plain makes the channel's tag the bare version: what consumers
	// pull (production).
	Plain bool
}

// Tag is the channel's tag for a stream version: <version>-<channel>, or
// <version> for the plain channel.
func (c Channel) Tag(version string) string {
	if c.Plain {
		return version
	}
	return version + "-" + c.Name
}

// DefaultChannels: testing → staging (after the weekly snapshot passes)
// → production (7 days in staging).
func DefaultChannels() []Channel {
	return []Channel{
		{Name: "testing"},
		{Name: "staging", FullTests: true},
		{Name: "production", Soak: 7 * 24 * time.Hour, FullTests: true, Plain: true},
	}
}

// ChannelConfig is one channel as temper.yaml spells it:
//
//	channels:
//	  - {name: testing}
//	  - {name: staging, full_tests: true}
//	  - {name: production, soak: 7d, full_tests: true}
//
// The last channel is production: its tag is the bare version.
type ChannelConfig struct {
	Name      string `yaml:"name" json:"name"`
	Soak      string `yaml:"soak" json:"soak,omitempty"`
	FullTests bool   `yaml:"full_tests" json:"full_tests,omitempty"`
}

// ParseChannels checks a configured channel list; nil or empty means
// DefaultChannels.
func ParseChannels(cfg []ChannelConfig) ([]Channel, error) {
	if len(cfg) == 0 {
		return DefaultChannels(), nil
	}
	seen := map[string]bool{}
	out := make([]Channel, len(cfg))
	for i, c := range cfg {
		if c.Name == "" || strings.ContainsAny(c.Name, ":/@ ") {
			return nil, fmt.Errorf("channels[%d]: name %q must be a non-empty tag component", i, c.Name)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("channels[%d]: %s named twice", i, c.Name)
		}
		seen[c.Name] = true
		soak, err := ParseSoak(c.Soak)
		if err != nil {
			return nil, fmt.Errorf("channels[%d] (%s): soak: %w", i, c.Name, err)
		}
		out[i] = Channel{Name: c.Name, Soak: soak, FullTests: c.FullTests, Plain: i == len(cfg)-1}
	}
	return out, nil
}

// ParseSoak reads "7d", "36h", "0" or "".
func ParseSoak(s string) (time.Duration, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (7d, 36h)", s)
	}
	return d, nil
}
