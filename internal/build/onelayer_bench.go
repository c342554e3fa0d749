//go:build temper_onelayer

package build

// oneLayer: see onelayer.go. This build of temper writes one layer per
// image, for bench/layers.sh's baseline only.
const oneLayer = true
