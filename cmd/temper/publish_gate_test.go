package main

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
	got := lockDiff(lockOf(map[string]string{"libc6": "2.36-9+deb12u9", "tzdata": "2025a-0+deb12u1", "gone": "1"}),
		lockOf(map[string]string{"libc6": "2.36-9+deb12u10", "tzdata": "2025a-0+deb12u1", "new": "2"}))
	want := []store.PackageChange{{Name: "gone", From: "1"}, {Name: "libc6", From: "2.36-9+deb12u9", To: "2.36-9+deb12u10"}, {Name: "new", To: "2"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("lockDiff = %+v, want %+v", got, want)
	}
}

func TestCVEsFixed(t *testing.T) {
	detail := func(fs ...findingDetail) store.Result {
		b, _ := json.Marshal(fs)
		return store.Result{Detail: b}
	}
	prev := detail(findingDetail{ID: "CVE-1", Source: "openssl", Status: "fixable", Urgency: "high"},
		findingDetail{ID: "CVE-2", Source: "glibc", Status: "fixable"},
		findingDetail{ID: "CVE-3", Source: "zlib", Status: "open"})
	now := detail(findingDetail{ID: "CVE-2", Source: "glibc", Status: "fixable"})
	got := cvesFixed(prev, now)
	if len(got) != 1 || got[0] != (store.CVE{ID: "CVE-1", Source: "openssl", Urgency: "high"}) {
		t.Fatalf("cvesFixed = %+v (an open finding that disappears was not fixed by an update)", got)
	}
}
