package maintscript

// The parser builds the script's tree: and-or lists of pipelines of
// commands, with if, for, case, groups and function definitions.
// while/until loops are parsed only to be skipped. It never fails: a
// token it does not expect is skipped, and the rest is parsed.

import "strings"

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
	toks  []token
	i     int
	depth int // nesting of compound commands
}

// maxParseDepth bounds the nesting of compound commands ({ }, ( ), if,
// for, case, while, function bodies) and of $(...): a script nested
// deeper is cut at that command instead of overflowing the stack. Real
// maintainer scripts nest a handful of levels.
const maxParseDepth = 200

// errTooDeep unwinds the parser from a command nested too deep.
type errTooDeep struct{}

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

// parseScript parses src. A script nested deeper than maxParseDepth
// keeps the top-level commands before the one that nests too deep, and
// tooDeep is set.
func parseScript(src string) (out []node, tooDeep bool) {
	toks, tooDeep := tokenize(src)
	p := &parser{toks: toks}
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(errTooDeep); !ok {
				panic(v)
			}
			tooDeep = true
		}
	}()
	// One and-or list at a time, so that those before a command that
	// nests too deep are kept.
	for {
		p.skipNewlines()
		if p.peek().kind == tEOF {
			break
		}
		ao := p.andOr()
		if ao == nil {
			p.advance() // an unexpected token: skip it
			continue
		}
		out = append(out, ao)
		if t := p.peek(); t.kind == tOp && t.op == "&" {
			p.advance()
		}
	}
	return out, tooDeep
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
			// "a &&" with nothing after it: the dangling operator
			// joins nothing.
			ao.ops = ao.ops[:len(ao.pipes)-1]
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
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxParseDepth {
		panic(errTooDeep{})
	}
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
