// Command codesize reports the sizes a reader has to hold in mind: Go files
// (tests excluded) over -file lines and functions over -func lines, for the
// before/after table in docs/architecture.md.
//
// Usage: go run ./bench/codesize [-file 500] [-func 80] [DIR]
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type item struct {
	name  string
	lines int
}

func main() {
	fileMax := flag.Int("file", 500, "report files longer than this many lines")
	funcMax := flag.Int("func", 80, "report functions longer than this many lines")
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	var files, funcs []item
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "out" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if n := fset.Position(f.End()).Line; n > *fileMax {
			files = append(files, item{rel, n})
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
			if n > *funcMax {
				name := fn.Name.Name
				if fn.Recv != nil && len(fn.Recv.List) > 0 {
					name = recv(fn.Recv.List[0].Type) + "." + name
				}
				funcs = append(funcs, item{filepath.Dir(rel) + ": " + name, n})
			}
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	report := func(title string, items []item) {
		sort.Slice(items, func(i, j int) bool { return items[i].lines > items[j].lines })
		fmt.Printf("%s: %d\n", title, len(items))
		for _, it := range items {
			fmt.Printf("  %5d  %s\n", it.lines, it.name)
		}
	}
	report(fmt.Sprintf("files over %d lines", *fileMax), files)
	report(fmt.Sprintf("functions over %d lines", *funcMax), funcs)
}

// recv names a method's receiver type without its pointer star.
func recv(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recv(t.X)
	case *ast.Ident:
		return t.Name
	case *ast.IndexExpr:
		return recv(t.X)
	}
	return "?"
}
