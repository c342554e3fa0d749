package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/temper-dev/temper/internal/store"
)

// MaxBody is the largest request body the API reads.
const MaxBody = 64 << 10

// writeError answers {"error": msg} with code.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// authorize checks the bearer token: 401 without a valid (known, not
// revoked) token, 403 when its role is below the route's.
func (s *Server) authorize(r *http.Request, role Role) (int, error) {
	if role == Open {
		return 0, nil
	}
	h := r.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || secret == "" {
		return http.StatusUnauthorized, errors.New("missing bearer token (Authorization: Bearer TOKEN; create one with temper token create)")
	}
	t, err := s.tokens.TokenBySecret(r.Context(), strings.TrimSpace(secret))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusUnauthorized, errors.New("invalid token")
	case err != nil:
		return http.StatusServiceUnavailable, errors.New("token check failed: the state database is unavailable")
	case !t.RevokedAt.IsZero():
		return http.StatusUnauthorized, errors.New("token revoked")
	case role == Admin && t.Role != store.RoleAdmin:
		return http.StatusForbidden, errors.New("this needs an admin token; the token given has role " + t.Role)
	}
	return 0, nil
}

func (s *Server) auth(role Role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, err := s.authorize(r, role); code != 0 {
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="temper"`)
			}
			writeError(w, code, err.Error())
			return
		}
		h.ServeHTTP(w, r)
	})
}

// limit caps every request body at MaxBody.
func (s *Server) limit(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBody {
			writeError(w, http.StatusRequestEntityTooLarge, "request body over 64 KiB")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		h.ServeHTTP(w, r)
	})
}

// decode reads a JSON body strictly into v; on failure it answers (400 or
// 413) and returns false. An empty body is an empty object.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, "request body over 64 KiB")
		return false
	case err != nil && err.Error() == "EOF":
		return true
	case err != nil:
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	case dec.More():
		writeError(w, http.StatusBadRequest, "invalid JSON body: one object expected")
		return false
	}
	return true
}
