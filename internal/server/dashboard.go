package server

import (
	"net/http"

	"github.com/temper-dev/temper/internal/dashboard"
)

// mountDashboard serves the dashboard's pages at / (internal/dashboard):
// they check their own session cookie, so they are mounted Open here,
// and their admin actions are requests to the API's handlers with the
// session's token.
func (s *Server) mountDashboard() {
	err := dashboard.Mount(func(pattern string, h http.Handler) { s.Handle(pattern, h, Open) }, dashboard.Config{
		Service: s.cfg.Service, API: s.Mux(), TLS: s.cfg.TLSCert != "", Now: s.cfg.Now, WarmHistory: true, Logger: s.log.With("component", "dashboard"),
	})
	if err != nil {
		s.log.Warn("dashboard not served", "error", err)
	}
}
