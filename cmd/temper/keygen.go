package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/temper-dev/temper/internal/attest"
)

// passwordEnv holds the private key's password for non-interactive use.
const passwordEnv = "TEMPER_PASSWORD"

// readPassword returns TEMPER_PASSWORD when it is set (even empty),
// otherwise asks on the terminal (twice when confirm).
func readPassword(prompt string, confirm bool) ([]byte, error) {
	if p, ok := os.LookupEnv(passwordEnv); ok {
		return []byte(p), nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil || !term.IsTerminal(int(tty.Fd())) {
		if tty != nil {
			tty.Close()
		}
		return nil, fmt.Errorf("no terminal to ask for the key's password: set %s", passwordEnv)
	}
	defer tty.Close()
	fmt.Fprint(tty, prompt)
	p, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, fmt.Errorf("reading the password: %w", err)
	}
	if confirm {
		fmt.Fprint(tty, "Enter the password again: ")
		again, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		if err != nil {
			return nil, fmt.Errorf("reading the password: %w", err)
		}
		if !bytes.Equal(p, again) {
			return nil, errors.New("the passwords do not match")
		}
	}
	return p, nil
}

// loadSigner reads and decrypts a cosign-format private key file.
func loadSigner(path string) (*attest.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	pw, err := readPassword("Enter the password for "+path+": ", false)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	s, err := attest.LoadPrivateKey(data, pw)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return s, nil
}

func newKeygenCommand() *cobra.Command {
	var prefix string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Write an ECDSA P-256 signing key pair in cosign's format (cosign.key, cosign.pub)",
		Long: `Write a signing key pair that temper and cosign both use: PREFIX.key, the
private key encrypted with scrypt + nacl/secretbox under a password
("ENCRYPTED SIGSTORE PRIVATE KEY", as cosign generate-key-pair writes it),
and PREFIX.pub, the public key. The password comes from $TEMPER_PASSWORD when
it is set, otherwise from a prompt. Keys made by cosign generate-key-pair
work with temper too.`,
		Example: "  TEMPER_PASSWORD=... temper keygen\n  temper build python.yaml --sign-key cosign.key --push registry.example/team/python:3.11\n  cosign verify --key cosign.pub registry.example/team/python:3.11",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			keyPath, pubPath := prefix+".key", prefix+".pub"
			if !force {
				for _, p := range []string{keyPath, pubPath} {
					if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
						return fmt.Errorf("%s exists; pass --force to overwrite it", p)
					}
				}
			}
			pw, err := readPassword("Enter a password for the private key: ", true)
			if err != nil {
				return err
			}
			priv, pub, err := attest.GenerateKeyPair(pw)
			if err != nil {
				return err
			}
			if dir := filepath.Dir(keyPath); dir != "." {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
			}
			if err := os.WriteFile(keyPath, priv, 0o600); err != nil {
				return err
			}
			if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Private key written to %s\nPublic key written to %s\n", keyPath, pubPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "output-key-prefix", "cosign", "write PREFIX.key and PREFIX.pub")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "overwrite existing key files")
	return cmd
}
