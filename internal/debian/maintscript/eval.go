package maintscript

// The evaluator walks the parsed script. It keeps variables, positional
// parameters and functions, follows the control flow it can decide, and
// records the calls temper reproduces. It runs nothing.

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/temper-dev/temper/internal/limits"
)

// A script that recurses past maxDepth is cut short there; one that
// builds longer lists or records more calls than these stops. Real
// maintainer scripts stay far below them. The step, string and time
// budgets are internal/limits'.
const (
	maxDepth = 64
	maxList  = 1 << 16 // fields of one expansion or word list
	maxCalls = 1 << 12 // update-alternatives and ucf calls recorded
	// clockEvery is how many steps pass between looks at the clock and
	// the context.
	clockEvery = 1024
	// bytesPerStep is how much bulk work (bytes copied or scanned, list
	// fields copied) counts as one step: a step budget that bounds steps
	// must also bound what one step costs, or a loop copying a 1 MiB
	// string 200000 times would run for minutes within its steps.
	bytesPerStep = 1024
	// fieldCost is what one field of a copied list counts, in bytes.
	fieldCost = 16
)

type evaluator struct {
	test  func(op, path string) bool // Env.Test
	vars  map[string]string
	funcs map[string]node
	args  []string
	calls Calls
	steps int
	work  int // bulk work not yet counted as a step, in bytes
	depth int
	// nextClock is the step count at which the clock and the context
	// are looked at next.
	nextClock int
	// The budgets (internal/limits) and what stopped the evaluation.
	maxSteps    int
	maxString   int
	deadline    time.Time
	ctx         context.Context
	stop        string
	interrupted bool // the wall clock or the context stopped it
	deepSkipped bool
	// Control flow: exit or return, and how many loops break or
	// continue leaves.
	exiting  bool
	breaking int
	contin   int
}

func newEvaluator(env Env) *evaluator {
	l := limits.Get()
	e := &evaluator{test: env.Test, vars: map[string]string{}, funcs: map[string]node{}, args: env.Args,
		maxSteps: l.ScriptSteps, maxString: l.ScriptString, deadline: time.Now().Add(l.ScriptTime), ctx: env.Context}
	for k, v := range env.Vars {
		e.vars[k] = v
	}
	return e
}

func (e *evaluator) stopped() bool {
	return e.exiting || e.breaking > 0 || e.contin > 0 || e.stop != ""
}

// halt stops the evaluation for good, for the first reason given.
func (e *evaluator) halt(format string, args ...any) {
	if e.stop == "" {
		e.stop = fmt.Sprintf(format, args...)
	}
}

// step counts one step against the budgets and reports whether the
// evaluation may go on.
func (e *evaluator) step() bool {
	return e.advance(1)
}

// charge counts bulk work of n bytes (a string copied or scanned, a list
// copied: listCost) against the step budget, one step per bytesPerStep,
// and reports whether the evaluation may go on. The work is charged
// before it is done, so the budget bounds the time a script takes, and
// where it stops depends on the script only.
func (e *evaluator) charge(n int) bool {
	e.work += n
	steps := e.work / bytesPerStep
	e.work %= bytesPerStep
	return e.advance(steps)
}

// listCost is the work of copying a list of fields holding size bytes.
func listCost(fields, size int) int { return fields*fieldCost + size }

func (e *evaluator) advance(steps int) bool {
	if e.stop != "" {
		return false
	}
	e.steps += steps
	if e.steps > e.maxSteps {
		e.halt("step budget of %d exhausted (TEMPER_LIMIT_SCRIPT_STEPS): the script's remaining commands were skipped", e.maxSteps)
		return false
	}
	if e.steps >= e.nextClock {
		e.nextClock = e.steps + clockEvery
		if e.ctx != nil && e.ctx.Err() != nil {
			e.interrupted = true
			e.halt("canceled: %v", context.Cause(e.ctx))
		} else if time.Now().After(e.deadline) {
			e.interrupted = true
			e.halt("wall-clock budget exhausted (TEMPER_LIMIT_SCRIPT_TIME) after %d steps: the script's remaining commands were skipped", e.steps)
		}
	}
	return e.stop == ""
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
	if !e.step() {
		return true
	}
	if e.depth > maxDepth {
		e.deepSkipped = true
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
	size := 0
	for _, w := range n.words {
		fields, ok := e.expand(w)
		if ok {
			values = append(values, fields...)
			size += listBytes(fields)
		}
		if !e.listFits(len(values), size) || !e.charge(listCost(len(fields), 0)) {
			return true
		}
	}
	for _, v := range values {
		if !e.step() {
			break
		}
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
			// path.Match is greedy per "*" but tries every position
			// for each chunk: up to len(pat)*len(s) byte comparisons.
			if !e.charge(len(pat) + len(s) + matchCost(pat, s)) {
				return true
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
	size := 0
	for _, w := range words {
		fields, ok := e.expand(w)
		if !ok {
			known = false
		}
		args = append(args, fields...)
		size += listBytes(fields)
		if !e.listFits(len(args), size) || !e.charge(listCost(len(fields), 0)) {
			return nil, false
		}
	}
	return args, known
}

// call runs a function the script defined with args as its positional
// parameters.
func (e *evaluator) call(body node, args []string) bool {
	if !e.charge(listCost(len(args), 0)) {
		return true
	}
	saved := e.args
	e.args = append([]string(nil), args...)
	ok := e.exec(body)
	e.args = saved
	if e.exiting { // "return" inside a function ends only the function
		e.exiting = false
	}
	return ok
}

// listFits reports whether a list is within maxList fields and, all its
// fields together, within the string budget; it stops the evaluation
// when it is not.
func (e *evaluator) listFits(fields, size int) bool {
	if fields > maxList {
		e.halt("a word list longer than %d fields: the script's remaining commands were skipped", maxList)
		return false
	}
	return e.stringFits(size)
}

// matchCost is the worst case of path.Match(pat, s) beyond reading both:
// a pattern with a "*" may compare each chunk at every position of s.
func matchCost(pat, s string) int {
	if !strings.ContainsAny(pat, "*") || len(pat) == 0 {
		return 0
	}
	if len(s) > (1<<40)/len(pat) { // beyond any budget; no overflow
		return 1 << 40
	}
	return len(pat) * len(s)
}

func listBytes(list []string) int {
	n := 0
	for _, f := range list {
		n += len(f)
	}
	return n
}

// stringFits reports whether a string of n bytes is within the string
// budget, and stops the evaluation when it is not.
func (e *evaluator) stringFits(n int) bool {
	if n > e.maxString {
		e.halt("a string longer than %d bytes (TEMPER_LIMIT_SCRIPT_STRING): the script's remaining commands were skipped", e.maxString)
		return false
	}
	return true
}
