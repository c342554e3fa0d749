package dashboard

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// base is what every page's layout needs.
type base struct {
	Title   string
	Nav     string // the active nav entry
	Session *session
	CSRF    string
}

var pageNames = []string{"login", "overview", "stream", "vulnerabilities", "latency", "jobs", "confirm", "result"}

var funcs = template.FuncMap{
	"age":      age,
	"date":     func(t time.Time) string { return fmtTime(t, time.DateOnly) },
	"datetime": func(t time.Time) string { return fmtTime(t, "2006-01-02 15:04 UTC") },
	"iso":      func(t time.Time) string { return fmtTime(t, time.RFC3339) },
	"dur":      dur,
	"short":    shortDigest,
	"lower":    strings.ToLower,
	"list":     func(a ...string) []string { return a },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"slug": func(s string) string {
		return strings.NewReplacer(" ", "-", ":", "-", ".", "-").Replace(strings.ToLower(s))
	},
	"pct":  func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
	"epss": func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
	"streamURL": func(stream string) string {
		n, v, _ := strings.Cut(stream, ":")
		return "/streams/" + n + "/" + v
	},
}

func parsePages() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, p := range pageNames {
		t, err := template.New(p).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard: template %s: %w", p, err)
		}
		out[p] = t
	}
	return out, nil
}

// render executes a page into a buffer first, so a template error is a
// clean 500 rather than half a page.
func (d *Dashboard) render(w http.ResponseWriter, code int, page string, data any) {
	var b bytes.Buffer
	if err := d.pages[page].ExecuteTemplate(&b, "layout", data); err != nil {
		d.cfg.Logger.Error("dashboard: render", "page", page, "error", err)
		http.Error(w, "the page could not be rendered: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

type resultPage struct {
	base
	OK      bool
	Heading string
	Message string
	Back    string
}

// fail shows an error page with code.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, s *session, code int, msg string) {
	p := resultPage{base: d.base(s, "Error", ""), Heading: http.StatusText(code), Message: msg, Back: "/"}
	d.render(w, code, "result", p)
}

func (d *Dashboard) base(s *session, title, nav string) base {
	b := base{Title: title, Nav: nav, Session: s}
	if s != nil {
		b.CSRF = s.csrf
	}
	return b
}

func fmtTime(t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layout)
}

// dur is a duration for people: 45m, 6h, 3d 4h.
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()+0.5))
	case d < 48*time.Hour:
		h := d.Hours()
		if h < 10 {
			return fmt.Sprintf("%.1fh", h)
		}
		return fmt.Sprintf("%.0fh", h)
	}
	days := int(d / (24 * time.Hour))
	return fmt.Sprintf("%dd %dh", days, int((d-time.Duration(days)*24*time.Hour)/time.Hour))
}

func age(d time.Duration) string { return dur(d) }

func shortDigest(d string) string {
	_, h, ok := strings.Cut(d, ":")
	if !ok {
		h = d
	}
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
