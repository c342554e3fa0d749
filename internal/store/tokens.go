package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"
)

// Token roles: read may call every GET; admin may also POST.
const (
	RoleRead  = "read"
	RoleAdmin = "admin"
)

// TokenPrefix starts every API token, so one found in a log or a file is
// recognisable.
const TokenPrefix = "tmp_"

// Token is an API token's record; the secret itself is never stored.
type Token struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name,omitempty"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Tokens is what the HTTP API and `temper token` need of the store. The
// SQL store implements it; AsTokens finds it.
type Tokens interface {
	// CreateToken makes a token with role, records its hash and returns
	// the secret (shown once).
	CreateToken(ctx context.Context, role, name string, at time.Time) (secret string, t Token, err error)
	// TokenBySecret is the token a secret names; ErrNotFound when none
	// (revoked ones are returned with RevokedAt set).
	TokenBySecret(ctx context.Context, secret string) (Token, error)
	ListTokens(ctx context.Context) ([]Token, error)
	RevokeToken(ctx context.Context, id int64, at time.Time) error
}

// AsTokens returns s's token records.
func AsTokens(s Store) (Tokens, error) {
	t, ok := s.(Tokens)
	if !ok {
		return nil, fmt.Errorf("store %T keeps no tokens", s)
	}
	return t, nil
}

// DB is the database under a SQL store and whether it is PostgreSQL, so
// the job queue (River) can share the SQLite file's one connection.
func DB(s Store) (db *sql.DB, isPostgres bool, ok bool) {
	q, ok := s.(*sqlStore)
	if !ok {
		return nil, false, false
	}
	return q.db, q.d == postgres, true
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func (s *sqlStore) CreateToken(ctx context.Context, role, name string, at time.Time) (string, Token, error) {
	if role != RoleRead && role != RoleAdmin {
		return "", Token{}, fmt.Errorf("token role %q: want read or admin", role)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", Token{}, err
	}
	secret := TokenPrefix + hex.EncodeToString(b[:])
	t := Token{Name: name, Role: role, CreatedAt: at.UTC()}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, s.d.bind(`INSERT INTO tokens (name, role, hash, created_at) VALUES (?, ?, ?, ?) RETURNING id`),
			name, role, hashSecret(secret), fmtTime(at)).Scan(&t.ID)
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("store: create token: %w", err)
	}
	return secret, t, nil
}

const tokenCols = `id, name, role, created_at, revoked_at`

func scanToken(sc interface{ Scan(...any) error }) (Token, error) {
	var t Token
	var created, revoked sql.NullString
	if err := sc.Scan(&t.ID, &t.Name, &t.Role, &created, &revoked); err != nil {
		return t, err
	}
	var err error
	if t.CreatedAt, err = parseTime(created); err != nil {
		return t, err
	}
	t.RevokedAt, err = parseTime(revoked)
	return t, err
}

func (s *sqlStore) TokenBySecret(ctx context.Context, secret string) (Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.d.bind(`SELECT `+tokenCols+` FROM tokens WHERE hash = ?`), hashSecret(secret)))
	return t, notFound("token", err)
}

func (s *sqlStore) ListTokens(ctx context.Context) ([]Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *sqlStore) RevokeToken(ctx context.Context, id int64, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.bind(`UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`), fmtTime(at), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("token %d: %w", id, ErrNotFound)
		}
		return nil
	})
}
