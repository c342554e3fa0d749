// Package storetest opens throwaway stores for tests: a SQLite file in
// the test's temporary directory always, and a fresh PostgreSQL database
// when TEMPER_TEST_POSTGRES names a server (a postgres:// URL whose user
// may create databases; .ci/run starts one on a loopback port).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/temper-dev/temper/internal/store"
)

// EnvPostgres names the PostgreSQL server tests use when set.
const EnvPostgres = "TEMPER_TEST_POSTGRES"

// Backend is one store under test.
type Backend struct {
	Name  string
	State string // what store.Open was given
	Store store.Store
}

// Each runs f once per available back end, as subtests, each with a
// fresh, empty store.
func Each(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { f(t, SQLite(t)) })
	if os.Getenv(EnvPostgres) != "" {
		t.Run("postgres", func(t *testing.T) { f(t, Postgres(t)) })
	}
}

// SQLite opens a store in a new file under t.TempDir.
func SQLite(t testing.TB) Backend {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state.db")
	return open(t, "sqlite", state)
}

// Postgres creates a database on the server EnvPostgres names, opens a
// store on it, and drops it when the test ends. It skips the test when
// the variable is unset.
func Postgres(t testing.TB) Backend {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		t.Skip(EnvPostgres + " is not set")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "temper_test_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	t.Cleanup(func() { _, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return open(t, "postgres", u.String())
}

func open(t testing.TB, name, state string) Backend {
	t.Helper()
	s, err := store.Open(context.Background(), state)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return Backend{Name: name, State: state, Store: s}
}
