package server

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/temper-dev/temper/internal/build"
	"github.com/temper-dev/temper/internal/dashboard"
	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/store"
	"github.com/temper-dev/temper/internal/update"
	"github.com/temper-dev/temper/internal/vuln"
)

// mountDashboard serves the dashboard's pages at / (internal/dashboard):
// they check their own session cookie, so they are mounted Open here,
// and their admin actions are requests to the API's handlers with the
// session's token. The Vulnerabilities page's descriptions, Debian's
// comments and EPSS come from the cached vulnerability data (vulnDetails).
func (s *Server) mountDashboard() {
	err := dashboard.Mount(func(pattern string, h http.Handler) { s.Handle(pattern, h, Open) }, dashboard.Config{
		Service: s.cfg.Service, API: s.Mux(), TLS: s.cfg.TLSCert != "", Now: s.cfg.Now, WarmHistory: true, Logger: s.log.With("component", "dashboard"),
		Details: s.details.info,
	})
	if err != nil {
		s.log.Warn("dashboard not served", "error", err)
	}
	s.details.load = s.loadVulnDB
}

// loadVulnDB reads the cached vulnerability data (nil when there is none
// yet: the pages then show no EPSS or comments).
func (s *Server) loadVulnDB() *vuln.DB {
	if s.cfg.Cache == nil {
		return nil
	}
	db, err := vuln.Load(s.cfg.Cache, vuln.Files{}, s.cfg.Now())
	if err != nil {
		s.log.Info("dashboard: no vulnerability details", "error", err)
		return nil
	}
	return db
}

// vulnDetails is the dashboard's Config.Details: the cached tracker and
// EPSS, loaded on first use and again after each vuln-update job
// (reload), with each answer remembered until then.
type vulnDetails struct {
	load func() *vuln.DB

	mu     sync.Mutex
	loaded bool
	db     *vuln.DB
	memo   map[[3]string]dashboard.FindingInfo
}

// reload reads the cached data again now (after a vuln-update).
func (v *vulnDetails) reload() {
	if v.load == nil {
		return
	}
	db := v.load()
	v.mu.Lock()
	v.db, v.loaded, v.memo = db, true, nil
	v.mu.Unlock()
}

func (v *vulnDetails) info(cve, source, release string) dashboard.FindingInfo {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.loaded && v.load != nil {
		v.db, v.loaded = v.load(), true
	}
	if v.db == nil {
		return dashboard.FindingInfo{}
	}
	k := [3]string{cve, source, release}
	if fi, ok := v.memo[k]; ok {
		return fi
	}
	var fi dashboard.FindingInfo
	if e, ok := v.db.EPSS[cve]; ok {
		fi.EPSS = e.Score
	}
	if v.db.Index != nil {
		// The stream's release first (its comment is that release's),
		// then any release that has the id (the description is the id's).
		rels := append([]string{release}, v.db.Index.Releases()...)
		for _, r := range rels {
			if rec, ok := findRecord(v.db.Index.Records(r, source), cve); ok {
				fi.Comment, fi.Description = rec.Comment, rec.Description
				break
			}
		}
	}
	if v.memo == nil {
		v.memo = map[[3]string]dashboard.FindingInfo{}
	}
	v.memo[k] = fi
	return fi
}

// findRecord finds id in records sorted by id.
func findRecord(recs []vuln.Record, id string) (vuln.Record, bool) {
	i := sort.Search(len(recs), func(i int) bool { return recs[i].ID >= id })
	if i < len(recs) && recs[i].ID == id {
		return recs[i], true
	}
	return vuln.Record{}, false
}

// recordCheck records a checked definition's verdict for the dashboard's
// "last check" (store.Checks); a store without it records nothing.
func (s *Server) recordCheck(ctx context.Context, img *update.Image, at time.Time) {
	ck, err := store.AsChecks(s.cfg.Store)
	if err != nil {
		return
	}
	def, err := spec.LoadDefinition(img.Definition)
	if err != nil {
		return // the check's own error names it
	}
	detail := strings.Join(img.Reasons, "; ")
	if img.Verdict == update.Failed {
		detail = img.Error
	}
	if err := ck.RecordCheck(ctx, build.RefName(def), string(img.Verdict), detail, at); err != nil {
		s.log.Warn("record check", "definition", img.Definition, "error", err)
	}
}

// recordLockCommit records the commit that last changed a stream's lock
// in the catalog's work tree (--git), for the dashboard's Stream page.
func (s *Server) recordLockCommit(ctx context.Context, stream, lockPath string) {
	ck, err := store.AsChecks(s.cfg.Store)
	if err != nil {
		return
	}
	rel, err := filepath.Rel(s.cfg.Catalog, lockPath)
	if err != nil {
		rel = lockPath
	}
	out, err := exec.CommandContext(ctx, "git", "-C", s.cfg.Catalog, "log", "-1", "--format=%H", "--", rel).Output()
	commit := strings.TrimSpace(string(out))
	if err != nil || commit == "" {
		s.log.Warn("lock commit not found", "lock", rel, "error", err)
		return
	}
	if err := ck.RecordLockCommit(ctx, stream, commit, s.cfg.Now()); err != nil {
		s.log.Warn("record lock commit", "stream", stream, "error", err)
	}
}
