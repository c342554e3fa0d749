package spec

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FindDefinitions expands files and directories into definition files:
// *.yaml and *.yml, except locks (*.lock.yaml) and the catalog
// configuration (temper.yaml). Directories are walked recursively, hidden
// ones skipped; a file named explicitly is taken as it is. The result is
// sorted and has no duplicates; it may be empty.
func FindDefinitions(paths []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			add(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if IsDefinitionFile(d.Name()) {
				add(path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// RequireDefinitions is FindDefinitions for commands that have nothing to
// do without a definition (lock, check, update): finding none is an error
// that says what a definition file is.
func RequireDefinitions(paths []string) ([]string, error) {
	files, err := FindDefinitions(paths)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no definitions found in %s (definitions are *.yaml files other than *.lock.yaml and temper.yaml)", strings.Join(paths, ", "))
	}
	return files, nil
}

// IsDefinitionFile says whether a file name looks like a definition.
func IsDefinitionFile(name string) bool {
	if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") {
		return false
	}
	return !strings.HasSuffix(name, ".lock.yaml") && name != "temper.yaml" && !strings.HasPrefix(name, ".")
}
