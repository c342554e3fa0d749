package maintscript

// Expansion: positional and named parameters, ${NAME:-default}, and
// field splitting on the default IFS. Command substitution and
// arithmetic are never performed; a word holding one is unknown.

import (
	"strconv"
	"strings"
)

// lookup returns a parameter's value and whether it is set. $0 is
// "postinst": temper evaluates postinsts only. $$, $! and $- are never
// known. Joining $@ is charged to the step budget.
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
		if !e.charge(listCost(len(e.args), listBytes(e.args))) {
			return "", false
		}
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

// value expands a variable part, applying its default.
func (e *evaluator) value(p part) string {
	v, set := e.lookup(p.text)
	if p.hasDef && (!set || p.colon && v == "") {
		v = p.def
	}
	return v
}

// expand performs parameter expansion and field splitting on a word. It
// reports false when part of the word cannot be known. Every byte it
// copies and every field it makes is charged to the step budget first.
func (e *evaluator) expand(w word) ([]string, bool) {
	var fields []string
	var cur strings.Builder
	have := false // cur holds a field (possibly empty but quoted)
	ok := true
	for _, p := range w {
		switch p.kind {
		case pLit:
			if !e.stringFits(cur.Len()+len(p.text)) || !e.charge(len(p.text)) {
				return nil, false
			}
			cur.WriteString(p.text)
			have = true
		case pUnknown:
			ok = false
		case pVar:
			v := e.value(p)
			if !e.stringFits(cur.Len()+len(v)) || !e.charge(len(v)) {
				return nil, false
			}
			if p.quoted {
				cur.WriteString(v)
				have = true
				continue
			}
			split := strings.Fields(v)
			if !e.charge(listCost(len(split), 0)) {
				return nil, false
			}
			for i, f := range split {
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
	if !e.listFits(len(fields), listBytes(fields)) || !e.charge(listCost(len(fields), 0)) {
		return nil, false
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
			if !e.stringFits(b.Len()+len(p.text)) || !e.charge(len(p.text)) {
				return "", false
			}
			b.WriteString(p.text)
		case pUnknown:
			return "", false
		case pVar:
			v := e.value(p)
			if !e.stringFits(b.Len()+len(v)) || !e.charge(len(v)) {
				return "", false
			}
			b.WriteString(v)
		}
	}
	return b.String(), true
}
