package assemble

// A small, safe evaluator for the part of POSIX sh that maintainer scripts
// use to call update-alternatives. It never runs anything: it tokenizes
// and parses the script, then walks it keeping variables, for-loops,
// if/case branches, functions and [ ] tests it can decide, and records
// every `update-alternatives --install` call with its arguments expanded.
// Command substitutions, arithmetic and anything else it cannot know make
// the value unknown: an assignment of an unknown value is ignored, a call
// with an unknown argument is dropped, and a command or test it cannot
// decide counts as succeeding (the branch that installs is taken).

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

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

func tokenize(src string) []token {
	l := &lexer{s: src}
	for {
		t := l.next()
		l.toks = append(l.toks, t)
		if t.kind == tEOF {
			return l.toks
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
				if op == "<<" || op == "<<-" {
					// The delimiter word follows; the body starts on the next line.
					save := l.i
					t := l.next()
					if t.kind == tWord {
						var b strings.Builder
						for _, p := range t.w {
							b.WriteString(p.text)
						}
						l.heredoc = append(l.heredoc, heredocSpec{delim: b.String(), strip: op == "<<-"})
						return token{kind: tOp, op: op + "#"} // the delimiter is consumed
					}
					l.i = save
				}
				return token{kind: tOp, op: op}
			}
			return token{kind: tWord, w: l.word()}
		}
	}
	return token{kind: tEOF}
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

// skipParens skips a balanced (...) group (l.i at the '('), including
// quoted text inside it.
func (l *lexer) skipParens() {
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

type node interface{}

type simpleCmd struct {
	assigns []assignment
	args    []word
}

type assignment struct {
	name string
	val  word
}

type pipeline struct {
	bang bool
	cmds []node
}

type andOr struct {
	pipes []pipeline
	ops   []string // "&&" or "||" between pipes
}

type forLoop struct {
	name  string
	words []word
	in    bool
	body  []node
}

type ifStmt struct {
	conds  [][]node // if and elif conditions
	bodies [][]node // matching bodies
	els    []node
}

type caseItem struct {
	patterns []word
	body     []node
}

type caseStmt struct {
	w     word
	items []caseItem
}

type loopStmt struct{} // while/until: never evaluated

type group struct{ body []node }

type funcDef struct {
	name string
	body node
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// keyword reports whether the next token is the unquoted word kw.
func (p *parser) keyword(kw string) bool {
	t := p.peek()
	if t.kind != tWord {
		return false
	}
	s, ok := t.w.lit()
	return ok && s == kw
}

func (p *parser) skipNewlines() {
	for p.peek().kind == tNewline || (p.peek().kind == tOp && p.peek().op == ";") {
		p.advance()
	}
}

func parseScript(src string) []node {
	p := &parser{toks: tokenize(src)}
	var out []node
	for p.peek().kind != tEOF {
		n := len(out)
		out = p.list(out, nil)
		if len(out) == n && p.peek().kind != tEOF {
			p.advance() // an unexpected token: skip it
		}
	}
	return out
}

// list parses and-or lists until one of the terminator keywords (or ")" /
// ";;" / EOF) and appends them to out.
func (p *parser) list(out []node, terms []string) []node {
	for {
		p.skipNewlines()
		t := p.peek()
		if t.kind == tEOF || t.kind == tOp && (t.op == ")" || t.op == ";;") {
			return out
		}
		for _, kw := range terms {
			if p.keyword(kw) {
				return out
			}
		}
		ao := p.andOr()
		if ao == nil {
			return out
		}
		out = append(out, ao)
		if t := p.peek(); t.kind == tOp && t.op == "&" {
			p.advance()
		}
	}
}

func (p *parser) andOr() node {
	var ao andOr
	for {
		pl, ok := p.pipeline()
		if !ok {
			if len(ao.pipes) == 0 {
				return nil
			}
			break
		}
		ao.pipes = append(ao.pipes, pl)
		t := p.peek()
		if t.kind == tOp && (t.op == "&&" || t.op == "||") {
			p.advance()
			for p.peek().kind == tNewline {
				p.advance()
			}
			ao.ops = append(ao.ops, t.op)
			continue
		}
		break
	}
	return &ao
}

func (p *parser) pipeline() (pipeline, bool) {
	var pl pipeline
	if p.keyword("!") {
		p.advance()
		pl.bang = true
	}
	for {
		c := p.command()
		if c == nil {
			return pl, len(pl.cmds) > 0
		}
		pl.cmds = append(pl.cmds, c)
		if t := p.peek(); t.kind == tOp && t.op == "|" {
			p.advance()
			for p.peek().kind == tNewline {
				p.advance()
			}
			continue
		}
		return pl, true
	}
}

func (p *parser) command() node {
	t := p.peek()
	if t.kind == tOp && t.op == "(" {
		p.advance()
		body := p.list(nil, nil)
		p.expectOp(")")
		p.redirections()
		return &group{body: body}
	}
	if t.kind != tWord {
		return nil
	}
	kw, _ := t.w.lit()
	switch kw {
	case "{":
		p.advance()
		body := p.list(nil, []string{"}"})
		p.expectKeyword("}")
		p.redirections()
		return &group{body: body}
	case "if":
		return p.ifStmt()
	case "for":
		return p.forLoop()
	case "case":
		return p.caseStmt()
	case "while", "until":
		p.advance()
		p.list(nil, []string{"do"})
		p.expectKeyword("do")
		p.list(nil, []string{"done"})
		p.expectKeyword("done")
		p.redirections()
		return &loopStmt{}
	case "then", "else", "elif", "fi", "do", "done", "esac", "}", "in":
		return nil
	}
	// name() { ... }
	if name, ok := t.w.lit(); ok && p.i+2 < len(p.toks) && p.toks[p.i+1].kind == tOp && p.toks[p.i+1].op == "(" &&
		p.toks[p.i+2].kind == tOp && p.toks[p.i+2].op == ")" {
		p.i += 3
		p.skipNewlines()
		body := p.command()
		return &funcDef{name: name, body: body}
	}
	return p.simple()
}

func (p *parser) simple() node {
	var c simpleCmd
	for {
		t := p.peek()
		switch {
		case t.kind == tWord:
			p.advance()
			if len(c.args) == 0 {
				if a, ok := asAssignment(t.w); ok {
					c.assigns = append(c.assigns, a)
					continue
				}
			}
			c.args = append(c.args, t.w)
		case t.kind == tOp && isRedirect(t.op):
			p.advance()
			if !strings.HasSuffix(t.op, "#") && p.peek().kind == tWord {
				p.advance()
			}
		default:
			if len(c.args) == 0 && len(c.assigns) == 0 {
				return nil
			}
			return &c
		}
	}
}

func isRedirect(op string) bool { return op[0] == '<' || op[0] == '>' }

func (p *parser) redirections() {
	for t := p.peek(); t.kind == tOp && isRedirect(t.op); t = p.peek() {
		p.advance()
		if !strings.HasSuffix(t.op, "#") && p.peek().kind == tWord {
			p.advance()
		}
	}
}

// asAssignment recognises NAME=value.
func asAssignment(w word) (assignment, bool) {
	if len(w) == 0 || w[0].kind != pLit || w[0].quoted {
		return assignment{}, false
	}
	s := w[0].text
	eq := strings.IndexByte(s, '=')
	if eq <= 0 || !isNameStart(s[0]) {
		return assignment{}, false
	}
	for i := 1; i < eq; i++ {
		if !isNameChar(s[i]) {
			return assignment{}, false
		}
	}
	val := word{}
	if rest := s[eq+1:]; rest != "" {
		val = append(val, part{kind: pLit, text: rest})
	}
	val = append(val, w[1:]...)
	return assignment{name: s[:eq], val: val}, true
}

func (p *parser) expectKeyword(kw string) {
	p.skipNewlines()
	if p.keyword(kw) {
		p.advance()
	}
}

func (p *parser) expectOp(op string) {
	p.skipNewlines()
	if t := p.peek(); t.kind == tOp && t.op == op {
		p.advance()
	}
}

func (p *parser) ifStmt() node {
	p.advance() // if
	var s ifStmt
	for {
		cond := p.list(nil, []string{"then"})
		p.expectKeyword("then")
		body := p.list(nil, []string{"elif", "else", "fi"})
		s.conds = append(s.conds, cond)
		s.bodies = append(s.bodies, body)
		if p.keyword("elif") {
			p.advance()
			continue
		}
		break
	}
	if p.keyword("else") {
		p.advance()
		s.els = p.list(nil, []string{"fi"})
	}
	p.expectKeyword("fi")
	p.redirections()
	return &s
}

func (p *parser) forLoop() node {
	p.advance() // for
	var f forLoop
	if t := p.peek(); t.kind == tWord {
		f.name, _ = t.w.lit()
		p.advance()
	}
	for p.peek().kind == tNewline {
		p.advance()
	}
	if p.keyword("in") {
		p.advance()
		f.in = true
		for p.peek().kind == tWord {
			f.words = append(f.words, p.advance().w)
		}
	}
	p.skipNewlines()
	p.expectKeyword("do")
	f.body = p.list(nil, []string{"done"})
	p.expectKeyword("done")
	p.redirections()
	return &f
}

func (p *parser) caseStmt() node {
	p.advance() // case
	var c caseStmt
	if t := p.peek(); t.kind == tWord {
		c.w = t.w
		p.advance()
	}
	p.skipNewlines()
	p.expectKeyword("in")
	for {
		p.skipNewlines()
		if p.keyword("esac") || p.peek().kind == tEOF {
			break
		}
		if t := p.peek(); t.kind == tOp && t.op == "(" {
			p.advance()
		}
		var it caseItem
		for p.peek().kind == tWord {
			it.patterns = append(it.patterns, p.advance().w)
			if t := p.peek(); t.kind == tOp && t.op == "|" {
				p.advance()
				continue
			}
			break
		}
		if t := p.peek(); t.kind == tOp && t.op == ")" {
			p.advance()
		} else {
			p.advance() // malformed: skip a token and go on
			continue
		}
		it.body = p.list(nil, []string{"esac"})
		if t := p.peek(); t.kind == tOp && t.op == ";;" {
			p.advance()
		}
		c.items = append(c.items, it)
	}
	p.expectKeyword("esac")
	p.redirections()
	return &c
}

// altInstall is one `update-alternatives --install` call.
type altInstall struct {
	Link     string
	Name     string
	Path     string
	Priority int
	Slaves   []altSlave
}

type altSlave struct {
	Link, Name, Path string
}

// shellEnv is what the evaluator needs from the outside world.
type shellEnv struct {
	// exists reports whether a path exists in the image, for [ -e ] and
	// friends; kind is the test operator ("-e", "-f", "-d", "-x", "-L", ...).
	test func(op, path string) bool
	vars map[string]string // initial variables (DPKG_MAINTSCRIPT_*, ...)
	args []string          // positional parameters: configure, ""
}

// ucfInstall is a `ucf NEW DEST` call: on a fresh install, ucf copies the
// package's pristine configuration NEW to the conffile DEST.
type ucfInstall struct {
	New, Dest string
}

type evaluator struct {
	env      shellEnv
	vars     map[string]string
	funcs    map[string]node
	args     []string
	installs []altInstall
	ucfs     []ucfInstall
	steps    int
	depth    int
	// control flow
	exiting  bool
	breaking int
	contin   int
}

const (
	maxSteps = 200000
	maxDepth = 64
)

// alternativesFromScript evaluates a maintainer script and returns its
// update-alternatives --install calls, in order.
func alternativesFromScript(script string, env shellEnv) []altInstall {
	return evaluate(script, env).installs
}

// ucfFromScript evaluates a maintainer script and returns the conffiles
// it hands to ucf, in order.
func ucfFromScript(script string, env shellEnv) []ucfInstall {
	return evaluate(script, env).ucfs
}

func evaluate(script string, env shellEnv) *evaluator {
	e := &evaluator{env: env, vars: map[string]string{}, funcs: map[string]node{}, args: env.args}
	for k, v := range env.vars {
		e.vars[k] = v
	}
	e.run(parseScript(script))
	return e
}

func (e *evaluator) stopped() bool {
	return e.exiting || e.breaking > 0 || e.contin > 0 || e.steps > maxSteps
}

func (e *evaluator) run(nodes []node) bool {
	ok := true
	for _, n := range nodes {
		if e.stopped() {
			break
		}
		ok = e.exec(n)
	}
	return ok
}

func (e *evaluator) exec(n node) bool {
	e.steps++
	if e.steps > maxSteps || e.depth > maxDepth {
		return true
	}
	e.depth++
	defer func() { e.depth-- }()
	switch n := n.(type) {
	case *andOr:
		ok := e.pipeline(n.pipes[0])
		for i, op := range n.ops {
			if e.stopped() {
				break
			}
			if op == "&&" && ok || op == "||" && !ok {
				ok = e.pipeline(n.pipes[i+1])
			}
		}
		return ok
	case *simpleCmd:
		return e.simple(n)
	case *group:
		return e.run(n.body)
	case *ifStmt:
		for i, cond := range n.conds {
			if e.run(cond) {
				if e.stopped() {
					return true
				}
				return e.run(n.bodies[i])
			}
			if e.stopped() {
				return true
			}
		}
		return e.run(n.els)
	case *forLoop:
		if !n.in {
			return true
		}
		var values []string
		for _, w := range n.words {
			fields, ok := e.expand(w)
			if ok {
				values = append(values, fields...)
			}
		}
		for _, v := range values {
			e.vars[n.name] = v
			e.run(n.body)
			if e.breaking > 0 {
				e.breaking--
				break
			}
			if e.contin > 0 {
				e.contin--
				if e.contin > 0 {
					break
				}
			}
			if e.stopped() {
				break
			}
		}
		return true
	case *caseStmt:
		s, ok := e.expandString(n.w)
		if !ok {
			return true
		}
		for _, it := range n.items {
			for _, pw := range it.patterns {
				pat, ok := e.expandString(pw)
				if !ok {
					continue
				}
				if m, err := path.Match(pat, s); err == nil && m || pat == s {
					return e.run(it.body)
				}
			}
		}
		return true
	case *funcDef:
		e.funcs[n.name] = n.body
		return true
	case *loopStmt:
		return true
	}
	return true
}

func (e *evaluator) pipeline(pl pipeline) bool {
	ok := true
	for _, c := range pl.cmds {
		ok = e.exec(c)
	}
	if pl.bang {
		return !ok
	}
	return ok
}

func (e *evaluator) simple(c *simpleCmd) bool {
	if len(c.args) == 0 {
		for _, a := range c.assigns {
			if v, ok := e.expandString(a.val); ok {
				e.vars[a.name] = v
			}
		}
		return true
	}
	var args []string
	known := true
	for _, w := range c.args {
		fields, ok := e.expand(w)
		if !ok {
			known = false
		}
		args = append(args, fields...)
	}
	if len(args) == 0 {
		return true
	}
	switch args[0] {
	case "update-alternatives":
		if known {
			if in, ok := parseUpdateAlternatives(args[1:]); ok {
				e.installs = append(e.installs, in)
			}
		}
		return true
	case "ucf":
		if known {
			if in, ok := parseUCF(args[1:]); ok {
				e.ucfs = append(e.ucfs, in)
			}
		}
		return true
	case "unset":
		for _, a := range args[1:] {
			if !strings.HasPrefix(a, "-") {
				delete(e.vars, a)
			}
		}
		return true
	case "export", "readonly", "local":
		for _, a := range args[1:] {
			if name, v, ok := strings.Cut(a, "="); ok && known && name != "" {
				e.vars[name] = v
			}
		}
		return true
	case "true", ":":
		return true
	case "false":
		return false
	case "exit", "return":
		e.exiting = true
		return true
	case "break", "continue":
		n := 1
		if len(args) > 1 {
			if v, err := strconv.Atoi(args[1]); err == nil && v > 0 {
				n = v
			}
		}
		if args[0] == "break" {
			e.breaking = n
		} else {
			e.contin = n
		}
		return true
	case "[", "test":
		if !known {
			return true
		}
		t := args[1:]
		if args[0] == "[" && len(t) > 0 && t[len(t)-1] == "]" {
			t = t[:len(t)-1]
		}
		return e.test(t)
	}
	if body, ok := e.funcs[args[0]]; ok {
		saved := e.args
		e.args = append([]string(nil), args[1:]...)
		ok := e.exec(body)
		e.args = saved
		if e.exiting { // "return" inside a function ends only the function
			e.exiting = false
		}
		return ok
	}
	return true // an unknown command counts as succeeding
}

// parseUCF reads `ucf [options] NEW DEST`. --purge (forget a file) and
// any call that is not exactly two absolute paths are not installs.
func parseUCF(args []string) (ucfInstall, bool) {
	var paths []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--purge" || a == "-p":
			return ucfInstall{}, false
		case a == "--state-dir" || a == "--src-dir" || a == "--sum-file" || a == "--three-way-source":
			i++ // takes a value
		case strings.HasPrefix(a, "-"):
		default:
			paths = append(paths, a)
		}
	}
	if len(paths) != 2 || !strings.HasPrefix(paths[0], "/") || !strings.HasPrefix(paths[1], "/") {
		return ucfInstall{}, false
	}
	return ucfInstall{New: paths[0], Dest: paths[1]}, true
}

// test evaluates the arguments of [ ] / test; what it cannot decide is true.
func (e *evaluator) test(a []string) bool {
	switch len(a) {
	case 0:
		return false
	case 1:
		return a[0] != ""
	case 2:
		if a[0] == "!" {
			return !e.test(a[1:])
		}
		switch a[0] {
		case "-z":
			return a[1] == ""
		case "-n":
			return a[1] != ""
		case "-e", "-f", "-d", "-x", "-r", "-s", "-L", "-h", "-w":
			if e.env.test == nil {
				return true
			}
			return e.env.test(a[0], a[1])
		}
		return true
	case 3:
		if a[0] == "!" {
			return !e.test(a[1:])
		}
		switch a[1] {
		case "=", "==":
			return a[0] == a[2]
		case "!=":
			return a[0] != a[2]
		case "-eq", "-ne", "-gt", "-ge", "-lt", "-le":
			x, err1 := strconv.Atoi(a[0])
			y, err2 := strconv.Atoi(a[2])
			if err1 != nil || err2 != nil {
				return true
			}
			switch a[1] {
			case "-eq":
				return x == y
			case "-ne":
				return x != y
			case "-gt":
				return x > y
			case "-ge":
				return x >= y
			case "-lt":
				return x < y
			}
			return x <= y
		}
	case 4:
		if a[0] == "!" {
			return !e.test(a[1:])
		}
	}
	return true
}

func (e *evaluator) lookup(name string) (string, bool) {
	if name[0] >= '0' && name[0] <= '9' {
		i, _ := strconv.Atoi(name)
		if i == 0 {
			return "postinst", true
		}
		if i-1 < len(e.args) {
			return e.args[i-1], true
		}
		return "", false
	}
	switch name {
	case "@", "*":
		return strings.Join(e.args, " "), true
	case "#":
		return strconv.Itoa(len(e.args)), true
	case "?":
		return "0", true
	case "$", "!", "-":
		return "", false
	}
	v, ok := e.vars[name]
	return v, ok
}

// expand performs parameter expansion and field splitting on a word. It
// reports false when part of the word cannot be known.
func (e *evaluator) expand(w word) ([]string, bool) {
	var fields []string
	var cur strings.Builder
	have := false // cur holds a field (possibly empty but quoted)
	ok := true
	for _, p := range w {
		switch p.kind {
		case pLit:
			cur.WriteString(p.text)
			have = true
		case pUnknown:
			ok = false
		case pVar:
			v, set := e.lookup(p.text)
			if p.hasDef && (!set || p.colon && v == "") {
				v = p.def
			}
			if p.quoted {
				cur.WriteString(v)
				have = true
				continue
			}
			for i, f := range strings.Fields(v) {
				if i > 0 || startsWithIFS(v) {
					if have {
						fields = append(fields, cur.String())
					}
					cur.Reset()
				}
				cur.WriteString(f)
				have = true
			}
			if endsWithIFS(v) && have {
				fields = append(fields, cur.String())
				cur.Reset()
				have = false
			}
		}
	}
	if have {
		fields = append(fields, cur.String())
	}
	return fields, ok
}

func startsWithIFS(s string) bool {
	return s != "" && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n')
}

func endsWithIFS(s string) bool {
	return s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t' || s[len(s)-1] == '\n')
}

// expandString expands a word without field splitting (assignments, case).
func (e *evaluator) expandString(w word) (string, bool) {
	var b strings.Builder
	for _, p := range w {
		switch p.kind {
		case pLit:
			b.WriteString(p.text)
		case pUnknown:
			return "", false
		case pVar:
			v, set := e.lookup(p.text)
			if p.hasDef && (!set || p.colon && v == "") {
				v = p.def
			}
			b.WriteString(v)
		}
	}
	return b.String(), true
}

// parseUpdateAlternatives reads the arguments of one update-alternatives
// call; only --install calls are returned.
func parseUpdateAlternatives(args []string) (altInstall, bool) {
	var in altInstall
	install := false
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--install":
			if len(args)-i < 5 {
				return in, false
			}
			prio, err := strconv.Atoi(args[i+4])
			if err != nil {
				return in, false
			}
			in.Link, in.Name, in.Path, in.Priority = args[i+1], args[i+2], args[i+3], prio
			install = true
			i += 4
		case "--slave":
			if len(args)-i < 4 {
				return in, false
			}
			in.Slaves = append(in.Slaves, altSlave{Link: args[i+1], Name: args[i+2], Path: args[i+3]})
			i += 3
		case "--altdir", "--admindir", "--log", "--instdir", "--root":
			i++
		case "--quiet", "--verbose", "--debug", "--force", "--skip-auto":
		default:
			if strings.HasPrefix(a, "--") {
				return in, false // another action (--remove, --set, ...)
			}
		}
	}
	return in, install
}

func (a altInstall) String() string {
	return fmt.Sprintf("%s %s %s %d", a.Link, a.Name, a.Path, a.Priority)
}
