// Package config is the catalog's configuration file (temper.yaml): the
// settings a team shares for all its image definitions, such as which Debian
// mirror to read. It also decides where temper's mirror comes from when
// several places name one: command-line flags, then temper.yaml, then the
// machine's own apt sources.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/temper-dev/temper/internal/debian/aptsources"
	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/vuln/policy"
)

// FileName is the configuration file temper looks for in the current
// directory when --config is not given.
const FileName = "temper.yaml"

// Config is temper.yaml.
type Config struct {
	// Archive is the Debian archive base URL, http://<mirror>/debian.
	Archive string `yaml:"archive"`
	// SecurityArchive is the security archive base URL, http://<mirror>/debian-security.
	SecurityArchive string `yaml:"security_archive"`
	// Keyring is an OpenPGP keyring file that replaces the embedded Debian archive keys.
	Keyring string `yaml:"keyring"`
	// Cache is the cache directory.
	Cache string `yaml:"cache"`
	// VulnerabilityData names where `temper vuln update` fetches from.
	VulnerabilityData VulnerabilityData `yaml:"vulnerability_data"`
	// Policy is the vulnerability gate of `temper scan` (docs/scan.md).
	Policy policy.Policy `yaml:"policy"`
	// Registry is HOST/PREFIX for releases and channel tags
	// (docs/releases.md); "" means the local image store.
	Registry string `yaml:"registry"`
	// Channels are the release channels in promotion order; empty means
	// testing, staging, production.
	Channels []release.ChannelConfig `yaml:"channels"`
	// Support is the Debian support whose end freezes a stream: regular
	// or lts (the default).
	Support string `yaml:"support"`
	// FastTrack says which fixes take the fast track.
	FastTrack FastTrack `yaml:"fast_track"`
	// Schedule is temper serve's periodic jobs (docs/api.md).
	Schedule Schedule `yaml:"schedule"`
	// Serve holds temper serve's settings; each flag overrides its key.
	Serve Serve `yaml:"serve"`
	// Compression is how image layers are compressed when a definition
	// names none: gzip (the default) or zstd (docs/layers.md).
	Compression string `yaml:"compression"`
	// LayerBudget is the most layers an image has; 0 means 8
	// (docs/layers.md).
	LayerBudget int `yaml:"layer_budget"`

	// File is where the configuration was read from ("" when none).
	File string `yaml:"-"`
}

// Load reads a configuration file strictly: unknown keys and wrong types
// are errors naming the file and line.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		return nil, fmt.Errorf("%s: %s (valid keys: archive, security_archive, keyring, cache, vulnerability_data, policy, registry, channels, support, fast_track, schedule, serve)", path, msg)
	}
	if err := c.checkReleases(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	c.File = path
	if err := c.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	for _, f := range []struct{ key, val string }{{"tracker", c.VulnerabilityData.Tracker}, {"kev", c.VulnerabilityData.KEV}, {"epss", c.VulnerabilityData.EPSS}} {
		if f.val != "" && strings.Contains(f.val, "://") {
			if err := checkURL(f.val); err != nil {
				return nil, fmt.Errorf("%s: vulnerability_data: %s: %v", path, f.key, err)
			}
		}
	}
	for _, f := range []struct{ key, val string }{{"archive", c.Archive}, {"security_archive", c.SecurityArchive}} {
		if f.val == "" {
			continue
		}
		if err := checkURL(f.val); err != nil {
			return nil, fmt.Errorf("%s: %s: %v", path, f.key, err)
		}
	}
	return &c, nil
}

// Find loads the file named by explicit, or ./temper.yaml when explicit is
// empty and that file exists. It returns an empty Config when there is none.
func Find(explicit string) (*Config, error) {
	if explicit != "" {
		return Load(explicit)
	}
	if _, err := os.Stat(FileName); err == nil {
		return Load(FileName)
	}
	return &Config{}, nil
}

// FastTrack is temper.yaml's fast_track: section.
type FastTrack struct {
	// Urgency is the lowest Debian urgency whose fix is fast-tracked
	// besides KEV ("" means KEV only).
	Urgency string `yaml:"urgency"`
}

// checkReleases checks the release keys: channels, support, fast_track.
func (c *Config) checkReleases() error {
	if _, err := release.ParseChannels(c.Channels); err != nil {
		return err
	}
	switch c.Support {
	case "", "regular", "lts":
	default:
		return fmt.Errorf("support: %q is not regular or lts", c.Support)
	}
	switch c.FastTrack.Urgency {
	case "", "low", "medium", "high":
	default:
		return fmt.Errorf("fast_track: urgency %q is not low, medium or high", c.FastTrack.Urgency)
	}
	return nil
}

// Schedule is temper serve's periodic jobs: an interval (15m, 1h, 7d) or
// a five-field cron expression in UTC ("0 6 * * 1"); empty keeps the
// default. internal/server parses and checks them.
type Schedule struct {
	Check      string `yaml:"check"`
	VulnUpdate string `yaml:"vuln_update"`
	Snapshot   string `yaml:"snapshot"`
	Promote    string `yaml:"promote"`
}

// Serve is temper serve's settings, one key per flag.
type Serve struct {
	State         string `yaml:"state"`
	Listen        string `yaml:"listen"`
	MetricsListen string `yaml:"metrics_listen"`
	Git           bool   `yaml:"git"`
	GitPush       string `yaml:"git_push"`
	RescueAfter   string `yaml:"rescue_after"`
	SignKey       string `yaml:"sign_key"`
	TLSCert       string `yaml:"tls_cert"`
	TLSKey        string `yaml:"tls_key"`
	LogFormat     string `yaml:"log_format"`
	Workers       int    `yaml:"workers"`
}

// VulnerabilityData overrides the publishers' URLs (or names files) for the
// security tracker, CISA KEV and EPSS data, for mirrors and air-gapped sites.
type VulnerabilityData struct {
	Tracker string `yaml:"tracker"`
	KEV     string `yaml:"kev"`
	EPSS    string `yaml:"epss"`
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file" {
		return fmt.Errorf("%q is not an http(s) URL; write it as http://<mirror>/debian", s)
	}
	if u.Host == "" && u.Scheme != "file" {
		return fmt.Errorf("%q has no host; write it as http://<mirror>/debian", s)
	}
	return nil
}

// MirrorChoice is the archive configuration temper will use and where each
// URL came from, so that `temper archive show` can say so.
type MirrorChoice struct {
	archive.Mirrors
	ArchiveFrom, SecurityFrom string
}

// ResolveMirrors chooses the archive URLs: flags first, then the catalog
// configuration, then the machine's apt sources under aptRoot ("/" in
// production).
func ResolveMirrors(flagArchive, flagSecurity string, c *Config, aptRoot string) (MirrorChoice, error) {
	var m MirrorChoice
	for _, f := range []string{flagArchive, flagSecurity} {
		if f != "" {
			if err := checkURL(f); err != nil {
				return m, err
			}
		}
	}
	pick := func(dst *string, from *string, flag, conf string) {
		switch {
		case flag != "":
			*dst, *from = flag, "command line"
		case conf != "":
			*dst, *from = conf, c.File
		}
	}
	pick(&m.Archive, &m.ArchiveFrom, flagArchive, c.Archive)
	pick(&m.Security, &m.SecurityFrom, flagSecurity, c.SecurityArchive)
	if m.Archive == "" || m.Security == "" {
		srcs, err := aptsources.Load(aptRoot)
		if err != nil {
			return m, err
		}
		a, s, err := aptsources.Mirrors(srcs)
		if err != nil && m.Archive == "" {
			return m, err
		}
		if m.Archive == "" {
			m.Archive, m.ArchiveFrom = a, "apt sources"
		}
		if m.Security == "" && s != "" {
			m.Security, m.SecurityFrom = s, "apt sources"
		}
	}
	if m.Security == "" {
		return m, fmt.Errorf("no Debian security archive found (archive %s from %s); pass --security-archive http://<mirror>/debian-security or set security_archive in %s", m.Archive, m.ArchiveFrom, FileName)
	}
	m.Archive = strings.TrimRight(m.Archive, "/")
	m.Security = strings.TrimRight(m.Security, "/")
	return m, nil
}
