package reliability

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBuildsNameTheirCommit: `lectern --version` tells an operator what runs,
// however the binary was built. A plain `go build` in a git checkout (Go's
// own VCS stamp, read through runtime/debug.ReadBuildInfo) names the commit,
// and the Dockerfile's build command, with the build arguments its header
// documents, names the version and commit it was given. (`make build` and the
// CI image built from it are checked by scripts/container.sh.) Each build
// goes into a temp dir, bounded by a timeout.
func TestBuildsNameTheirCommit(t *testing.T) {
	skipShort(t)
	root := repoRoot(t)
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout (or no git): %v", err)
	}
	commit := strings.TrimSpace(string(head))[:12]
	dir := t.TempDir()

	t.Run("go build with -buildvcs=true", func(t *testing.T) {
		bin := filepath.Join(dir, "lectern-vcs")
		// -buildvcs on the command line wins over a GOFLAGS=-buildvcs=false
		// (a machine or CI setting)
		goBuild(t, root, nil, "build", "-buildvcs=true", "-o", bin, ".")
		got := runVersion(t, bin)
		t.Log(got)
		if !strings.Contains(got, "(commit "+commit) {
			t.Errorf("lectern --version = %q, want it to name commit %s", got, commit)
		}
	})

	t.Run("the Dockerfile's build command", func(t *testing.T) {
		df, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*) -o /out/lectern \.$`).FindSubmatch(df)
		if m == nil {
			t.Fatal("no `RUN CGO_ENABLED=0 go build … -o /out/lectern .` line in the Dockerfile")
		}
		bin := filepath.Join(dir, "lectern-docker")
		// RUN is a shell command; Docker passes the ARGs as its environment
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-c", string(m[1])+` -o "$OUT" .`)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "VERSION=v9.8.7-test", "COMMIT=0123456789ab", "OUT="+bin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", m[1], err, out)
		}
		got := runVersion(t, bin)
		t.Log(got)
		// cobra names the binary: "lectern-docker version v9.8.7-test (commit …"
		if !strings.Contains(got, " version v9.8.7-test (commit 0123456789ab") {
			t.Errorf("lectern --version = %q, want version v9.8.7-test and commit 0123456789ab", got)
		}
	})
}

func goBuild(t *testing.T, dir string, env []string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func runVersion(t *testing.T, bin string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
	return strings.TrimSpace(string(out))
}
