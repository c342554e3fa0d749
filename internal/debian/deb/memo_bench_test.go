package deb

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// BenchmarkControlMemo: reads of 64 control members' files (1 KiB each)
// through a memo with room for 48 of them, in a cycle of hits and
// misses (a miss keeps its files, dropping the least recently used).
func BenchmarkControlMemo(b *testing.B) {
	c := newControlMemo(48 * (1024 + 7))
	var keys []controlKey
	files := map[string][]byte{"control": make([]byte, 1024)}
	for i := range 64 {
		keys = append(keys, controlKey{sum: sha256.Sum256(fmt.Append(nil, i)), comp: "xz"})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := keys[(i*7)%len(keys)]
		if _, ok := c.get(k); !ok {
			c.put(k, files)
		}
		i++
	}
}
