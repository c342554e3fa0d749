package pipeline

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/temper-dev/temper/internal/spec"
	"github.com/temper-dev/temper/internal/store"
)

func lockOf(pkgs map[string]string) *spec.Lock {
	a := &spec.LockArch{}
	for n, v := range pkgs {
		a.Packages = append(a.Packages, spec.LockedPackage{Name: n, Version: v})
	}
	return &spec.Lock{Architectures: map[string]*spec.LockArch{"amd64": a}}
}

func TestLockDiff(t *testing.T) {
	got := LockDiff(lockOf(map[string]string{"libc6": "2.36-9+deb12u9", "tzdata": "2025a-0+deb12u1", "gone": "1"}),
		lockOf(map[string]string{"libc6": "2.36-9+deb12u10", "tzdata": "2025a-0+deb12u1", "new": "2"}))
	want := []store.PackageChange{{Name: "gone", From: "1"}, {Name: "libc6", From: "2.36-9+deb12u9", To: "2.36-9+deb12u10"}, {Name: "new", To: "2"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("lockDiff = %+v, want %+v", got, want)
	}
}

func TestCVEsFixed(t *testing.T) {
	detail := func(fs ...FindingDetail) store.Result {
		b, _ := json.Marshal(fs)
		return store.Result{Detail: b}
	}
	prev := detail(FindingDetail{ID: "CVE-1", Source: "openssl", Status: "fixable", Urgency: "high"},
		FindingDetail{ID: "CVE-2", Source: "glibc", Status: "fixable"},
		FindingDetail{ID: "CVE-3", Source: "zlib", Status: "open"})
	now := detail(FindingDetail{ID: "CVE-2", Source: "glibc", Status: "fixable"})
	got := CVEsFixed(prev, now)
	if len(got) != 1 || got[0] != (store.CVE{ID: "CVE-1", Source: "openssl", Urgency: "high"}) {
		t.Fatalf("cvesFixed = %+v (an open finding that disappears was not fixed by an update)", got)
	}
}
