package build

import (
	"sync"
	"time"

	"github.com/temper-dev/temper/internal/assemble"
)

// packageMemoMax bounds the unpacked packages the builds running in this
// process share (assemble.Packages): a catalog's packages held by several
// images (808 MB unpacked in the example catalog's runtime images, of
// 3.8 GB) are read once while the memo holds them. With 768 MiB the
// example catalog's runtime images take 2.7 GB of their 7.3 GB unpacked
// from memory (1 GiB: 3.0 GB; without a bound: 3.5 GB), for about twice
// the bound in resident memory (the garbage collector's headroom).
const packageMemoMax = 768 << 20

// packageMemoIdle is how long the memo outlives the last build using it,
// so that builds started one after the other (All, a service) share it,
// and an idle process does not hold it.
var packageMemoIdle = 5 * time.Second

var sharedPackages struct {
	mu    sync.Mutex
	users int
	gen   int
	memo  *assemble.Packages
	// runtimes lives and goes with memo (runtimelayers.go).
	runtimes *runtimeLayerMemo
}

// packageMemo returns the memo of unpacked packages the builds running in
// this process share, and the function a build calls when it no longer
// needs it.
func packageMemo() (*assemble.Packages, func()) {
	memo, _, release := sharedMemos()
	return memo, release
}

// sharedMemos is packageMemo with the runtimes' layers kept for their
// variants' builds (runtimeLayerMemo), which go with it.
func sharedMemos() (*assemble.Packages, *runtimeLayerMemo, func()) {
	s := &sharedPackages
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.memo == nil {
		s.memo = assemble.NewPackages(packageMemoMax)
		s.runtimes = newRuntimeLayerMemo(runtimeLayerMemoMax)
	}
	s.users++
	s.gen++
	return s.memo, s.runtimes, sync.OnceFunc(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.users--
		if s.users > 0 {
			return
		}
		gen := s.gen
		time.AfterFunc(packageMemoIdle, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.users == 0 && s.gen == gen {
				s.memo = nil
				s.runtimes = nil
			}
		})
	})
}
