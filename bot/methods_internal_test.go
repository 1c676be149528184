package bot

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Method budgets (issue 12, "a Bot you can hold in your head"): *Bot
// routes Slack's requests to the types that answer them (commands,
// dialogs, clicks, homeTab, outboxWorker, ...) and keeps the exported entry
// points. Every other type, words and the renderers that hold it
// (cardWords, noticeWords, ...) included, keeps within maxTypeMethods.
const (
	maxBotMethods  = 40
	maxTypeMethods = 45
)

func TestMethodBudget(t *testing.T) {
	t.Parallel()
	counts, err := methodCounts(".")
	if err != nil {
		t.Fatal(err)
	}
	if counts["Bot"] == nil {
		t.Fatal("no methods of Bot found: is the test reading the bot package?")
	}
	for _, p := range overBudget(counts) {
		t.Error(p)
	}
}

// TestMethodBudget_NamesTheFile checks the check: a Bot one method over
// the budget is reported with the file that holds most of its methods.
func TestMethodBudget_NamesTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, from, to int) {
		var b strings.Builder
		b.WriteString("package bot\n\ntype Bot struct{}\n\n")
		if name != "bot.go" {
			b.Reset()
			b.WriteString("package bot\n\n")
		}
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "func (b *Bot) m%d() {}\n", i)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("bot.go", 0, 10)
	write("dispatch.go", 10, maxBotMethods+1)
	write("dispatch_test.go", 100, 200) // tests do not count
	counts, err := methodCounts(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := overBudget(counts)
	if len(got) != 1 || !strings.Contains(got[0], fmt.Sprintf("*Bot has %d methods", maxBotMethods+1)) || !strings.Contains(got[0], "dispatch.go (31)") {
		t.Errorf("problems = %q, want one naming *Bot's %d methods and dispatch.go (31)", got, maxBotMethods+1)
	}
	write("dispatch.go", 10, maxBotMethods)
	if counts, err = methodCounts(dir); err != nil {
		t.Fatal(err)
	}
	if got := overBudget(counts); len(got) != 0 {
		t.Errorf("at the budget: problems = %q, want none", got)
	}
}

// methodCounts counts the methods of each type declared in dir's non-test
// Go files, per file: type -> file -> methods.
func methodCounts(dir string) (map[string]map[string]int, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	fset := token.NewFileSet()
	counts := map[string]map[string]int{}
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", path, err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || len(fn.Recv.List) == 0 {
				continue
			}
			typ := receiverType(fn.Recv.List[0].Type)
			if counts[typ] == nil {
				counts[typ] = map[string]int{}
			}
			counts[typ][filepath.Base(path)]++
		}
	}
	return counts, nil
}

// receiverType is the name of a receiver's type: T for T, *T, T[P].
func receiverType(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return fmt.Sprintf("%T", e)
		}
	}
}

// overBudget says which types have more methods than their budget, and
// in which file most of them are: the place to start splitting.
func overBudget(counts map[string]map[string]int) []string {
	var problems []string
	for typ, files := range counts {
		limit := maxTypeMethods
		if typ == "Bot" {
			limit = maxBotMethods
		}
		total, most, mostN := 0, "", 0
		for file, n := range files {
			total += n
			if n > mostN || (n == mostN && file < most) {
				most, mostN = file, n
			}
		}
		if total > limit {
			problems = append(problems, fmt.Sprintf("*%s has %d methods, more than %d; most are in %s (%d): move a part of it onto a type of its own, with its dependencies passed explicitly (as commands, dialogs, clicks and homeTab)",
				typ, total, limit, most, mostN))
		}
	}
	slices.Sort(problems)
	return problems
}
