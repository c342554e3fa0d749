package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/debian/debtest"
	"github.com/temper-dev/temper/internal/debian/pool"
)

// BenchmarkWarmFetch reads the .debs of a warm build (8 packages of
// 512 KiB of text each, their fast copies made) from the cache, offline:
// "debs+copies" is the way every build read them before (every .deb
// fetched, then swapped for its copy), "copies" is fetchFast (the copy
// alone). B/op is what the cache reads allocate.
func BenchmarkWarmFetch(b *testing.B) {
	c, err := cache.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the quick brown fox jumps over a lazy dog while libc and zlib link every binary in usr lib")
	var items []pool.Item
	for i := range 8 {
		var text strings.Builder
		for text.Len() < 512<<10 {
			text.WriteString(words[rng.IntN(len(words))])
			text.WriteByte(" \n"[rng.IntN(2)])
		}
		name := fmt.Sprintf("pkg%d", i)
		data := debtest.Build(b, debtest.Spec{
			Control:  "Package: " + name + "\nVersion: 1.0\nArchitecture: amd64\nMaintainer: T <t@example.org>\nDescription: " + name + "\n",
			Files:    []debtest.File{{Path: "./usr/share/" + name + "/words", Data: []byte(text.String())}},
			AutoDirs: true,
		})
		h := sha256.Sum256(data)
		it := pool.Item{Name: name, Version: "1.0", Suite: "bookworm", Filename: "pool/main/p/" + name + "/" + name + "_1.0_amd64.deb", SHA256: hex.EncodeToString(h[:]), Size: int64(len(data))}
		if err := c.WriteBytes(it.SHA256, data); err != nil {
			b.Fatal(err)
		}
		items = append(items, it)
	}
	ctx := context.Background()
	f := &pool.Fetcher{Cache: c, Offline: true}
	if _, st, err := fetchFast(ctx, f, items, nil, nil); err != nil || st.Cached != len(items) {
		b.Fatalf("making the copies: %v %+v", err, st)
	}
	b.Run("debs+copies", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, _, err := f.Fetch(ctx, items)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := fastCopies(ctx, c, items, data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("copies", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, st, err := fetchFast(ctx, f, items, nil, nil); err != nil || st.Cached != len(items) || st.Downloaded != 0 {
				b.Fatal(err, st)
			}
		}
	})
}
