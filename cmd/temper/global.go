package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/about"
	"github.com/temper-dev/temper/internal/config"
	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/fetch"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/debian/release"
)

// globalFlags are the flags every archive-reading command shares.
type globalFlags struct {
	config       string
	cacheDir     string
	archive      string
	security     string
	keyring      string
	allowExpired bool
	offline      bool
	// aptRoot is where apt's configuration is read from; tests point it
	// at a temporary directory.
	aptRoot string
	// now is the clock; tests replace it.
	now func() time.Time
	// onArchiveHTTP, when set, sees the archive client's HTTP client
	// (temper serve counts InRelease fetches through it).
	onArchiveHTTP func(*fetch.Client)
}

func (g *globalFlags) register(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&g.config, "config", "", "catalog configuration file (default ./"+config.FileName+" when present)")
	f.StringVar(&g.cacheDir, "cache", "", "cache directory (default: the user cache dir/temper)")
	f.StringVar(&g.archive, "archive", "", "Debian archive base URL, e.g. http://<mirror>/debian (default: temper.yaml, then the machine's apt sources)")
	f.StringVar(&g.security, "security-archive", "", "Debian security archive base URL, e.g. http://<mirror>/debian-security")
	f.StringVar(&g.keyring, "keyring", "", "OpenPGP keyring to trust instead of the embedded Debian archive keys")
	f.BoolVar(&g.allowExpired, "allow-expired", false, "accept signed metadata past its Valid-Until (for snapshot archives)")
	f.BoolVar(&g.offline, "offline", false, "use only the cache: the last verified metadata, no network")
}

func defaultGlobals() *globalFlags { return &globalFlags{aptRoot: "/", now: time.Now} }

// cache opens the cache the flags and temper.yaml name.
func (g *globalFlags) cache() (*cache.Cache, error) {
	conf, err := config.Find(g.config)
	if err != nil {
		return nil, err
	}
	dir := g.cacheDir
	if dir == "" {
		dir = conf.Cache
	}
	if dir == "" {
		if dir, err = cache.DefaultDir(); err != nil {
			return nil, fmt.Errorf("no cache directory: %w; pass --cache DIR", err)
		}
	}
	return cache.Open(dir)
}

// debFetcher downloads (or, with --offline, only reads from the cache) the
// .debs locks pin.
func (g *globalFlags) debFetcher(m archive.Mirrors, c *cache.Cache) *pool.Fetcher {
	return &pool.Fetcher{Mirrors: m, Cache: c, HTTP: fetch.New(about.UserAgent()), Offline: g.offline}
}

// archiveClient builds the archive client the flags, temper.yaml and the
// machine's apt sources describe.
func (g *globalFlags) archiveClient() (*archive.Client, config.MirrorChoice, error) {
	conf, err := config.Find(g.config)
	if err != nil {
		return nil, config.MirrorChoice{}, err
	}
	mirrors, err := config.ResolveMirrors(g.archive, g.security, conf, g.aptRoot)
	if err != nil {
		return nil, mirrors, err
	}
	c, err := g.cache()
	if err != nil {
		return nil, mirrors, err
	}
	var kr *release.Keyring
	keyring := g.keyring
	if keyring == "" {
		keyring = conf.Keyring
	}
	if keyring != "" {
		kr, err = release.LoadKeyring(keyring)
	} else {
		kr, err = release.EmbeddedKeyring()
	}
	if err != nil {
		return nil, mirrors, err
	}
	h := fetch.New(about.UserAgent())
	if g.onArchiveHTTP != nil {
		g.onArchiveHTTP(h)
	}
	client, err := archive.New(archive.Config{
		Mirrors:      mirrors.Mirrors,
		Cache:        c,
		HTTP:         h,
		Keyring:      kr,
		Now:          g.now,
		AllowExpired: g.allowExpired,
		Offline:      g.offline,
	})
	return client, mirrors, err
}
