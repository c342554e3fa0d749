package build

// Recording builds in the build memo and writing layouts from it
// (memo.go).

import (
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/temper-dev/temper/internal/oci"
	"github.com/temper-dev/temper/internal/spec"
)

// memoOn reports whether opt keeps a build memo: a memo directory and a
// layer cache on disk, whose files the entries name.
func memoOn(opt Options) bool {
	return opt.MemoDir != "" && opt.Layers != nil && opt.Layers.Dir != ""
}

// fromMemo writes the image index of res's build into opt.Output from the
// memo's entry and fills in res, or reports false when there is no usable
// entry (none, unreadable, not matching its bytes, a layer gone from the
// layer cache or found corrupt while linked: that layer is forgotten, so
// that the full build makes it again).
func fromMemo(res *Result, def *spec.Definition, opt Options) bool {
	if !memoOn(opt) {
		return false
	}
	key, ok := memoKey(def, res.BuildKey, opt)
	if !ok {
		return false
	}
	e, err := readMemo(opt.MemoDir, key)
	if e == nil {
		memoDebug(opt, res.Ref, err)
		return false
	}
	idx, err := memoIndex(e, res, opt.Layers)
	if err == nil {
		err = oci.WriteLayout(opt.Output, idx, res.Ref)
	}
	if err != nil {
		var bad *oci.CorruptLayerError
		if errors.As(err, &bad) {
			for _, im := range e.Images {
				for _, l := range im.Layers {
					if l.Digest == bad.Digest {
						opt.Layers.Forget(l.Key)
					}
				}
			}
		}
		memoDebug(opt, res.Ref, err)
		return false
	}
	d, _ := idx.Digest()
	res.IndexDigest, res.Memo = d.String(), true
	for _, im := range e.Images {
		res.Images = append(res.Images, im.Info)
		logImage(opt, res.Ref, im.Info)
	}
	return true
}

// memoDebug tells the log why the memo's entry was not used (err nil:
// there is none, which goes untold).
func memoDebug(opt Options, ref string, err error) {
	if err != nil && opt.Log != nil {
		fmt.Fprintf(opt.Log, "%s: build memo: %v; building\n", ref, err)
	}
}

// memoIndex is e's image index over the layer cache's files, every digest
// checked against the stored bytes.
func memoIndex(e *memoEntry, res *Result, cache *oci.LayerCache) (v1.ImageIndex, error) {
	if e.Ref != res.Ref || e.BuildKey != res.BuildKey {
		return nil, fmt.Errorf("the entry is of %s (build key %s)", e.Ref, e.BuildKey)
	}
	byDigest := map[v1.Hash]memoLayer{}
	var images []oci.StoredImage
	for _, im := range e.Images {
		for _, l := range im.Layers {
			byDigest[l.Digest] = l
		}
		images = append(images, oci.StoredImage{Manifest: im.Manifest, Config: im.Config})
	}
	layer := func(d v1.Descriptor) (v1.Layer, error) {
		ml, ok := byDigest[d.Digest]
		if !ok || ml.Size != d.Size || ml.MediaType != d.MediaType {
			return nil, fmt.Errorf("layer %s: not in the entry", d.Digest)
		}
		l, ok := cache.Cached(ml.Key, d)
		if !ok {
			return nil, fmt.Errorf("layer %s: not in the layer cache", d.Digest)
		}
		return l, nil
	}
	idx, err := oci.StoredIndex(e.Index, images, layer)
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if m.Annotations[AnnotationBuildKey] != res.BuildKey || len(m.Manifests) != len(e.Images) {
		return nil, fmt.Errorf("the stored index is not of build key %s", res.BuildKey)
	}
	for i, d := range m.Manifests {
		if e.Images[i].Info.Digest != d.Digest.String() {
			return nil, fmt.Errorf("image %s: the stored report names %s", d.Digest, e.Images[i].Info.Digest)
		}
	}
	return idx, nil
}

// recordMemo keeps res's build of idx, just written into opt.Output, in
// the memo, replacing the entry there was. A build whose layers are not
// all in the layer cache is not kept.
func recordMemo(def *spec.Definition, idx v1.ImageIndex, res *Result, opt Options) {
	if !memoOn(opt) || opt.Output == "" {
		return
	}
	key, ok := memoKey(def, res.BuildKey, opt)
	if !ok {
		return
	}
	e, err := memoEntryOf(idx, res, opt.Layers)
	if err == nil {
		e.Key = key
		err = writeMemo(opt.MemoDir, e)
	}
	if err != nil && opt.Log != nil {
		fmt.Fprintf(opt.Log, "%s: build memo: not recorded: %v\n", res.Ref, err)
	}
}

// memoEntryOf is the entry of res's build of idx.
func memoEntryOf(idx v1.ImageIndex, res *Result, cache *oci.LayerCache) (*memoEntry, error) {
	raw, err := idx.RawManifest()
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) != len(res.Images) {
		return nil, fmt.Errorf("%d manifests for %d images", len(m.Manifests), len(res.Images))
	}
	e := &memoEntry{Version: memoVersion, Ref: res.Ref, BuildKey: res.BuildKey, Index: raw}
	for i, d := range m.Manifests {
		if res.Images[i].Digest != d.Digest.String() {
			return nil, fmt.Errorf("manifest %s: the build reports %s", d.Digest, res.Images[i].Digest)
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		im, err := memoImageOf(img, cache)
		if err != nil {
			return nil, err
		}
		im.Info = res.Images[i]
		e.Images = append(e.Images, im)
	}
	return e, nil
}

// memoImageOf is img's manifest, config and layers as the memo keeps them.
func memoImageOf(img v1.Image, cache *oci.LayerCache) (memoImage, error) {
	manifest, err := img.RawManifest()
	if err != nil {
		return memoImage{}, err
	}
	config, err := img.RawConfigFile()
	if err != nil {
		return memoImage{}, err
	}
	m, err := img.Manifest()
	if err != nil {
		return memoImage{}, err
	}
	im := memoImage{Manifest: manifest, Config: config}
	for _, d := range m.Layers {
		key, ok := cache.KeyOf(d.Digest)
		if !ok {
			return memoImage{}, fmt.Errorf("layer %s is not in the layer cache", d.Digest)
		}
		im.Layers = append(im.Layers, memoLayer{Digest: d.Digest, Size: d.Size, MediaType: d.MediaType, Key: key})
	}
	return im, nil
}
