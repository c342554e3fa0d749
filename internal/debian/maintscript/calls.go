package maintscript

// Reading the arguments of the two calls temper reproduces.

import (
	"strconv"
	"strings"
)

// parseUpdateAlternatives reads the arguments of one update-alternatives
// call; only --install calls are returned.
func parseUpdateAlternatives(args []string) (Alternative, bool) {
	var in Alternative
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
			in.Slaves = append(in.Slaves, Slave{Link: args[i+1], Name: args[i+2], Path: args[i+3]})
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

// parseUCF reads `ucf [options] NEW DEST`. --purge (forget a file) and
// any call that is not exactly two absolute paths are not installs.
func parseUCF(args []string) (UCF, bool) {
	var paths []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--purge" || a == "-p":
			return UCF{}, false
		case a == "--state-dir" || a == "--src-dir" || a == "--sum-file" || a == "--three-way-source":
			i++ // takes a value
		case strings.HasPrefix(a, "-"):
		default:
			paths = append(paths, a)
		}
	}
	if len(paths) != 2 || !strings.HasPrefix(paths[0], "/") || !strings.HasPrefix(paths[1], "/") {
		return UCF{}, false
	}
	return UCF{New: paths[0], Dest: paths[1]}, true
}

// parseDivert reads `dpkg-divert [options] [--add|--remove] FILE`:
// additions and removals are returned (--list, --truename, ... are not). Without
// --divert the copy goes to FILE.distrib; without --package or --local
// the diverting package is the script's own (DPKG_MAINTSCRIPT_PACKAGE),
// as dpkg-divert itself assumes.
func parseDivert(args []string, self string) (Diversion, bool) {
	d := Diversion{Package: self}
	var files []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--add":
		case "--remove":
			d.Remove = true
		case "--divert", "--package":
			if i+1 >= len(args) {
				return d, false
			}
			if a == "--divert" {
				d.To = args[i+1]
			} else {
				d.Package = args[i+1]
			}
			i++
		case "--local":
			d.Package = ""
		case "--admindir", "--instdir", "--root":
			i++
		case "--rename", "--no-rename", "--quiet", "--test":
		default:
			if strings.HasPrefix(a, "-") {
				return d, false // --list, --listpackage, --truename, ...
			}
			files = append(files, a)
		}
	}
	if len(files) != 1 || !strings.HasPrefix(files[0], "/") {
		return d, false
	}
	d.Path = files[0]
	if d.To == "" {
		d.To = d.Path + ".distrib"
	}
	return d, strings.HasPrefix(d.To, "/")
}
