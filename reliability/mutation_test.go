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

	// The mechanisms that are not rules, each broken on purpose through an
	// environment variable read by hooks/export_test.go, must each make the
	// named hooks test fail, and for the reason given (its output holds sign).
	for _, m := range []struct {
		what, env, run, sign string
	}{
		// unregistering the filter guard: the generated leak test
		{"filter guard unregistered", "LECTERN_GUARD_MUTATION=off", "^TestFilterLeaks$", " learns "},
		// internal/authrules' cache keyed by the caller's id instead of the
		// values the rule reads: a demoted admin would keep reading drafts
		{"authrules cache keyed by user", "LECTERN_AUTHRULES_MUTATION=stale", "^TestAuthzRoleChangeAppliesNextRequest$",
			"--- FAIL: TestAuthzRoleChangeAppliesNextRequest"},
		// its pinned-rows rewrite taking a term of an OR for a pin: one
		// course's rows answered with another's
		{"authrules pin taken from an OR", "LECTERN_AUTHRULES_MUTATION=pin-or", "^TestAuthzMatrix$/^lessons$", "lists_of_two_courses_lessons"},
		// its kept check answers keyed without the caller: one student's
		// enrollment handed to another
		{"authrules answers keyed without the caller", "LECTERN_AUTHRULES_MUTATION=answer-key", "^TestAuthzPinnedPagesFollowWrites$",
			"--- FAIL: TestAuthzPinnedPagesFollowWrites"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		cmd := exec.CommandContext(ctx, bin, "-test.run", m.run, "-test.count=1")
		cmd.Dir = hooksDir
		cmd.Env = append(os.Environ(), "LECTERN_RULE_MUTATION=", m.env)
		out, err := cmd.CombinedOutput()
		cancel()
		switch {
		case err == nil:
			t.Errorf("mutant survived: %s passes with the %s", m.run, m.what)
		case !strings.Contains(string(out), m.sign):
			t.Errorf("%s: %s failed for another reason:\n%s", m.what, m.run, tail(string(out), 1500))
		default:
			t.Logf("caught  %s by %s", m.what, m.run)
		}
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
