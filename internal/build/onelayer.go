//go:build !temper_onelayer

package build

// oneLayer is set only in a temper built with -tags temper_onelayer, the
// baseline bench/layers.sh measures layers against: every image one layer
// (its whole tree at the lock's SOURCE_DATE_EPOCH), as before the layers,
// from the same assembler. Such images are never published.
const oneLayer = false
