package vuln

import (
	"fmt"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON side of trackerDecoder (trackerdec.go): whitespace, strings with
// encoding/json's escape rules, literals, numbers, objects, and validating
// skips of values the records do not use. Errors name the byte offset.

func (d *trackerDecoder) fail(what string) error {
	if d.i >= len(d.data) {
		return fmt.Errorf("byte %d: unexpected end of data, %s", d.i, what)
	}
	return fmt.Errorf("byte %d: invalid JSON at %q, %s", d.i, d.data[d.i], what)
}

func (d *trackerDecoder) typeErr(field string) error {
	return fmt.Errorf("byte %d: %s has the wrong JSON type", d.i, field)
}

func (d *trackerDecoder) ws() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\n', '\r', '\t':
			d.i++
		default:
			return
		}
	}
}

func (d *trackerDecoder) peek() byte {
	if d.i < len(d.data) {
		return d.data[d.i]
	}
	return 0
}

// str reads the string at d.i and returns its decoded bytes, valid until
// the next call. Most strings have no escapes and are plain ASCII: they are
// returned as a slice of the file; the rest are decoded into d.buf by
// strDecode, kept out of this loop so that it stays small.
func (d *trackerDecoder) str() ([]byte, error) {
	if d.peek() != '"' {
		return nil, d.fail("expected a string")
	}
	d.i++
	start := d.i
	for d.i < len(d.data) {
		c := d.data[d.i]
		if c == '"' {
			d.i++
			return d.data[start : d.i-1], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		d.i++
	}
	return d.strDecode(start)
}

// strDecode finishes a string begun at start whose bytes up to d.i need no
// decoding, decoding escapes and non-ASCII bytes from d.i on.
func (d *trackerDecoder) strDecode(start int) ([]byte, error) {
	b := append(d.buf[:0], d.data[start:d.i]...)
	for {
		if d.i >= len(d.data) {
			return nil, d.fail("unterminated string")
		}
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			d.buf = b
			return b, nil
		case c < 0x20:
			return nil, d.fail("control character in a string")
		case c == '\\':
			var err error
			if b, err = d.escape(b); err != nil {
				return nil, err
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.i++
		default:
			r, n := utf8.DecodeRune(d.data[d.i:])
			if r == utf8.RuneError && n == 1 {
				b = utf8.AppendRune(b, r)
			} else {
				b = append(b, d.data[d.i:d.i+n]...)
			}
			d.i += n
		}
	}
}

// escape appends the character of the escape at d.i to b and moves past
// it. A \uXXXX escape of one half of a surrogate pair takes the other half
// from the following \uXXXX; a lone or mismatched half is U+FFFD.
func (d *trackerDecoder) escape(b []byte) ([]byte, error) {
	if d.i+1 >= len(d.data) {
		d.i++
		return nil, d.fail("unterminated escape")
	}
	e := d.data[d.i+1]
	switch e {
	case '"', '\\', '/':
		b = append(b, e)
	case 'b':
		b = append(b, '\b')
	case 'f':
		b = append(b, '\f')
	case 'n':
		b = append(b, '\n')
	case 'r':
		b = append(b, '\r')
	case 't':
		b = append(b, '\t')
	case 'u':
		r, ok := hex4(d.data[d.i+2:])
		if !ok {
			d.i += 2
			return nil, d.fail("invalid \\u escape")
		}
		d.i += 6
		if utf16.IsSurrogate(r) {
			if r2, ok := hex4Escape(d.data[d.i:]); ok {
				if dr := utf16.DecodeRune(r, r2); dr != unicode.ReplacementChar {
					d.i += 6
					return utf8.AppendRune(b, dr), nil
				}
			}
			r = unicode.ReplacementChar
		}
		return utf8.AppendRune(b, r), nil
	default:
		d.i++
		return nil, d.fail("invalid escape")
	}
	d.i += 2
	return b, nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// hex4Escape reads a following \uXXXX (the second half of a pair).
func hex4Escape(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	return hex4(b[2:])
}

// skip validates and skips any JSON value.
func (d *trackerDecoder) skip() error {
	switch c := d.peek(); c {
	case '"':
		_, err := d.str()
		return err
	case '{', '[':
		return d.skipContainer()
	case 't':
		return d.lit("true")
	case 'f':
		return d.lit("false")
	case 'n':
		return d.lit("null")
	default:
		if c == '-' || '0' <= c && c <= '9' {
			return d.number()
		}
		return d.fail("expected a value")
	}
}

func (d *trackerDecoder) lit(s string) error {
	if len(d.data)-d.i < len(s) || string(d.data[d.i:d.i+len(s)]) != s {
		for k := 0; k < len(s) && d.i < len(d.data) && d.data[d.i] == s[k]; k++ {
			d.i++
		}
		return d.fail("expected " + s)
	}
	d.i += len(s)
	return nil
}

func (d *trackerDecoder) digits() int {
	n := 0
	for d.i < len(d.data) && '0' <= d.data[d.i] && d.data[d.i] <= '9' {
		d.i++
		n++
	}
	return n
}

func (d *trackerDecoder) number() error {
	if d.peek() == '-' {
		d.i++
	}
	switch c := d.peek(); {
	case c == '0':
		d.i++
	case '1' <= c && c <= '9':
		d.digits()
	default:
		return d.fail("invalid number")
	}
	if d.peek() == '.' {
		d.i++
		if d.digits() == 0 {
			return d.fail("invalid number")
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.i++
		if c := d.peek(); c == '+' || c == '-' {
			d.i++
		}
		if d.digits() == 0 {
			return d.fail("invalid number")
		}
	}
	return nil
}

func (d *trackerDecoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return d.fail("nested too deeply")
	}
	return nil
}

func (d *trackerDecoder) skipContainer() error {
	if d.data[d.i] == '[' {
		if err := d.enter(); err != nil {
			return err
		}
		d.i++
		d.ws()
		if d.peek() == ']' {
			d.i++
			d.depth--
			return nil
		}
		for {
			d.ws()
			if err := d.skip(); err != nil {
				return err
			}
			d.ws()
			switch d.peek() {
			case ',':
				d.i++
			case ']':
				d.i++
				d.depth--
				return nil
			default:
				return d.fail("expected , or ]")
			}
		}
	}
	return d.object(func([]byte) error { return d.skip() })
}

// object reads an object, calling member with each decoded key and d.i at
// the start of its value.
func (d *trackerDecoder) object(member func(key []byte) error) error {
	if d.peek() != '{' {
		return d.fail("expected an object")
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.i++
	d.ws()
	if d.peek() == '}' {
		d.i++
		d.depth--
		return nil
	}
	for {
		d.ws()
		key, err := d.str()
		if err != nil {
			return err
		}
		d.ws()
		if d.peek() != ':' {
			return d.fail("expected :")
		}
		d.i++
		d.ws()
		if err := member(key); err != nil {
			return err
		}
		d.ws()
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			d.depth--
			return nil
		default:
			return d.fail("expected , or }")
		}
	}
}
