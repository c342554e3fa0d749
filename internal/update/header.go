package update

import (
	"bytes"
	"regexp"
	"time"

	"github.com/temper-dev/temper/internal/spec"
)

var (
	headerDefRE   = regexp.MustCompile(`^definition: \{file: ([A-Za-z0-9_./+~-]+), sha256: ([0-9a-f]{64})\}$`)
	headerRelRE   = regexp.MustCompile(`^release: ([a-z0-9]+)$`)
	headerSuiteRE = regexp.MustCompile(`^  - \{name: ([a-z0-9-]+), inrelease_sha256: ([0-9a-f]{64}), date: ([0-9TZ:.+-]+)\}$`)
)

// lockHeader reads the header of a lock in the canonical form spec.Lock
// Marshal writes (definition, release, suites), without parsing the
// packages. ok is false for anything else; the caller then parses the
// whole lock. The returned lock has nil Architectures.
func lockHeader(data []byte) (l *spec.Lock, ok bool) {
	l = &spec.Lock{}
	rest := data
	state := 0
	for len(rest) > 0 {
		var line []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			line, rest = rest, nil
		}
		switch state {
		case 0:
			if string(line) != spec.LockHeader {
				return nil, false
			}
		case 1:
			m := headerDefRE.FindSubmatch(line)
			if m == nil {
				return nil, false
			}
			l.Definition = spec.LockDefinition{File: string(m[1]), SHA256: string(m[2])}
		case 2:
			m := headerRelRE.FindSubmatch(line)
			if m == nil {
				return nil, false
			}
			l.Release = string(m[1])
		case 3:
			if string(line) != "suites:" {
				return nil, false
			}
		default:
			if string(line) == "architectures:" {
				return l, len(l.Suites) > 0
			}
			m := headerSuiteRE.FindSubmatch(line)
			if m == nil {
				return nil, false
			}
			d, err := time.Parse(time.RFC3339Nano, string(m[3]))
			if err != nil {
				return nil, false
			}
			l.Suites = append(l.Suites, spec.LockSuite{Name: string(m[1]), InReleaseSHA256: string(m[2]), Date: d})
		}
		state++
	}
	return nil, false
}
