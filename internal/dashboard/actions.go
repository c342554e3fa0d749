package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// apiCall is one request to the server's API, in-process, with the
// session's token: the same handlers, checks and answers as over HTTP.
func (d *Dashboard) apiCall(ctx context.Context, s *session, method, path string, body any, out any) (int, error) {
	if d.cfg.API == nil {
		return http.StatusServiceUnavailable, fmt.Errorf("the dashboard runs without the API")
	}
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.secret)
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = "127.0.0.1:0"
	rec := &recorder{h: http.Header{}, code: http.StatusOK}
	d.cfg.API.ServeHTTP(rec, req)
	if out != nil && rec.b.Len() > 0 {
		if err := json.Unmarshal(rec.b.Bytes(), out); err != nil {
			return rec.code, fmt.Errorf("%s %s: answer is not JSON (%d): %.200s", method, path, rec.code, rec.b.String())
		}
	}
	return rec.code, nil
}

// recorder is the ResponseWriter of an in-process API call.
type recorder struct {
	h    http.Header
	code int
	b    bytes.Buffer
	done bool
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(c int) {
	if !r.done {
		r.code, r.done = c, true
	}
}
func (r *recorder) Write(p []byte) (int, error) {
	r.done = true
	return r.b.Write(p)
}

// apiJob is a job as GET /api/v1/jobs answers it.
type apiJob struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	State       string          `json:"state"`
	Args        json.RawMessage `json:"args"`
	Attempt     int             `json:"attempt"`
	MaxAttempts int             `json:"max_attempts"`
	CreatedAt   time.Time       `json:"created_at"`
	AttemptedAt time.Time       `json:"attempted_at"`
	FinalizedAt time.Time       `json:"finalized_at"`
	Errors      []struct {
		At      time.Time `json:"at"`
		Attempt int       `json:"attempt"`
		Error   string    `json:"error"`
	} `json:"errors"`
}

// Subject is what a job works on: its stream, or its kind's scope.
func (j apiJob) Subject() string {
	var a map[string]any
	_ = json.Unmarshal(j.Args, &a)
	if s, ok := a["stream"].(string); ok && s != "" {
		if p, ok := a["plan"].(string); ok && p != "" {
			return s + " (" + p + ")"
		}
		return s
	}
	if r, ok := a["reason"].(string); ok && r != "" {
		return "asked by " + r
	}
	return "catalog"
}

// LastError is the newest failed attempt's log.
func (j apiJob) LastError() string {
	if len(j.Errors) == 0 {
		return ""
	}
	return j.Errors[len(j.Errors)-1].Error
}

type jobsPage struct {
	base
	Running, Queued, Failed, Done []apiJob
	Error                         string
	Streams                       []string
	Channels                      []string
}

func (d *Dashboard) jobs(w http.ResponseWriter, r *http.Request, s *session) {
	var got map[string][]apiJob
	p := jobsPage{base: d.base(s, "Jobs", "jobs"), Channels: d.channelNames()}
	code, err := d.apiCall(r.Context(), s, http.MethodGet, "/api/v1/jobs?limit=100", nil, &got)
	switch {
	case err != nil:
		p.Error = err.Error()
	case code != http.StatusOK:
		p.Error = fmt.Sprintf("the job list answered %d", code)
	}
	p.Running = got["running"]
	for _, j := range got["queued"] {
		if j.State == "retryable" {
			p.Failed = append(p.Failed, j) // failed, will retry
			continue
		}
		p.Queued = append(p.Queued, j)
	}
	for _, j := range got["recent"] {
		if j.State == "discarded" || j.State == "cancelled" {
			p.Failed = append(p.Failed, j)
			continue
		}
		p.Done = append(p.Done, j)
	}
	if s.Admin() {
		c, err := d.catalog(r.Context())
		if err == nil {
			for _, st := range c.status {
				p.Streams = append(p.Streams, st.Stream)
			}
		}
	}
	d.render(w, http.StatusOK, "jobs", p)
}

// actions are the admin forms: what each asks for and how it is said.
var actions = map[string]struct {
	Verb   string
	Fields []string
}{
	"check":      {"Run a check now", nil},
	"promote":    {"Promote", []string{"stream", "to"}},
	"rollback":   {"Roll back", []string{"stream", "channel", "reason"}},
	"fast-track": {"Fast-track", []string{"stream"}},
}

type confirmPage struct {
	base
	Action   string
	Verb     string
	Stream   string
	To       string
	Channel  string
	Question string
	Warning  string
}

// confirm asks an admin to confirm an action: the form that changes
// state is only on this page, and carries the CSRF token.
func (d *Dashboard) confirm(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.Admin() {
		d.fail(w, r, s, http.StatusForbidden, "Only an admin token may change state; this session has role "+s.role+".")
		return
	}
	q := r.URL.Query()
	a, ok := actions[q.Get("action")]
	if !ok {
		d.fail(w, r, s, http.StatusBadRequest, "Unknown action "+q.Get("action")+".")
		return
	}
	p := confirmPage{base: d.base(s, "Confirm: "+strings.ToLower(a.Verb), "jobs"), Action: q.Get("action"), Verb: a.Verb,
		Stream: q.Get("stream"), To: q.Get("to"), Channel: q.Get("channel")}
	switch p.Action { // the Jobs page's form names the channel "to"
	case "rollback":
		if p.Channel == "" {
			p.Channel, p.To = p.To, ""
		}
	case "fast-track", "check":
		p.To, p.Channel = "", ""
	}
	if p.Action == "check" {
		p.Stream = ""
	}
	for _, f := range a.Fields {
		if v := map[string]string{"stream": p.Stream, "to": p.To, "channel": p.Channel}[f]; f != "reason" && v == "" {
			d.fail(w, r, s, http.StatusBadRequest, "The action "+p.Action+" needs "+f+".")
			return
		}
	}
	if p.To != "" && !slices.Contains(d.channelNames(), p.To) || p.Channel != "" && !slices.Contains(d.channelNames(), p.Channel) {
		d.fail(w, r, s, http.StatusBadRequest, "Unknown channel.")
		return
	}
	switch p.Action {
	case "check":
		p.Question = "Check every definition against the archive now? Streams with updates get a build job."
	case "promote":
		p.Question = fmt.Sprintf("Promote %s into %s? The %s tag moves to the release the previous channel holds, if the rules (soak, tests, gate, freeze) allow it.", p.Stream, p.To, p.To)
	case "rollback":
		p.Question = fmt.Sprintf("Roll %s back in %s to the release it held before? The release is marked rolled back and is not promoted again unless forced.", p.Stream, p.Channel)
		p.Warning = "Consumers pulling the channel's tag get the previous release."
	case "fast-track":
		p.Question = fmt.Sprintf("Fast-track %s? Its newest release goes through every channel now if it fixes a known-exploited vulnerability and its essential tests pass.", p.Stream)
	}
	d.render(w, http.StatusOK, "confirm", p)
}

// action performs a confirmed action through the API's handler.
func (d *Dashboard) action(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.Admin() {
		d.fail(w, r, s, http.StatusForbidden, "Only an admin token may change state; this session has role "+s.role+".")
		return
	}
	name := r.PathValue("action")
	a, ok := actions[name]
	if !ok {
		d.fail(w, r, s, http.StatusNotFound, "Unknown action "+name+".")
		return
	}
	f := r.PostForm
	var path string
	var body any
	switch name {
	case "check":
		path, body = "/api/v1/check", struct{}{}
	case "promote":
		path, body = "/api/v1/promote", map[string]string{"stream": f.Get("stream"), "to": f.Get("to")}
	case "rollback":
		path, body = "/api/v1/rollback", map[string]string{"stream": f.Get("stream"), "channel": f.Get("channel"), "reason": f.Get("reason")}
	case "fast-track":
		path, body = "/api/v1/fast-track", map[string]string{"stream": f.Get("stream")}
	}
	var out map[string]any
	code, err := d.apiCall(r.Context(), s, http.MethodPost, path, body, &out)
	p := resultPage{base: d.base(s, a.Verb, "jobs"), Back: "/jobs"}
	if st := f.Get("stream"); st != "" {
		n, v, _ := strings.Cut(st, ":")
		p.Back = "/streams/" + n + "/" + url.PathEscape(v)
	}
	switch {
	case err != nil:
		code, p.Heading, p.Message = http.StatusBadGateway, a.Verb+" failed", err.Error()
	case code >= 300:
		p.Heading = a.Verb + " refused"
		p.Message, _ = out["error"].(string)
	default:
		p.OK, p.Heading, p.Message = true, a.Verb+": done", describe(name, f, out)
	}
	d.cfg.Logger.Info("dashboard action", "action", name, "stream", f.Get("stream"), "token", s.name, "status", code)
	d.render(w, code, "result", p)
}

func describe(name string, f url.Values, out map[string]any) string {
	switch name {
	case "check":
		if j, ok := out["job"].(map[string]any); ok {
			return fmt.Sprintf("Check queued as job %v.", j["id"])
		}
		return "Check queued."
	case "promote", "rollback":
		ch := f.Get("to") + f.Get("channel")
		if already, _ := out["already"].(bool); already {
			return fmt.Sprintf("%s already holds %v in %s: nothing moved.", f.Get("stream"), out["release"], ch)
		}
		return fmt.Sprintf("%s %s is now in %s (%v).", f.Get("stream"), out["release"], ch, out["digest"])
	case "fast-track":
		var parts []string
		rs, _ := out["results"].([]any)
		for _, x := range rs {
			m, _ := x.(map[string]any)
			if ref, _ := m["refused"].(string); ref != "" {
				parts = append(parts, ref)
			} else {
				parts = append(parts, fmt.Sprintf("%v %v fast-tracked", m["stream"], m["release"]))
			}
		}
		return strings.Join(parts, "; ")
	}
	return ""
}
