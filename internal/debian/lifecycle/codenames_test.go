package lifecycle

import "testing"

func TestCodenames(t *testing.T) {
	if k, a := Known("buster"); !k || !a {
		t.Errorf("buster: known %v archived %v", k, a)
	}
	if k, a := Known("bookworm"); !k || a {
		t.Errorf("bookworm: known %v archived %v", k, a)
	}
	if k, _ := Known("bukworm"); k {
		t.Error("bukworm known")
	}
	for in, want := range map[string]string{"bukworm": "bookworm", "trixy": "trixie", "bullsye": "bullseye", "zzzzzzzz": ""} {
		if got := Closest(in); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
}
