package maintscript

// The commands the evaluator knows: the two it records, the builtins
// that change its state (variables, control flow) and test / [ ].

import (
	"strconv"
	"strings"
)

// builtin executes args when their command is one the evaluator knows,
// and reports whether it was. known is false when an argument could not
// be known: such a call is not recorded and such a test is true.
func (e *evaluator) builtin(args []string, known bool) (ok, handled bool) {
	switch args[0] {
	case "update-alternatives", "ucf", "dpkg-divert":
		if len(e.calls.Alternatives)+len(e.calls.UCF)+len(e.calls.Diversions) >= maxCalls {
			e.halt("more than %d update-alternatives, ucf and dpkg-divert calls: the script's remaining commands were skipped", maxCalls)
			return true, true
		}
	}
	switch args[0] {
	case "update-alternatives":
		if known {
			if in, ok := parseUpdateAlternatives(args[1:]); ok {
				e.calls.Alternatives = append(e.calls.Alternatives, in)
			}
		}
		return true, true
	case "ucf":
		if known {
			if in, ok := parseUCF(args[1:]); ok {
				e.calls.UCF = append(e.calls.UCF, in)
			}
		}
		return true, true
	case "dpkg-divert":
		if known {
			if d, ok := parseDivert(args[1:], e.vars["DPKG_MAINTSCRIPT_PACKAGE"]); ok {
				e.calls.Diversions = append(e.calls.Diversions, d)
			}
		}
		return true, true
	case "unset":
		e.unset(args[1:])
		return true, true
	case "export", "readonly", "local":
		if known {
			e.export(args[1:])
		}
		return true, true
	case "true", ":":
		return true, true
	case "false":
		return false, true
	case "exit", "return":
		e.exiting = true
		return true, true
	case "break", "continue":
		e.jump(args)
		return true, true
	case "[", "test":
		if !known {
			return true, true
		}
		t := args[1:]
		if args[0] == "[" && len(t) > 0 && t[len(t)-1] == "]" {
			t = t[:len(t)-1]
		}
		return e.testArgs(t), true
	}
	return false, false
}

func (e *evaluator) unset(names []string) {
	for _, a := range names {
		if !strings.HasPrefix(a, "-") {
			delete(e.vars, a)
		}
	}
}

// export sets the NAME=value arguments of export, readonly and local.
func (e *evaluator) export(args []string) {
	for _, a := range args {
		if name, v, ok := strings.Cut(a, "="); ok && name != "" {
			e.vars[name] = v
		}
	}
}

// jump starts a break or continue out of N loops (1 by default).
func (e *evaluator) jump(args []string) {
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
}

// testArgs evaluates the arguments of [ ] / test; what it cannot decide
// is true.
func (e *evaluator) testArgs(a []string) bool {
	switch len(a) {
	case 0:
		return false
	case 1:
		return a[0] != ""
	case 2:
		if a[0] == "!" {
			return !e.testArgs(a[1:])
		}
		return e.unary(a[0], a[1])
	case 3:
		if a[0] == "!" {
			return !e.testArgs(a[1:])
		}
		return binary(a[0], a[1], a[2])
	case 4:
		if a[0] == "!" {
			return !e.testArgs(a[1:])
		}
	}
	return true
}

// unary evaluates [ op x ]: string tests here, file tests by Env.Test.
func (e *evaluator) unary(op, x string) bool {
	switch op {
	case "-z":
		return x == ""
	case "-n":
		return x != ""
	case "-e", "-f", "-d", "-x", "-r", "-s", "-L", "-h", "-w":
		if e.test == nil {
			return true
		}
		return e.test(op, x)
	}
	return true
}

// binary evaluates [ x op y ] for string and integer comparisons.
func binary(x, op, y string) bool {
	switch op {
	case "=", "==":
		return x == y
	case "!=":
		return x != y
	case "-eq", "-ne", "-gt", "-ge", "-lt", "-le":
		a, err1 := strconv.Atoi(x)
		b, err2 := strconv.Atoi(y)
		if err1 != nil || err2 != nil {
			return true
		}
		switch op {
		case "-eq":
			return a == b
		case "-ne":
			return a != b
		case "-gt":
			return a > b
		case "-ge":
			return a >= b
		case "-lt":
			return a < b
		}
		return a <= b
	}
	return true
}
