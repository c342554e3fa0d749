package main

import (
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/temper-dev/temper/internal/store"
)

func newTokenCommand(g *globalFlags) *cobra.Command {
	c := &cobra.Command{Use: "token", Short: "Manage the HTTP API's bearer tokens (temper serve)"}
	var state string
	for _, sub := range []*cobra.Command{newTokenCreateCommand(g, &state), newTokenListCommand(&state), newTokenRevokeCommand(g, &state)} {
		sub.Flags().StringVar(&state, "state", "", "release state: a SQLite file, or postgres://... (default: the user data dir/temper/"+store.DefaultFile+")")
		c.AddCommand(sub)
	}
	return c
}

// openTokens opens the release state and its tokens; the caller closes
// the store.
func openTokens(cmd *cobra.Command, state string) (store.Store, store.Tokens, error) {
	s, err := store.Open(cmd.Context(), state)
	if err != nil {
		return nil, nil, err
	}
	t, err := store.AsTokens(s)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return s, t, nil
}

func newTokenCreateCommand(g *globalFlags, state *string) *cobra.Command {
	var role, name string
	create := &cobra.Command{
		Use:   "create --role read|admin [--name TEXT]",
		Short: "Print a new token (shown once; only its hash is kept)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if role != store.RoleRead && role != store.RoleAdmin {
				return usageError{fmt.Errorf("--role %q: want read or admin", role)}
			}
			s, t, err := openTokens(cmd, *state)
			if err != nil {
				return err
			}
			defer s.Close()
			secret, tok, err := t.CreateToken(cmd.Context(), role, name, g.now())
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), secret)
			fmt.Fprintf(cmd.ErrOrStderr(), "token %d (%s) created; it is not shown again\n", tok.ID, tok.Role)
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", "", "read (every GET) or admin (also POST)")
	create.Flags().StringVar(&name, "name", "", "what the token is for")
	return create
}

func newTokenListCommand(state *string) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List tokens: id, role, name, created, revoked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, t, err := openTokens(cmd, *state)
			if err != nil {
				return err
			}
			defer s.Close()
			toks, err := t.ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tROLE\tNAME\tCREATED\tREVOKED")
			for _, tk := range toks {
				rev := "-"
				if !tk.RevokedAt.IsZero() {
					rev = tk.RevokedAt.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", tk.ID, tk.Role, releaseDash(tk.Name), tk.CreatedAt.UTC().Format(time.RFC3339), rev)
			}
			return tw.Flush()
		},
	}
}

func newTokenRevokeCommand(g *globalFlags, state *string) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token: the API answers 401 to it from now on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usageError{errors.New("token revoke takes the token's ID (temper token list)")}
			}
			s, t, err := openTokens(cmd, *state)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := t.RevokeToken(cmd.Context(), id, g.now()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token %d revoked\n", id)
			return nil
		},
	}
}
