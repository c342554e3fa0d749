package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/temper-dev/temper/internal/release"
	"github.com/temper-dev/temper/internal/store"
)

// metrics are the Prometheus series (docs/api.md lists them).
type metrics struct {
	s   *Server
	reg *prometheus.Registry

	checks        *prometheus.CounterVec
	checkDuration prometheus.Histogram
	inRelease     prometheus.Counter
	archiveReqs   *prometheus.CounterVec
	streams       *prometheus.GaugeVec
	builds        *prometheus.CounterVec
	buildDuration prometheus.Histogram
	publishes     prometheus.Counter
	jobFailures   *prometheus.CounterVec
	latency       *prometheus.HistogramVec
}

var latencyBuckets = []float64{60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400}

func newMetrics(s *Server) *metrics {
	m := &metrics{s: s, reg: prometheus.NewRegistry()}
	m.checks = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "temper_checks_total", Help: "Checks run, by result (ok, error)."}, []string{"result"})
	m.checkDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "temper_check_duration_seconds", Help: "Duration of a check of the whole catalog.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 16)})
	m.inRelease = prometheus.NewCounter(prometheus.CounterOpts{Name: "temper_inrelease_fetches_total", Help: "InRelease files requested from the archive."})
	m.archiveReqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "temper_archive_requests_total", Help: "Requests of the archive client (metadata: InRelease, indexes), by file: InRelease, index, other."}, []string{"file"})
	m.streams = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "temper_streams", Help: "Streams by state at the last check (up-to-date, updates-pending, blocked, frozen, error)."}, []string{"state"})
	m.builds = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "temper_builds_total", Help: "Stream builds (build, tests, gate, sign, publish), by result."}, []string{"result"})
	m.buildDuration = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "temper_build_duration_seconds", Help: "Duration of a stream's build to publish.", Buckets: prometheus.ExponentialBuckets(0.1, 2, 14)})
	m.publishes = prometheus.NewCounter(prometheus.CounterOpts{Name: "temper_publishes_total", Help: "Releases published to the first channel."})
	m.jobFailures = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "temper_job_failures_total", Help: "Job attempts that failed, by kind."}, []string{"kind"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "temper_patch_latency_seconds",
		Help:    "Patch latency: stage archive-to-detected, detected-to-testing (published), published-to-channel (channel label).",
		Buckets: latencyBuckets}, []string{"stage", "channel"})
	for _, st := range []string{"up-to-date", "updates-pending", "blocked", "frozen", "error"} {
		m.streams.WithLabelValues(st)
	}
	m.checks.WithLabelValues("ok")
	m.checks.WithLabelValues("error")
	m.reg.MustRegister(m.checks, m.checkDuration, m.inRelease, m.archiveReqs, m.streams, m.builds, m.buildDuration, m.publishes, m.jobFailures, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &scrapeCollector{m})
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// CountInRelease is called by the archive client's transport for every
// request; it counts InRelease fetches, and every request by file.
func (s *Server) CountInRelease(path string) {
	file := "other"
	switch {
	case strings.HasSuffix(path, "/InRelease"):
		s.metrics.inRelease.Inc()
		file = "InRelease"
	case strings.Contains(path, "/Packages") || strings.Contains(path, "/by-hash/") || strings.HasSuffix(path, "/Release") || strings.HasSuffix(path, "/Release.gpg"):
		file = "index"
	}
	s.metrics.archiveReqs.WithLabelValues(file).Inc()
}

func (m *metrics) checkDone(d time.Duration, err error) {
	m.checkDuration.Observe(d.Seconds())
	if err != nil {
		m.checks.WithLabelValues("error").Inc()
		return
	}
	m.checks.WithLabelValues("ok").Inc()
}

func (m *metrics) setStreams(states map[string]int) {
	for _, st := range []string{"up-to-date", "updates-pending", "blocked", "frozen", "error"} {
		m.streams.WithLabelValues(st).Set(float64(states[st]))
	}
}

func (m *metrics) buildDone(d time.Duration, err error) {
	m.buildDuration.Observe(d.Seconds())
	if err != nil {
		m.builds.WithLabelValues("failed").Inc()
		return
	}
	m.builds.WithLabelValues("ok").Inc()
}

func (m *metrics) jobDone(kind string, err error) {
	if err != nil {
		m.jobFailures.WithLabelValues(kind).Inc()
	}
}

// published observes a new release's latency.
func (m *metrics) published(r store.Release) {
	m.publishes.Inc()
	if !r.ArchivePublished.IsZero() && !r.Detected.IsZero() {
		m.latency.WithLabelValues("archive-to-detected", "").Observe(r.Detected.Sub(r.ArchivePublished).Seconds())
	}
	if !r.Detected.IsZero() && !r.Published.IsZero() {
		m.latency.WithLabelValues("detected-to-testing", "").Observe(r.Published.Sub(r.Detected).Seconds())
	}
}

// moved observes published → channel for a release's move.
func (m *metrics) moved(mv release.Moved) {
	if mv.Already || mv.Release.Published.IsZero() {
		return
	}
	m.latency.WithLabelValues("published-to-channel", mv.Move.Channel).Observe(mv.Move.At.Sub(mv.Release.Published).Seconds())
}

// scrapeCollector reads what the database knows at scrape time: the job
// queue by state and open findings by urgency and KEV.
type scrapeCollector struct{ m *metrics }

var (
	queueDesc    = prometheus.NewDesc("temper_jobs", "Jobs in the queue by kind and state.", []string{"kind", "state"}, nil)
	findingsDesc = prometheus.NewDesc("temper_findings_open", "Open findings of each stream's newest release, by urgency.", []string{"urgency"}, nil)
	kevDesc      = prometheus.NewDesc("temper_findings_kev", "Open findings known to be exploited (CISA KEV).", nil, nil)
)

func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDesc
	ch <- findingsDesc
	ch <- kevDesc
}

func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s := c.m.s
	if db, _, ok := store.DB(s.cfg.Store); ok {
		rows, err := db.QueryContext(ctx, `SELECT kind, state, COUNT(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded') GROUP BY kind, state`)
		if err == nil {
			for rows.Next() {
				var kind, state string
				var n float64
				if rows.Scan(&kind, &state, &n) == nil {
					ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, n, kind, state)
				}
			}
			rows.Close()
		}
	}
	rows, err := s.cfg.Service.Status(ctx)
	if err != nil {
		return
	}
	by, kev := map[string]int{}, 0
	for _, r := range rows {
		for u, n := range r.Findings {
			by[u] += n
		}
		kev += r.KEV
	}
	for u, n := range by {
		ch <- prometheus.MustNewConstMetric(findingsDesc, prometheus.GaugeValue, float64(n), u)
	}
	ch <- prometheus.MustNewConstMetric(kevDesc, prometheus.GaugeValue, float64(kev))
}
