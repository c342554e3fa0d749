package vuln

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/temper-dev/temper/internal/debian/cache"
	"github.com/temper-dev/temper/internal/spec"
)

// The benchmarks generate a tracker export of realistic size at run time
// (never committed): 24,000 source packages, 115,000 source x CVE entries,
// each with records for three releases and a description, about 60 MB, the
// shape and proportions of the real data/json export.
const (
	benchSources = 24000
	benchEntries = 115000
)

var benchReleases = []string{"bookworm", "trixie", "sid"}

// WriteBenchTracker writes the generated tracker file to path.
func WriteBenchTracker(path string) error { return writeTracker(path, benchSources, benchEntries) }

// writeTracker writes a generated tracker file of sources source packages
// and entries source x CVE entries.
func writeTracker(path string, sources, entries int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	w.WriteString("{")
	words := strings.Fields("a buffer overflow in the parser allows remote attackers to cause a denial of service or possibly execute arbitrary code via a crafted file because of an integer overflow when handling malformed input in the library")
	for s := 0; s < sources; s++ {
		if s > 0 {
			w.WriteString(",")
		}
		fmt.Fprintf(w, "%q:{", benchSource(s))
		n := entries / sources
		if s < entries%sources {
			n++
		}
		for e := 0; e < n; e++ {
			if e > 0 {
				w.WriteString(",")
			}
			desc := make([]string, 25+r.IntN(25))
			for i := range desc {
				desc[i] = words[r.IntN(len(words))]
			}
			fmt.Fprintf(w, `"CVE-%d-%d":{"description":%q,"scope":"remote","debianbug":%d,"releases":{`, 2015+r.IntN(11), 10000+s*7+e, strings.Join(desc, " "), 900000+r.IntN(200000))
			for i, rel := range benchReleases {
				if i > 0 {
					w.WriteString(",")
				}
				fmt.Fprintf(w, "%q:%s", rel, benchRecord(r, rel))
			}
			w.WriteString("}}")
		}
		w.WriteString("}")
	}
	w.WriteString("}\n")
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func benchSource(s int) string { return fmt.Sprintf("src%05d", s) }

func benchRecord(r *rand.Rand, rel string) string {
	repo := fmt.Sprintf(`"repositories":{%q:"1.%d-1"}`, rel, r.IntN(9))
	switch x := r.IntN(10); {
	case x < 6:
		return fmt.Sprintf(`{"status":"resolved",%s,"fixed_version":"1.%d-%d","urgency":"not yet assigned"}`, repo, r.IntN(9), 1+r.IntN(3))
	case x < 7:
		return fmt.Sprintf(`{"status":"resolved",%s,"fixed_version":"0","urgency":"unimportant"}`, repo)
	case x < 8:
		return fmt.Sprintf(`{"status":"open",%s,"urgency":"unimportant"}`, repo)
	case x < 9:
		return fmt.Sprintf(`{"status":"open",%s,"urgency":"low**","nodsa":"Minor issue","nodsa_reason":""}`, repo)
	}
	return fmt.Sprintf(`{"status":"undetermined",%s,"urgency":"not yet assigned"}`, repo)
}

var benchData struct {
	once sync.Once
	path string
	data []byte
	err  error
}

// benchTracker returns the generated file (TEMPER_BENCH_TRACKER names an
// existing one, as bench/scan.sh does so jq reads the same bytes).
func benchTracker(b *testing.B) (string, []byte) {
	benchData.once.Do(func() {
		p := os.Getenv("TEMPER_BENCH_TRACKER")
		if p == "" {
			p = filepath.Join(os.TempDir(), "temper-bench-tracker.json")
		}
		if _, err := os.Stat(p); err != nil {
			if benchData.err = WriteBenchTracker(p); benchData.err != nil {
				return
			}
		}
		benchData.path = p
		benchData.data, benchData.err = os.ReadFile(p)
	})
	if benchData.err != nil {
		b.Fatal(benchData.err)
	}
	return benchData.path, benchData.data
}

// BenchmarkColdLoad: parse the JSON, build the index, cache it.
func BenchmarkColdLoad(b *testing.B) {
	_, data := benchTracker(b)
	sum := sum(data)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		b.StopTimer()
		c, _ := cache.Open(b.TempDir())
		b.StartTimer()
		ix, err := TrackerIndex(c, data, sum)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(ix.Len()), "records")
	}
}

// BenchmarkWarmLoad: what a scan does after `temper vuln update`: read the
// state and the cached compact index.
func BenchmarkWarmLoad(b *testing.B) {
	path, data := benchTracker(b)
	c, _ := cache.Open(b.TempDir())
	if _, _, err := Update(b.Context(), c, Tracker, path, UpdateOptions{}); err != nil {
		b.Fatal(err)
	}
	raw, _ := c.GetRef(indexRef(sum(data)))
	for b.Loop() {
		if _, err := Load(c, Files{}, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(raw))/1e6, "index-MB")
}

// BenchmarkScan300: 300 locks of 2 architectures x 120 packages.
func BenchmarkScan300(b *testing.B) {
	_, data := benchTracker(b)
	ix, err := ParseTrackerBytes(data)
	if err != nil {
		b.Fatal(err)
	}
	db := &DB{Index: ix}
	r := rand.New(rand.NewPCG(3, 4))
	locks := make([]*spec.Lock, 300)
	for i := range locks {
		l := &spec.Lock{Release: "bookworm", Architectures: map[string]*spec.LockArch{}}
		for _, arch := range []string{"amd64", "arm64"} {
			a := &spec.LockArch{}
			for p := 0; p < 120; p++ {
				src := benchSource(r.IntN(benchSources))
				v := fmt.Sprintf("1.%d-%d", r.IntN(9), 1+r.IntN(3))
				a.Packages = append(a.Packages, spec.LockedPackage{Name: "lib" + src, Version: v, Architecture: arch, Source: src, SourceVersion: v})
			}
			l.Architectures[arch] = a
		}
		locks[i] = l
	}
	for b.Loop() {
		n := 0
		for _, l := range locks {
			n += len(Scan("d", l, db).Findings)
		}
		if n == 0 {
			b.Fatal("no findings")
		}
	}
}

// BenchmarkBaselineJSONMaps: Go's encoding/json into maps, the baseline.
func BenchmarkBaselineJSONMaps(b *testing.B) {
	_, data := benchTracker(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
	}
}
