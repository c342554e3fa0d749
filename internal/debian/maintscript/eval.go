package maintscript

// The evaluator walks the parsed script. It keeps variables, positional
// parameters and functions, follows the control flow it can decide, and
// records the calls temper reproduces. It runs nothing.

import "path"

// A script that loops or recurses past these is cut short; real
// maintainer scripts stay far below them.
const (
	maxSteps = 200000
	maxDepth = 64
)

type evaluator struct {
	test  func(op, path string) bool // Env.Test
	vars  map[string]string
	funcs map[string]node
	args  []string
	calls Calls
	steps int
	depth int
	// Control flow: exit or return, and how many loops break or
	// continue leaves.
	exiting  bool
	breaking int
	contin   int
}

func newEvaluator(env Env) *evaluator {
	e := &evaluator{test: env.Test, vars: map[string]string{}, funcs: map[string]node{}, args: env.Args}
	for k, v := range env.Vars {
		e.vars[k] = v
	}
	return e
}

func (e *evaluator) stopped() bool {
	return e.exiting || e.breaking > 0 || e.contin > 0 || e.steps > maxSteps
}

// run executes nodes in order and returns the status of the last one.
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

// exec executes one node and returns its status (true: exit status 0).
func (e *evaluator) exec(n node) bool {
	e.steps++
	if e.steps > maxSteps || e.depth > maxDepth {
		return true
	}
	e.depth++
	defer func() { e.depth-- }()
	switch n := n.(type) {
	case *andOr:
		return e.andOr(n)
	case *simpleCmd:
		return e.simple(n)
	case *group:
		return e.run(n.body)
	case *ifStmt:
		return e.ifStmt(n)
	case *forLoop:
		return e.forLoop(n)
	case *caseStmt:
		return e.caseStmt(n)
	case *funcDef:
		e.funcs[n.name] = n.body
		return true
	}
	return true // *loopStmt: while/until are never evaluated
}

func (e *evaluator) andOr(n *andOr) bool {
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

func (e *evaluator) ifStmt(n *ifStmt) bool {
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
}

// forLoop runs the body for each known field of the word list; a word
// that cannot be known contributes the fields it has.
func (e *evaluator) forLoop(n *forLoop) bool {
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
}

// caseStmt runs the first item with a pattern that matches; when the
// word cannot be known, no item runs.
func (e *evaluator) caseStmt(n *caseStmt) bool {
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
}

// simple executes a simple command: assignments alone, a builtin, a
// function the script defined, or a command that is not run.
func (e *evaluator) simple(c *simpleCmd) bool {
	if len(c.args) == 0 {
		e.assign(c.assigns)
		return true
	}
	args, known := e.expandArgs(c.args)
	if len(args) == 0 {
		return true
	}
	if ok, handled := e.builtin(args, known); handled {
		return ok
	}
	if body, ok := e.funcs[args[0]]; ok {
		return e.call(body, args[1:])
	}
	return true // an unknown command counts as succeeding
}

// assign sets the variables of a command that is only assignments; an
// unknown value leaves the variable as it was.
func (e *evaluator) assign(assigns []assignment) {
	for _, a := range assigns {
		if v, ok := e.expandString(a.val); ok {
			e.vars[a.name] = v
		}
	}
}

// expandArgs expands a command's words into its arguments; known is
// false when any word held something that cannot be known.
func (e *evaluator) expandArgs(words []word) (args []string, known bool) {
	known = true
	for _, w := range words {
		fields, ok := e.expand(w)
		if !ok {
			known = false
		}
		args = append(args, fields...)
	}
	return args, known
}

// call runs a function the script defined with args as its positional
// parameters.
func (e *evaluator) call(body node, args []string) bool {
	saved := e.args
	e.args = append([]string(nil), args...)
	ok := e.exec(body)
	e.args = saved
	if e.exiting { // "return" inside a function ends only the function
		e.exiting = false
	}
	return ok
}
