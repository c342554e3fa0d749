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
//
// It is a sandbox for hostile scripts: nesting (parsing and recursion),
// strings, word lists, recorded calls and steps are bounded, and so is
// the wall clock (internal/limits). A script that exceeds a budget stops
// there, keeping the calls it made before, and Calls.Stopped says why;
// every budget but the wall clock counts steps of the script, so the same
// script always stops at the same place. A step's cost is bounded too:
// bulk work (bytes copied or scanned, fields of a list) is charged to the
// step budget, one step per KiB, so that the step budget alone ends any
// script in well under a second and the wall clock is a last resort.
package maintscript

import (
	"context"
	"fmt"
)

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
	// Context, when set, stops the evaluation when it is canceled (a
	// build interrupted by SIGTERM); Calls.Stopped then says so.
	Context context.Context
}

// Calls are the calls a script makes that temper reproduces, each kind
// in script order.
type Calls struct {
	Alternatives []Alternative
	UCF          []UCF
	Diversions   []Diversion
	// Stopped is empty when the script was evaluated to its end, and
	// otherwise says which budget cut it short ("nesting deeper than 200
	// levels", "step budget of 200000 exhausted", ...): the calls after
	// that point are missing, and the caller should warn, naming the
	// package.
	Stopped string
	// Interrupted is set when Stopped is the wall clock's or a canceled
	// Env.Context's doing: where the evaluation stopped then depends on
	// the machine and the moment, not on the script. Every other stop
	// (steps, whose count includes the bytes copied, sizes, nesting) is
	// reproducible: the same script always stops at the same place.
	Interrupted bool
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

// Diversion is one `dpkg-divert --add` (or --remove) call: every package but Package
// installs its copy of Path at To instead (Package "" diverts every
// package's copy: --local). postgresql-common's preinst diverts
// libpq-dev's /usr/bin/pg_config to /usr/bin/pg_config.libpq-dev, for
// example, so that both packages install.
type Diversion struct {
	Path, To, Package string
	// Remove is set for `dpkg-divert --remove`: the diversion of Path
	// ends (the trixie /usr-merge transition adds diversions in preinst
	// and removes them in postinst).
	Remove bool
}

// Evaluate walks script in env and returns the calls it would make.
//
// It does not fail: a construct it does not understand is skipped like
// an unknown value, so there is no error to return. A budget exceeded
// stops the evaluation, returning the calls found until then with
// Calls.Stopped set; a function call nested too deep (runaway recursion)
// counts as succeeding without being evaluated, and is reported the same
// way.
func Evaluate(script string, env Env) Calls {
	e := newEvaluator(env)
	if len(script) > e.maxString {
		e.calls.Stopped = fmt.Sprintf("a script of %d bytes, larger than the string budget of %d bytes (TEMPER_LIMIT_SCRIPT_STRING): not evaluated", len(script), e.maxString)
		return e.calls
	}
	nodes, tooDeep := parseScript(script)
	e.run(nodes)
	if tooDeep && e.stop == "" {
		e.stop = fmt.Sprintf("nesting deeper than %d levels: the commands from there on were skipped", maxParseDepth)
	}
	e.calls.Stopped = e.stop
	e.calls.Interrupted = e.interrupted
	if e.stop == "" && e.deepSkipped {
		e.calls.Stopped = fmt.Sprintf("recursion deeper than %d levels: the deeper commands were skipped", maxDepth)
	}
	return e.calls
}
