package vuln

import (
	"encoding/json"
	"errors"
	"fmt"
)

// sourceSpan is one member of the tracker's top-level object: a source
// package name and the bytes of its value.
type sourceSpan struct {
	name  string
	value []byte
	start int // the value's offset in the file
}

var errSplit = errors.New("security tracker JSON: not an object of source packages")

// splitSources cuts the top-level object into its members without decoding
// them, so that they can be decoded in parallel. It only tracks strings and
// nesting; json.Unmarshal of each value still validates everything inside.
func splitSources(data []byte) ([]sourceSpan, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errSplit
	}
	var out []sourceSpan
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return out, trailing(data, i+1)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, errSplit
		}
		end, err := stringEnd(data, i)
		if err != nil {
			return nil, err
		}
		var name string
		if err := json.Unmarshal(data[i:end], &name); err != nil {
			return nil, fmt.Errorf("security tracker JSON: %w", err)
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, errSplit
		}
		start := skipSpace(data, i+1)
		if end, err = valueEnd(data, start); err != nil {
			return nil, err
		}
		out = append(out, sourceSpan{name, data[start:end], start})
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
			continue
		}
		if i < len(data) && data[i] == '}' {
			return out, trailing(data, i+1)
		}
		return nil, errSplit
	}
}

func trailing(data []byte, i int) error {
	if skipSpace(data, i) != len(data) {
		return errors.New("security tracker JSON: data after the top-level object")
	}
	return nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at data[i].
func stringEnd(data []byte, i int) (int, error) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("security tracker JSON: unterminated string")
}

// valueEnd returns the index just past the object or array starting at
// data[i] (source values are objects).
func valueEnd(data []byte, i int) (int, error) {
	if i >= len(data) || data[i] != '{' {
		return 0, errSplit
	}
	depth := 0
	for j := i; j < len(data); j++ {
		switch data[j] {
		case '"':
			e, err := stringEnd(data, j)
			if err != nil {
				return 0, err
			}
			j = e - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, errors.New("security tracker JSON: truncated")
}
