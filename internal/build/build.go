// Package build turns a definition and its lock into an OCI image
// index: it fetches the lock's .debs (verified, cached), assembles each
// architecture's tree (internal/assemble), packages it deterministically
// (internal/oci), writes the requested outputs and attaches the evidence
// (internal/evidence). The lock is the only input besides the definition:
// the live archive is never consulted, so the same lock gives the same
// digests on any machine at any time. All builds a whole catalog.
//
// It does not resolve definitions into locks (internal/lock) and does not
// decide what goes into a tree (internal/assemble).
package build

import (
	"context"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/accounts"
	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/rootfs"
	"github.com/temper-dev/temper/internal/spec"
)

// Build builds one definition. When the output already holds this build
// and nothing else is asked for, it returns at once, Skipped; when the
// output does not but the build memo does (memo.go), it writes the image
// from there, Memo.
func Build(ctx context.Context, defPath string, opt Options) (*Result, error) {
	start := time.Now()
	def, l, err := LoadTarget(defPath, opt.Variant)
	if err != nil {
		return nil, err
	}
	comp, err := compression(def, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", defPath, err)
	}
	res := &Result{Definition: defPath, Variant: opt.Variant, Ref: RefName(def), BuildKey: buildKey(def, l, comp, opt.LayerBudget)}
	if opt.Output != "" && !opt.Force && opt.Tarball == "" && opt.Push == "" && opt.Signer == nil && opt.SBOMDir == "" {
		if d, ok := AlreadyBuilt(opt.Output, res.Ref, res.BuildKey); ok {
			oci.CleanLeftovers(opt.Output)
			res.Skipped, res.IndexDigest, res.Elapsed = true, d, time.Since(start)
			return res, nil
		}
		if fromMemo(res, def, opt) {
			res.Elapsed = time.Since(start)
			return res, nil
		}
	}
	gate, err := checkGate(defPath, def, l, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", defPath, err)
	}
	idx, infos, st, err := IndexWith(ctx, def, l, opt)
	res.Fetch = st
	if err != nil {
		return nil, fmt.Errorf("%s: %w", defPath, err)
	}
	res.Images = infos
	d, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	res.IndexDigest = d.String()
	if err := writeOutputs(ctx, defPath, def, idx, res.Ref, opt); err != nil {
		return nil, err
	}
	if err := attachEvidence(ctx, def, l, idx, gate, opt); err != nil {
		return nil, fmt.Errorf("%s: %w", defPath, err)
	}
	recordMemo(def, idx, res, opt)
	res.Elapsed = time.Since(start)
	return res, nil
}

// writeOutputs writes the index to the layout, one architecture's image to
// the tarball and pushes the index, as opt asks.
func writeOutputs(ctx context.Context, defPath string, def *spec.Definition, idx v1.ImageIndex, ref string, opt Options) error {
	if opt.Output != "" {
		if err := oci.WriteLayout(opt.Output, idx, ref); err != nil {
			return fmt.Errorf("%s: writing %s: %w", defPath, opt.Output, err)
		}
	}
	if opt.Tarball != "" {
		arch := opt.TarballArch
		if arch == "" {
			arch = def.Architectures[0]
		}
		img, err := oci.ImageFor(idx, arch)
		if err != nil {
			return err
		}
		if err := oci.WriteTarball(opt.Tarball, img, ref); err != nil {
			return fmt.Errorf("%s: writing %s: %w", defPath, opt.Tarball, err)
		}
	}
	if opt.Push != "" {
		if err := oci.Push(ctx, opt.Push, idx); err != nil {
			return fmt.Errorf("%s: pushing %s: %w", defPath, opt.Push, err)
		}
	}
	return nil
}

// runUser turns the definition's user into the numeric uid:gid the image
// config needs, reading the image's own /etc/passwd and /etc/group
// (internal/accounts' rule, the one the assembler used).
func runUser(tree *rootfs.FS, def *spec.Definition) (string, error) {
	u := def.Image.User
	if u == "" {
		u = spec.DefaultUser
	}
	var passwd, group []byte
	if e, ok := tree.Get("etc/passwd"); ok {
		passwd = e.Data
	}
	if e, ok := tree.Get("etc/group"); ok {
		group = e.Data
	}
	id, err := accounts.Resolve(u, passwd, group)
	if err != nil {
		return "", fmt.Errorf("image.user %v; declare it under image.accounts", err)
	}
	return id.String(), nil
}
