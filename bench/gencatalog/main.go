// Command gencatalog writes a synthetic catalog of image definitions for
// benchmarking `temper lock`: N definitions spread over bookworm and trixie
// and both architectures, each with a realistic set of root packages.
//
//	go run ./bench/gencatalog -n 300 -out bench/out/catalog
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

// rootSets are root package lists that resolve without naming a provider,
// per release (package names only: versions come from the archive).
var rootSets = map[string][][]string{
	"bookworm": {
		{"python3", "ca-certificates", "tzdata"},
		{"perl", "ca-certificates"},
		{"nodejs", "ca-certificates", "tzdata"},
		{"ruby", "ca-certificates", "tzdata"},
		{"php8.2-cli", "ca-certificates"},
		{"openjdk-17-jre-headless"},
		{"redis-server"},
		{"memcached"},
		{"nginx-light"},
		{"postgresql-15"},
		{"curl", "ca-certificates"},
		{"libc6", "ca-certificates", "tzdata"},
		{"git"},
		{"libssl3", "libpq5", "zlib1g"},
	},
	"trixie": {
		{"python3", "ca-certificates", "tzdata"},
		{"perl", "ca-certificates"},
		{"nodejs", "ca-certificates", "tzdata"},
		{"ruby", "ca-certificates", "tzdata"},
		{"php8.4-cli", "ca-certificates"},
		{"openjdk-21-jre-headless"},
		{"redis-server"},
		{"memcached"},
		{"nginx"},
		{"postgresql-17"},
		{"curl", "ca-certificates"},
		{"libc6", "ca-certificates", "tzdata"},
		{"git"},
		{"libssl3t64", "libpq5", "zlib1g"},
	},
}

func main() {
	n := flag.Int("n", 300, "number of definitions")
	out := flag.String("out", "bench/out/catalog", "output directory (emptied of definitions first)")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(*out, "*.yaml"))
	for _, f := range old {
		os.Remove(f)
	}
	releases := []string{"bookworm", "trixie"}
	for i := 0; i < *n; i++ {
		rel := releases[i%2]
		sets := rootSets[rel]
		set := sets[(i/2)%len(sets)]
		name := fmt.Sprintf("img%03d", i)
		def := fmt.Sprintf("name: %s\nversion: \"%d\"\ndebian:\n  release: %s\narchitectures: [amd64, arm64]\npackages: [%s]\n",
			name, i, rel, strings.Join(set, ", "))
		if err := os.WriteFile(filepath.Join(*out, name+"-"+rel+".yaml"), []byte(def), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("wrote %d definitions to %s\n", *n, *out)
}
