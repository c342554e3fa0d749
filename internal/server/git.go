package server

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// BotName and BotEmail author the service's lock commits.
const (
	BotName  = "temper-bot"
	BotEmail = "temper-bot@localhost"
)

var gitMu sync.Mutex

// commitLocks commits the lock files an update wrote (a runtime's and
// its variants', docs/variants.md) in the catalog's work tree as one
// commit with msg, as the bot, and pushes when --git-push names a remote.
// It never rewrites history: a rejected push is an error (the next job
// retries after a fetch is done by a human or another node's push lands
// first).
func (s *Server) commitLocks(ctx context.Context, lockPaths []string, msg string) error {
	if len(lockPaths) == 0 {
		return nil
	}
	gitMu.Lock()
	defer gitMu.Unlock()
	dir := s.cfg.Catalog
	rels := make([]string, len(lockPaths))
	for i, p := range lockPaths {
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			rel = p
		}
		rels[i] = rel
	}
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME="+BotName, "GIT_AUTHOR_EMAIL="+BotEmail,
			"GIT_COMMITTER_NAME="+BotName, "GIT_COMMITTER_EMAIL="+BotEmail)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return out.String(), fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
		}
		return out.String(), nil
	}
	if _, err := git(append([]string{"add", "--"}, rels...)...); err != nil {
		return err
	}
	if out, _ := git(append([]string{"diff", "--cached", "--name-only", "--"}, rels...)...); strings.TrimSpace(out) == "" {
		return nil // committed already (a retried job)
	}
	if _, err := git(append([]string{"commit", "-q", "-m", msg, "--"}, rels...)...); err != nil {
		return err
	}
	s.log.Info("lock committed", "locks", strings.Join(rels, " "))
	if s.cfg.GitPush != "" {
		if _, err := git("push", "-q", s.cfg.GitPush, "HEAD"); err != nil {
			return err
		}
		s.log.Info("pushed", "remote", s.cfg.GitPush)
	}
	return nil
}
