package maintscript

// The lexer turns a script into words and operators. A word keeps its
// parts apart (literal text, a variable, something unknown) and whether
// each was quoted, so that the evaluator can expand and split it as sh
// would. Comments, line continuations and heredoc bodies are dropped
// here: a heredoc is data fed to a command, never commands.

import "strings"

type partKind uint8

const (
	pLit     partKind = iota // literal text
	pVar                     // $NAME, ${NAME}, ${NAME:-default}
	pUnknown                 // $(...), `...`, $((...)), unsupported ${...}
)

type part struct {
	kind   partKind
	quoted bool
	text   string // literal text, or variable name
	def    string // default for ${NAME:-def} / ${NAME-def}
	hasDef bool
	colon  bool // ":-" (empty counts as unset)
}

type word []part

// lit returns the word's text when it is one unquoted literal (keywords,
// operators in test expressions), else "".
func (w word) lit() (string, bool) {
	var b strings.Builder
	for _, p := range w {
		if p.kind != pLit || p.quoted {
			return "", false
		}
		b.WriteString(p.text)
	}
	return b.String(), true
}

type tokKind uint8

const (
	tWord tokKind = iota
	tOp
	tNewline
	tEOF
)

type token struct {
	kind tokKind
	op   string
	w    word
}

type lexer struct {
	s       string
	i       int
	toks    []token
	heredoc []heredocSpec
	nest    int  // depth of skipParens
	tooDeep bool // nest went past maxParseDepth
}

type heredocSpec struct {
	delim string
	strip bool
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isNameChar(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' }

// metachars end an unquoted word.
func isMeta(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ';', '&', '|', '(', ')', '<', '>':
		return true
	}
	return false
}

// tokenize splits src into tokens. A $(...) nested deeper than
// maxParseDepth ends the tokens where its word starts: tooDeep says so.
func tokenize(src string) (toks []token, tooDeep bool) {
	l := &lexer{s: src}
	for {
		t := l.next()
		if l.tooDeep {
			return append(l.toks, token{kind: tEOF}), true
		}
		l.toks = append(l.toks, t)
		if t.kind == tEOF {
			return l.toks, false
		}
	}
}

func (l *lexer) next() token {
	for l.i < len(l.s) {
		c := l.s[l.i]
		switch {
		case isBlank(c):
			l.i++
		case c == '\\' && l.i+1 < len(l.s) && l.s[l.i+1] == '\n':
			l.i += 2
		case c == '#':
			for l.i < len(l.s) && l.s[l.i] != '\n' {
				l.i++
			}
		case c == '\n':
			l.i++
			l.skipHeredocs()
			return token{kind: tNewline}
		default:
			if op := l.operator(); op != "" {
				return l.opToken(op)
			}
			return token{kind: tWord, w: l.word()}
		}
	}
	return token{kind: tEOF}
}

// opToken makes the token for an operator. For a heredoc (<< or <<-)
// it also reads the delimiter word that follows and remembers it, so
// that the body, which starts on the next line, is skipped; the token
// then says the delimiter is consumed (a "#" suffix).
//
// The delimiter is read here, without calling next: a run of "<<<<<<..."
// would otherwise recurse once per operator and rescan the rest of the
// run for each one (quadratic time, a stack as deep as the run).
func (l *lexer) opToken(op string) token {
	if op == "<<" || op == "<<-" {
		j := l.i
		for j < len(l.s) && isBlank(l.s[j]) {
			j++
		}
		if j < len(l.s) && !isMeta(l.s[j]) && l.s[j] != '#' {
			save := l.i
			l.i = j
			if l.operator() != "" { // "<< 2>x": a redirection, not a delimiter
				l.i = save
				return token{kind: tOp, op: op}
			}
			var b strings.Builder
			for _, p := range l.word() {
				b.WriteString(p.text)
			}
			l.heredoc = append(l.heredoc, heredocSpec{delim: b.String(), strip: op == "<<-"})
			return token{kind: tOp, op: op + "#"}
		}
	}
	return token{kind: tOp, op: op}
}

func (l *lexer) skipHeredocs() {
	for _, h := range l.heredoc {
		for l.i < len(l.s) {
			end := strings.IndexByte(l.s[l.i:], '\n')
			var line string
			if end < 0 {
				line, l.i = l.s[l.i:], len(l.s)
			} else {
				line, l.i = l.s[l.i:l.i+end], l.i+end+1
			}
			if h.strip {
				line = strings.TrimLeft(line, "\t")
			}
			if line == h.delim {
				break
			}
		}
	}
	l.heredoc = l.heredoc[:0]
}

var operators = []string{"&&", "||", ";;", "<<-", "<<", ">>", ">&", "<&", ">|", "<>", ";", "&", "|", "(", ")", "<", ">"}

func (l *lexer) operator() string {
	j := l.i
	for j < len(l.s) && l.s[j] >= '0' && l.s[j] <= '9' {
		j++
	}
	if j > l.i && (j >= len(l.s) || (l.s[j] != '<' && l.s[j] != '>')) {
		return "" // a number, not an fd redirection
	}
	for _, op := range operators {
		if strings.HasPrefix(l.s[j:], op) {
			if j > l.i && op[0] != '<' && op[0] != '>' {
				return ""
			}
			l.i = j + len(op)
			return op
		}
	}
	return ""
}

func (l *lexer) word() word {
	var w word
	var lit strings.Builder
	flush := func(quoted bool) {
		if lit.Len() > 0 {
			w = append(w, part{kind: pLit, quoted: quoted, text: lit.String()})
			lit.Reset()
		}
	}
	for l.i < len(l.s) {
		c := l.s[l.i]
		if isMeta(c) {
			break
		}
		switch c {
		case '\\':
			l.i++
			if l.i < len(l.s) {
				if l.s[l.i] != '\n' {
					flush(false)
					w = append(w, part{kind: pLit, quoted: true, text: l.s[l.i : l.i+1]})
				}
				l.i++
			}
		case '\'':
			flush(false)
			end := strings.IndexByte(l.s[l.i+1:], '\'')
			if end < 0 {
				end = len(l.s) - l.i - 1
			}
			w = append(w, part{kind: pLit, quoted: true, text: l.s[l.i+1 : l.i+1+end]})
			l.i += end + 2
		case '"':
			flush(false)
			l.i++
			w = append(w, l.dquoted()...)
		case '$':
			flush(false)
			w = append(w, l.dollar(false))
		case '`':
			flush(false)
			l.skipBackquote()
			w = append(w, part{kind: pUnknown})
		default:
			lit.WriteByte(c)
			l.i++
		}
	}
	flush(false)
	if w == nil {
		w = word{{kind: pLit, quoted: true}} // an empty quoted word ('' or "")
	}
	return w
}

// dquoted reads the inside of "..." (l.i just after the opening quote).
func (l *lexer) dquoted() word {
	var w word
	var lit strings.Builder
	for l.i < len(l.s) {
		c := l.s[l.i]
		switch c {
		case '"':
			l.i++
			if lit.Len() > 0 || len(w) == 0 {
				w = append(w, part{kind: pLit, quoted: true, text: lit.String()})
			}
			return w
		case '\\':
			if l.i+1 < len(l.s) {
				switch n := l.s[l.i+1]; n {
				case '\n':
					l.i += 2
					continue
				case '$', '`', '"', '\\':
					lit.WriteByte(n)
					l.i += 2
					continue
				}
			}
			lit.WriteByte(c)
			l.i++
		case '$':
			if lit.Len() > 0 {
				w = append(w, part{kind: pLit, quoted: true, text: lit.String()})
				lit.Reset()
			}
			w = append(w, l.dollar(true))
		case '`':
			l.skipBackquote()
			w = append(w, part{kind: pUnknown, quoted: true})
		default:
			lit.WriteByte(c)
			l.i++
		}
	}
	return append(w, part{kind: pLit, quoted: true, text: lit.String()})
}

func (l *lexer) skipBackquote() {
	l.i++
	for l.i < len(l.s) && l.s[l.i] != '`' {
		if l.s[l.i] == '\\' {
			l.i++
		}
		l.i++
	}
	l.i++
}

// dollar reads an expansion starting at '$'.
func (l *lexer) dollar(quoted bool) part {
	l.i++ // '$'
	if l.i >= len(l.s) {
		return part{kind: pLit, quoted: quoted, text: "$"}
	}
	c := l.s[l.i]
	switch {
	case c == '(':
		l.skipParens()
		return part{kind: pUnknown, quoted: quoted}
	case c == '{':
		return l.braced(quoted)
	case isNameStart(c):
		j := l.i
		for j < len(l.s) && isNameChar(l.s[j]) {
			j++
		}
		name := l.s[l.i:j]
		l.i = j
		return part{kind: pVar, quoted: quoted, text: name}
	case c >= '0' && c <= '9' || strings.IndexByte("@*#?$!-", c) >= 0:
		l.i++
		return part{kind: pVar, quoted: quoted, text: string(c)}
	}
	return part{kind: pLit, quoted: quoted, text: "$"}
}

// braced reads ${NAME}, ${NAME:-default} or ${NAME-default} (l.i at the
// '{'); any other form, or a default that would need expanding, is
// unknown.
func (l *lexer) braced(quoted bool) part {
	end := strings.IndexByte(l.s[l.i:], '}')
	if end < 0 {
		l.i = len(l.s)
		return part{kind: pUnknown, quoted: quoted}
	}
	body := l.s[l.i+1 : l.i+end]
	l.i += end + 1
	j := 0
	if body != "" && strings.IndexByte("@*#?$!-", body[0]) >= 0 {
		j = 1
	} else {
		for j < len(body) && isNameChar(body[j]) {
			j++
		}
	}
	name, rest := body[:j], body[j:]
	if name == "" {
		return part{kind: pUnknown, quoted: quoted}
	}
	p := part{kind: pVar, quoted: quoted, text: name}
	switch {
	case rest == "":
	case strings.HasPrefix(rest, ":-"):
		p.hasDef, p.colon, p.def = true, true, rest[2:]
	case strings.HasPrefix(rest, "-"):
		p.hasDef, p.def = true, rest[1:]
	default:
		return part{kind: pUnknown, quoted: quoted}
	}
	if strings.ContainsAny(p.def, "$`\\'\"") {
		return part{kind: pUnknown, quoted: quoted}
	}
	return p
}

// skipParens skips a balanced (...) group (l.i at the '('), including
// quoted text inside it.
func (l *lexer) skipParens() {
	l.nest++
	defer func() { l.nest-- }()
	if l.nest > maxParseDepth {
		l.tooDeep = true
		l.i = len(l.s)
		return
	}
	depth := 0
	for l.i < len(l.s) {
		switch l.s[l.i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				l.i++
				return
			}
		case '\\':
			l.i++
		case '\'':
			if end := strings.IndexByte(l.s[l.i+1:], '\''); end >= 0 {
				l.i += end + 1
			}
		case '"':
			l.i++
			for l.i < len(l.s) && l.s[l.i] != '"' {
				if l.s[l.i] == '\\' {
					l.i++
				} else if l.s[l.i] == '$' && l.i+1 < len(l.s) && l.s[l.i+1] == '(' {
					l.i++
					l.skipParens()
					continue
				}
				l.i++
			}
		}
		l.i++
	}
}
