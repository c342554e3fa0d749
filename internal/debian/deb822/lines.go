package deb822

import "bytes"

// Line is one line of a field's value and where it was read.
type Line struct {
	Num  int    // 1-based line number
	Text []byte // the first-line value, or a continuation line without its leading white space
}

// ValueLines returns the lines of the value of f, a field of st: the
// first-line value, then every continuation line with its leading white
// space removed, each with the line number it was read from (comment lines
// in between are stepped over). A " ." line is returned as "."; what it
// means is the caller's. The Text slices alias f.Value.
func (st *Stanza) ValueLines(f *Field) []Line {
	out := make([]Line, 0, 1+bytes.Count(f.Value, []byte{'\n'}))
	num := f.Line
	skipped := st.skipped
	for i, text := range bytes.Split(f.Value, []byte{'\n'}) {
		if i > 0 {
			num++
			for len(skipped) > 0 && skipped[0] < num {
				skipped = skipped[1:]
			}
			for len(skipped) > 0 && skipped[0] == num {
				num++
				skipped = skipped[1:]
			}
			text = bytes.TrimLeft(text, " \t")
		}
		out = append(out, Line{Num: num, Text: text})
	}
	return out
}

// LineText returns line n (1-based) of data without its line ending, or nil
// when data has fewer lines. It is for error messages that quote a line.
func LineText(data []byte, n int) []byte {
	for i := 1; len(data) > 0; i++ {
		line, rest, _ := bytes.Cut(data, []byte{'\n'})
		if i == n {
			return bytes.TrimSuffix(line, []byte{'\r'})
		}
		data = rest
	}
	return nil
}
