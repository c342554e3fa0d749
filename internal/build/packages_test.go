package build

import (
	"testing"
	"time"
)

// The builds running at once share one memo of unpacked packages; it
// outlives the last of them by packageMemoIdle (a build started within
// that time gets it again), then it is dropped.
func TestPackageMemoShared(t *testing.T) {
	old := packageMemoIdle
	packageMemoIdle = 50 * time.Millisecond
	defer func() { packageMemoIdle = old }()

	a, releaseA := packageMemo()
	b, releaseB := packageMemo()
	if a == nil || a != b {
		t.Fatalf("two builds at once got %p and %p, want one memo", a, b)
	}
	releaseA()
	releaseA() // a second release is a no-op
	c, releaseC := packageMemo()
	if c != a {
		t.Fatal("a build started while another runs got another memo")
	}
	releaseB()
	releaseC()
	d, releaseD := packageMemo() // within the idle time
	if d != a {
		t.Fatal("a build started right after the last one ended got another memo")
	}
	releaseD()
	time.Sleep(4 * packageMemoIdle)
	e, releaseE := packageMemo()
	defer releaseE()
	if e == a {
		t.Fatal("the memo outlived its idle time")
	}
	sharedPackages.mu.Lock()
	users := sharedPackages.users
	sharedPackages.mu.Unlock()
	if users != 1 {
		t.Errorf("%d users counted, want 1", users)
	}
}
