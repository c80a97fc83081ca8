package reliability

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tests"

	_ "lectern/migrations"
)

// TestRuleMutations is mutation testing of the access rules: every
// collection × action rule of the migrations is loosened in turn — to ""
// (public) and to `@request.auth.id != ""` (anyone signed in) — and the
// authorization matrix (hooks.TestAuthzMatrix, 776 scenarios) is run against
// a fixture built with the mutated rule (LECTERN_RULE_MUTATION, read by
// hooks/mutation_env_test.go). Every mutant must make at least one scenario
// fail. A mutant that survives the matrix rows of its own collection is run
// against the whole matrix before it counts as a survivor.
//
// By default each rule gets one mutant — anyone signed in, or public where
// that is the rule already or the signed-in mutant is equivalent — 40 in
// all; LECTERN_MUTATIONS=all runs both mutants of every rule (76). A mutant
// identical to the rule is skipped; `@request.auth.id != ""` for a rule that
// only adds `@request.auth.collectionName = "users"` is equivalent (the only
// other auth collection is _superusers, whose members bypass every rule) and
// reported as such, not as a survivor.
func TestRuleMutations(t *testing.T) {
	skipShort(t)
	root := repoRoot(t)
	bin := filepath.Join(t.TempDir(), "hooks.test")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, "./hooks")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c ./hooks: %v\n%s", err, out)
	}
	hooksDir := filepath.Join(root, "hooks")

	// the control: the unmutated matrix passes, or no kill means anything
	if res := runMatrix(t, bin, hooksDir, "", ""); !res.passed {
		t.Fatalf("the authz matrix fails without any mutation:\n%s", tail(res.output, 3000))
	}

	rules := migratedRules(t)
	all := os.Getenv("LECTERN_MUTATIONS") == "all"
	type mutant struct{ collection, action, from, to string }
	var mutants []mutant
	skipped := 0
	for _, r := range rules {
		from := "null"
		if r.rule != nil {
			from = *r.rule
		}
		var tos []string
		for _, to := range []string{signedIn, ""} {
			if from == to || (!all && isEquivalent(from, to)) {
				skipped++
				continue
			}
			tos = append(tos, to)
		}
		if !all && len(tos) > 1 {
			// by default one mutant a rule: anyone signed in, the
			// subtler loosening (a student's row must catch it)
			tos, skipped = tos[:1], skipped+1
		}
		for _, to := range tos {
			mutants = append(mutants, mutant{r.collection, r.action, from, to})
		}
	}

	tried, caught := 0, 0
	var equivalent, survivors []string
	began := time.Now()
	for _, mu := range mutants {
		tried++
		spec := mu.collection + ":" + mu.action + ":" + mu.to
		res := runMatrix(t, bin, hooksDir, spec, "^TestAuthzMatrix$/^"+mu.collection+"$")
		if res.passed && !isEquivalent(mu.from, mu.to) {
			res = runMatrix(t, bin, hooksDir, spec, "^TestAuthzMatrix$")
		}
		label := fmt.Sprintf("%s %s: %q → %q", mu.collection, mu.action, mu.from, mu.to)
		switch {
		case res.broken != "":
			t.Errorf("mutant %s: the test binary did not run the matrix: %s", label, res.broken)
		case !res.passed:
			caught++
			t.Logf("caught  %s by %s", label, res.killer)
		case isEquivalent(mu.from, mu.to):
			equivalent = append(equivalent, label)
			t.Logf("equivalent %s", label)
		default:
			survivors = append(survivors, label)
		}
	}
	report(t, "mutations", "| rules | mutants tried | caught | equivalent (not counted) | survived | not tried (identical, equivalent or default subset) | time |",
		fmt.Sprintf("| %d | %d | %d | %d | %d | %d | %s |", len(rules), tried, caught, len(equivalent), len(survivors), skipped, time.Since(began).Round(time.Second)))
	for _, s := range survivors {
		t.Errorf("mutant survived the whole authz matrix: %s", s)
	}

	// The filter guard is a mechanism, not a rule: unregistering it
	// (LECTERN_GUARD_MUTATION=off, read by hooks/export_test.go) must make
	// the generated leak test fail.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel2()
	cmd := exec.CommandContext(ctx2, bin, "-test.run", "^TestFilterLeaks$", "-test.count=1")
	cmd.Dir = hooksDir
	cmd.Env = append(os.Environ(), "LECTERN_RULE_MUTATION=", "LECTERN_GUARD_MUTATION=off")
	out, err := cmd.CombinedOutput()
	switch {
	case err == nil:
		t.Errorf("mutant survived: TestFilterLeaks passes with the filter guard unregistered")
	case !strings.Contains(string(out), " learns "):
		t.Errorf("filter guard mutant: TestFilterLeaks failed for another reason:\n%s", tail(string(out), 1500))
	default:
		t.Logf("caught  filter guard unregistered by TestFilterLeaks")
	}

	// The signed-in read specialization (internal/authrules) is a mechanism
	// too: its cache keyed by the caller's id instead of the values the rule
	// reads (LECTERN_AUTHRULES_MUTATION=stale, read by hooks/export_test.go)
	// must make the role-change test fail — a demoted admin would keep
	// reading drafts.
	ctx3, cancel3 := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel3()
	cmd = exec.CommandContext(ctx3, bin, "-test.run", "^TestAuthzRoleChangeAppliesNextRequest$", "-test.count=1")
	cmd.Dir = hooksDir
	cmd.Env = append(os.Environ(), "LECTERN_RULE_MUTATION=", "LECTERN_AUTHRULES_MUTATION=stale")
	out, err = cmd.CombinedOutput()
	switch {
	case err == nil:
		t.Errorf("mutant survived: TestAuthzRoleChangeAppliesNextRequest passes with the authrules cache keyed by user")
	case !strings.Contains(string(out), "--- FAIL: TestAuthzRoleChangeAppliesNextRequest"):
		t.Errorf("authrules mutant: the role-change test failed for another reason:\n%s", tail(string(out), 1500))
	default:
		t.Logf("caught  authrules cache keyed by user by TestAuthzRoleChangeAppliesNextRequest")
	}

	// Its pinned-rows rewrite decides a rule's course parts once for a page
	// whose filter pins the course; taking a term of an OR for a pin
	// (LECTERN_AUTHRULES_MUTATION=pin-or) answers one course's rows with
	// another's: the matrix's filtered lessons lists must fail.
	ctx4, cancel4 := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel4()
	cmd = exec.CommandContext(ctx4, bin, "-test.run", "^TestAuthzMatrix$/^lessons$", "-test.count=1")
	cmd.Dir = hooksDir
	cmd.Env = append(os.Environ(), "LECTERN_RULE_MUTATION=", "LECTERN_AUTHRULES_MUTATION=pin-or")
	out, err = cmd.CombinedOutput()
	switch {
	case err == nil:
		t.Errorf("mutant survived: the lessons rows of TestAuthzMatrix pass with an OR taken for a pin")
	case !strings.Contains(string(out), "lists_of_two_courses_lessons"):
		t.Errorf("authrules pin mutant: the matrix failed for another reason:\n%s", tail(string(out), 1500))
	default:
		t.Logf("caught  authrules pin taken from an OR by TestAuthzMatrix/lessons")
	}

	// … and keeps a page's check answers until the next write; a key that
	// leaves the caller out (LECTERN_AUTHRULES_MUTATION=answer-key) hands one
	// student's enrollment to another.
	ctx5, cancel5 := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel5()
	cmd = exec.CommandContext(ctx5, bin, "-test.run", "^TestAuthzPinnedPagesFollowWrites$", "-test.count=1")
	cmd.Dir = hooksDir
	cmd.Env = append(os.Environ(), "LECTERN_RULE_MUTATION=", "LECTERN_AUTHRULES_MUTATION=answer-key")
	out, err = cmd.CombinedOutput()
	switch {
	case err == nil:
		t.Errorf("mutant survived: TestAuthzPinnedPagesFollowWrites passes with the caller left out of the kept answers' key")
	case !strings.Contains(string(out), "--- FAIL: TestAuthzPinnedPagesFollowWrites"):
		t.Errorf("authrules answer-key mutant: the test failed for another reason:\n%s", tail(string(out), 1500))
	default:
		t.Logf("caught  authrules answers keyed without the caller by TestAuthzPinnedPagesFollowWrites")
	}
}

const signedIn = `@request.auth.id != ""`

// isEquivalent reports a mutant no test can tell from the rule: dropping
// `@request.auth.collectionName = "users"` from a signed-in check, as the
// only other auth collection is _superusers, whose members bypass rules.
func isEquivalent(from, to string) bool {
	return to == signedIn && strings.TrimSuffix(from, ` && @request.auth.collectionName = "users"`) == signedIn
}

type ruleOf struct {
	collection, action string
	rule               *string
}

// migratedRules reads every Lectern collection's rules from a freshly
// migrated app.
func migratedRules(t testing.TB) []ruleOf {
	t.Helper()
	app, err := tests.NewTestApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()
	var out []ruleOf
	for _, name := range []string{"users", "topics", "posts", "comments", "courses", "lessons", "enrollments", "reviews"} {
		c, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out,
			ruleOf{name, "list", c.ListRule}, ruleOf{name, "view", c.ViewRule}, ruleOf{name, "create", c.CreateRule},
			ruleOf{name, "update", c.UpdateRule}, ruleOf{name, "delete", c.DeleteRule})
	}
	return out
}

type matrixResult struct {
	passed bool
	killer string // the first failing scenario
	broken string // the run failed for another reason than a scenario
	output string
}

var failLine = regexp.MustCompile(`--- FAIL: (TestAuthzMatrix/[^/\s]+/\S+)`)

// runMatrix runs the compiled hooks tests with one mutation (none when spec
// is ""), stopping at the first failing scenario.
func runMatrix(t testing.TB, bin, dir, spec, run string) matrixResult {
	t.Helper()
	if run == "" {
		run = "^TestAuthzMatrix$"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.run", run, "-test.failfast", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LECTERN_RULE_MUTATION="+spec)
	if spec == "" {
		cmd.Env = append(os.Environ(), "LECTERN_RULE_MUTATION=")
	}
	out, err := cmd.CombinedOutput()
	res := matrixResult{passed: err == nil, output: string(out)}
	if err != nil {
		if m := failLine.FindStringSubmatch(res.output); m != nil {
			res.killer = m[1]
		} else {
			res.broken = tail(res.output, 1500)
		}
	} else if !strings.Contains(res.output, "PASS") {
		res.broken = "no PASS line: " + tail(res.output, 500)
	}
	return res
}
