package deb822

import (
	"fmt"
	"io"
)

// MaxStanzaSize is the largest stanza (including the blank and comment lines
// before it) a streaming Scanner accepts; it bounds the scanner's memory.
const MaxStanzaSize = 64 << 20

// defaultBufSize is the initial buffer size of a streaming Scanner.
const defaultBufSize = 256 << 10

// Scanner reads stanzas one at a time. Create one with NewScanner or
// NewBytesScanner.
type Scanner struct {
	r          io.Reader
	buf        []byte // bytes mode: the whole input; streaming: the buffer
	start, end int    // unread input is buf[start:end]
	eof        bool   // nothing more to read beyond buf[:end]
	bytesMode  bool
	line       int // number of lines before buf[start]
	maxSize    int
	st         Stanza
	arena      []byte
	err        error
	done       bool
	lenient    bool
}

// NewScanner returns a Scanner streaming from r. Memory use is bounded by
// the largest stanza (at most MaxStanzaSize). Field bytes are valid until
// the next call to Scan.
func NewScanner(r io.Reader) *Scanner {
	return newScannerSize(r, defaultBufSize)
}

func newScannerSize(r io.Reader, size int) *Scanner {
	return &Scanner{r: r, buf: make([]byte, size), maxSize: MaxStanzaSize}
}

// NewBytesScanner returns a Scanner over data. Field slices alias data (or a
// side buffer that is never overwritten) and stay valid after later calls to
// Scan; data must not be modified while they are in use.
func NewBytesScanner(data []byte) *Scanner {
	return &Scanner{buf: data, end: len(data), eof: true, bytesMode: true}
}

// Stanza returns the stanza read by the last successful call to Scan. The
// Stanza and its Fields slice are reused by the next call to Scan.
func (s *Scanner) Stanza() *Stanza { return &s.st }

// Err returns the first error met, other than io.EOF. Syntax errors are
// *SyntaxError; read errors are returned as the reader gave them. After a
// syntax error, Stanza's Fields are those of the stanza read before the
// malformed line (none when it came first), so that a caller checking
// fields can report errors in file order.
func (s *Scanner) Err() error { return s.err }

// Line returns the number of input lines consumed so far (plus the offset
// set by SetLine).
func (s *Scanner) Line() int { return s.line }

// SetLine declares that n lines precede the input, so that reported line
// numbers are counted from n+1. Use it when scanning a piece cut from a
// larger file. Call it before the first Scan.
func (s *Scanner) SetLine(n int) { s.line = n }

// SetLenient makes the Scanner pass over malformed lines instead of
// failing: a line without ':' and a continuation line before any field are
// skipped like comments, and an empty field name is read as a field. It is
// for hand-written files read for information only (debian/copyright),
// never for archive metadata. Call it before the first Scan.
func (s *Scanner) SetLenient() { s.lenient = true }

// Scan reads the next stanza, which is then available through Stanza. It
// returns false at the end of input or on error (see Err).
func (s *Scanner) Scan() bool {
	if s.done {
		return false
	}
	for {
		if s.bytesMode {
			// Never overwrite side-buffer bytes handed out before.
			s.arena = s.arena[len(s.arena):]
		} else {
			s.arena = s.arena[:0]
		}
		n, lines, res := s.parse(s.buf[s.start:s.end], s.eof)
		switch res {
		case resStanza:
			s.start += n
			s.line += lines
			return true
		case resEOF:
			s.start += n
			s.line += lines
			s.done = true
			return false
		case resError:
			// Stanza keeps the fields read before the malformed line.
			s.done = true
			return false
		}
		// resMore: n bytes of blank lines and comments were consumed.
		s.start += n
		s.line += lines
		if err := s.fill(); err != nil {
			s.err = err
			s.done = true
			s.st.Fields = s.st.Fields[:0]
			return false
		}
	}
}

// fill reads more input into the streaming buffer, compacting or growing it.
func (s *Scanner) fill() error {
	if s.start > 0 {
		s.end = copy(s.buf, s.buf[s.start:s.end])
		s.start = 0
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= s.maxSize {
			return &SyntaxError{Line: s.line + 1, Msg: fmt.Sprintf("stanza longer than %d bytes", s.maxSize)}
		}
		n := 2 * len(s.buf)
		if n < 4096 {
			n = 4096
		}
		if n > s.maxSize {
			n = s.maxSize
		}
		nb := make([]byte, n)
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	empty := 0
	for s.end < len(s.buf) {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 {
			empty++
			if empty >= 100 {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}
