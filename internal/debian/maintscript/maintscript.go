// Package maintscript evaluates Debian maintainer scripts without running
// them, to learn the calls whose effects temper reproduces in an image:
// `update-alternatives --install` (links) and `ucf NEW DEST` (conffiles).
//
// It understands the part of POSIX sh that maintainer scripts use: it
// tokenizes and parses the script, then walks it keeping variables,
// for-loops, if/case branches, functions and [ ] tests it can decide.
// It never runs a command and never touches a filesystem: the caller
// hands it, in Env, the script's arguments and variables and a function
// that answers file tests ([ -e path ], -f, -d, -x, -L, ...) from the
// image being assembled.
//
// What it cannot know, it does not guess. Command substitutions,
// arithmetic and unsupported expansions make a value unknown: an
// assignment of an unknown value is ignored, and a call with an unknown
// argument is dropped. A command it does not know, or a test it cannot
// decide, counts as succeeding, so the branch that installs is taken.
// while/until loops are never evaluated, and heredoc bodies are data, not
// commands.
package maintscript

import "fmt"

// Env is all a script sees of the outside world.
type Env struct {
	// Args are the positional parameters $1, $2, ... (for a postinst on a
	// fresh install: "configure", "").
	Args []string
	// Vars are the variables set when the script starts
	// (DPKG_MAINTSCRIPT_PACKAGE, DPKG_MAINTSCRIPT_ARCH, ...).
	Vars map[string]string
	// Test answers a file test: op is the operator ("-e", "-f", "-d",
	// "-x", "-r", "-s", "-L", "-h", "-w") and path its argument as the
	// script wrote it. Nil means every file test is true.
	Test func(op, path string) bool
}

// Calls are the calls a script makes that temper reproduces, each kind
// in script order.
type Calls struct {
	Alternatives []Alternative
	UCF          []UCF
}

// Alternative is one `update-alternatives --install` call.
type Alternative struct {
	Link     string
	Name     string
	Path     string
	Priority int
	Slaves   []Slave
}

// Slave is one `--slave LINK NAME PATH` of an Alternative.
type Slave struct {
	Link, Name, Path string
}

func (a Alternative) String() string {
	return fmt.Sprintf("%s %s %s %d", a.Link, a.Name, a.Path, a.Priority)
}

// UCF is one `ucf NEW DEST` call: on a fresh install, ucf copies the
// package's pristine configuration file NEW to the conffile DEST.
type UCF struct {
	New, Dest string
}

// Evaluate walks script in env and returns the calls it would make.
//
// It does not fail: a construct it does not understand is skipped like
// an unknown value, so there is no error to return. Evaluation stops
// after a fixed budget of steps, returning the calls found until then,
// and a command nested too deep (runaway recursion) counts as succeeding
// without being evaluated.
func Evaluate(script string, env Env) Calls {
	e := newEvaluator(env)
	e.run(parseScript(script))
	return e.calls
}
