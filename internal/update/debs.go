package update

import (
	"context"
	"fmt"
	"strings"

	"github.com/temper-dev/temper/internal/debian/archive"
	"github.com/temper-dev/temper/internal/debian/pool"
	"github.com/temper-dev/temper/internal/debian/shlibs"
	"github.com/temper-dev/temper/internal/spec"
)

// The .debs a check reads: each fetched once per check, and fetched and
// unpacked within the check's bound on .deb work.

func lockItem(p spec.LockedPackage) pool.Item {
	return pool.Item{Name: p.Name, Version: p.Version, Suite: p.Suite, Filename: p.Filename, SHA256: p.SHA256, Size: p.Size}
}

func archiveItem(p *archive.Package) pool.Item {
	it := pool.Item{Name: p.Name, Version: p.Version, Suite: p.Suite, Filename: p.Filename, SHA256: strings.ToLower(p.SHA256), Size: p.Size}
	if p.Repository != "" {
		it.Base = p.Base // a designated repository's pool is below its URL
	}
	return it
}

// deb fetches one .deb (verified, cached), once per check.
func (c *checker) deb(ctx context.Context, it pool.Item) ([]byte, error) {
	return c.debs.do(it.SHA256, func() (data []byte, err error) {
		if it.Suite == spec.LocalRepository {
			// A local_debs: .deb: the catalog's file, not a mirror's.
			return c.localDeb(it)
		}
		c.debWork.do(func() {
			var out [][]byte
			if base, ok := c.repoBases.Load(it.SHA256); ok && it.Base == "" {
				// A designated repository's .deb named by a lock: its
				// pool is below the repository's own URL.
				it.Base = base.(string)
			}
			if out, _, err = c.opt.Debs.Fetch(ctx, []pool.Item{it}); err == nil {
				data = out[0]
			}
		})
		return data, err
	})
}

func debName(it pool.Item) string {
	return it.Name + "_" + it.Version + ".deb"
}

// sonamesOf returns the SONAMEs a locked package ships. Packages that
// declare no shared libraries in their control data (no shlibs or symbols
// file) and are not named lib* are not unpacked.
func (c *checker) sonamesOf(ctx context.Context, p spec.LockedPackage) ([]string, error) {
	return c.sonames.do(p.SHA256, func() ([]string, error) {
		it := lockItem(p)
		data, err := c.deb(ctx, it)
		if err != nil {
			return nil, err
		}
		var sonames []string
		c.debWork.do(func() { sonames, err = shlibs.Sonames(it.Name, debName(it), data) })
		return sonames, err
	})
}

// abiRisk compares the SONAMEs of the old and the new package.
func (c *checker) abiRisk(ctx context.Context, op, np spec.LockedPackage) (risk, note string) {
	olds, err := c.sonamesOf(ctx, op)
	if err != nil {
		return "", fmt.Sprintf("shared libraries of %s %s not compared: %v", op.Name, op.Version, err)
	}
	if len(olds) == 0 {
		return "", ""
	}
	news, err := c.sonamesOf(ctx, np)
	if err != nil {
		return "", fmt.Sprintf("shared libraries of %s %s not compared: %v", np.Name, np.Version, err)
	}
	have := map[string]bool{}
	for _, s := range news {
		have[s] = true
	}
	var gone []string
	for _, s := range olds {
		if !have[s] {
			gone = append(gone, s)
		}
	}
	if len(gone) == 0 {
		return "", ""
	}
	return fmt.Sprintf("SONAME %s shipped by %s %s is gone in %s %s", strings.Join(gone, ", "), op.Name, op.Version, np.Name, np.Version), ""
}
