package release

import (
	"fmt"
	"strings"
	"time"
)

// DayFormat is the date part of a release tag.
const DayFormat = "20060102"

// SplitStream splits "python:3.11-bookworm" into the repository name and
// the stream's version.
func SplitStream(stream string) (name, version string, err error) {
	name, version, ok := strings.Cut(stream, ":")
	if !ok || name == "" || version == "" {
		return "", "", fmt.Errorf("stream %q is not NAME:VERSION", stream)
	}
	return name, version, nil
}

// ReleaseTag is the immutable tag of the n-th release of day:
// <version>-<YYYYMMDD>.<N>.
func ReleaseTag(version string, day time.Time, n int) string {
	return fmt.Sprintf("%s-%s.%d", version, day.UTC().Format(DayFormat), n)
}

// Day is the UTC day a release made at t is numbered in.
func Day(t time.Time) string { return t.UTC().Format(DayFormat) }
