package release

import "testing"

// A variant's stream version is the runtime's with the variant's name
// (spec.Definition.ForVariant): its channel tags follow the stream's
// channels with the suffix before the channel (docs/variants.md).
func TestVariantChannelTags(t *testing.T) {
	want := []string{"3.11-bookworm-dev-testing", "3.11-bookworm-dev-staging", "3.11-bookworm-dev"}
	for i, c := range DefaultChannels() {
		if got := c.Tag("3.11-bookworm-dev"); got != want[i] {
			t.Errorf("%s: %s, want %s", c.Name, got, want[i])
		}
	}
}
