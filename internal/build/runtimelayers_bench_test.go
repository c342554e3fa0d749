package build

import (
	"context"
	"testing"

	"github.com/temper-dev/temper/internal/rootfs"
)

// BenchmarkRuntimeLayerMemo: a runtime's layers announced, handed over
// and served to its two variants, through a memo with room for 4 sets of
// the 16 keys in turn (hand-overs drop the least recently used).
func BenchmarkRuntimeLayerMemo(b *testing.B) {
	tree := rootfs.New()
	if err := tree.Put(&rootfs.Entry{Path: "f", Kind: rootfs.File, Mode: 0o644, Data: make([]byte, 1000)}); err != nil {
		b.Fatal(err)
	}
	set := &runtimeLayerSet{trees: []*rootfs.FS{tree}}
	c := newRuntimeLayerMemo(4 * set.size())
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := runtimeKey{file: "r.yaml", n: i % 16}
		if fin := c.begin(k, 3); fin != nil {
			fin(set)
		}
		for range 2 {
			if _, err := c.get(ctx, k); err != nil {
				b.Fatal(err)
			}
		}
		i++
	}
}
