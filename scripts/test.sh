#!/usr/bin/env bash
# Every test suite, in the order CI runs them (`make test` calls this):
#   1. go vet ./...
#   2. go test ./...
#   3. go build → ./lectern (the binary the end-to-end suites start)
#   4. e2e: the SDK suite (e2e/sdk) and the browser suite (e2e/browser), run by
#      Node's own test runner against the real binary; the SDK suite's HTTP
#      exchanges are captured to e2e/artifacts/traffic (e2e/lib/capture.mjs);
#   5. api: every captured exchange validated against the /api/openapi.json of
#      the server that answered it (internal/apidocs TestTrafficMatchesSpec);
#   6. types: `tsc --noEmit` over e2e/types/good.ts (must pass) and bad.ts (must fail)
#      with the types `lectern types` generates;
#   6b. readme: every js/sh block of README.md run against a seeded server
#      (e2e/readme/readme.test.mjs; skips are annotated in the README);
#   7. bench: a one-round smoke of the benchmark suite (all only);
#   8. ops (all only): deploy/k8s validated offline (scripts/k8s-validate.sh),
#      the container image built and run with podman (scripts/container.sh),
#      the Litestream disaster-recovery drill (reliability, LECTERN_DR_DRILL=1).
#
# Usage: scripts/test.sh [all|go|e2e]   (default all; `make test-e2e` is "e2e")
#
# On a fresh machine it installs what the e2e suites need:
#   - the npm packages pinned in e2e/package-lock.json (`npm ci`, only when
#     e2e/node_modules is missing or the lockfile/package.json changed);
#   - Debian's Chromium at /usr/bin/chromium for the browser suite
#     (`apt-get update && apt-get install -y chromium`, when missing and root).
# Nothing downloads a browser of its own: playwright-core drives Debian's.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
# belt and braces: playwright-core never downloads, keep it that way
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# the traffic capture dir is this script's own (set for the e2e step below):
# one inherited from the shell would make `go test ./...` check a stale capture
unset LECTERN_TRAFFIC_DIR

what=${1:-all}
case "$what" in
all | go | e2e) ;;
*)
	echo "usage: $0 [all|go|e2e]" >&2
	exit 2
	;;
esac

timings=()
now() { date +%s.%N; }
# step NAME CMD... runs CMD and records how long it took.
step() {
	local name=$1
	shift
	echo
	echo "==> $name"
	local t0 rc=0 dt
	t0=$(now)
	"$@" || rc=$?
	dt=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
	timings+=("$(printf '%-28s %7ss%s' "$name" "$dt" "$( ((rc)) && echo "  FAILED (exit $rc)")")")
	echo "<== $name: ${dt}s$( ((rc)) && echo ", FAILED (exit $rc)")"
	return "$rc"
}
report() {
	local rc=$?
	if ((${#timings[@]})); then
		echo
		echo "Timings:"
		printf '  %s\n' "${timings[@]}"
	fi
	if ((rc != 0)); then echo "scripts/test.sh: FAILED (exit $rc)" >&2; fi
}
trap report EXIT

# --- stripe-mock ---------------------------------------------------------------
# Stripe's fake of its API for the payment tests (internal/checkout, the
# reliability kill test, e2e): pinned, built once into .tools/ by the script.
ensure_stripe_mock() {
	STRIPE_MOCK_BIN=$(bash scripts/stripe-mock.sh) || return 1
	export STRIPE_MOCK_BIN
	echo "stripe-mock: $STRIPE_MOCK_BIN"
}
step "stripe-mock" ensure_stripe_mock

# --- Go ----------------------------------------------------------------------

# mailpit, the SMTP server the mail tests start (Go and e2e): built once here
# so its minute of compiling is its own step (the tests call the same script)
step "mailpit" bash scripts/mailpit.sh

if [[ $what == all || $what == go ]]; then
	step "go vet" go vet ./...
	# Debian's nginx for the reverse-proxy test (reliability TestNginxProxy);
	# when it cannot be installed here, that test fails and says why
	step "nginx: install" bash scripts/install-nginx.sh || true
	# reliability/ alone took 12 min on 2 busy cores (07:00 run): past go test's 10-minute default
	step "go test" go test -timeout 25m ./...
fi
[[ $what == go ]] && exit 0

step "build ./lectern" make --no-print-directory build

# --- e2e prerequisites ---------------------------------------------------------

ensure_chromium() {
	local bin=${CHROMIUM_PATH:-/usr/bin/chromium}
	if [[ -x $bin ]]; then
		echo "chromium: $("$bin" --version 2>/dev/null || echo "$bin")"
		return
	fi
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		echo "chromium: $bin missing, installing Debian's chromium (apt-get install -y chromium)"
		if DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium && [[ -x $bin ]]; then
			echo "chromium: installed $("$bin" --version 2>/dev/null || true)"
			return
		fi
		export LECTERN_E2E_NO_CHROMIUM="apt-get install -y chromium did not provide $bin (see above)"
	elif [[ $(id -u) != 0 ]]; then
		export LECTERN_E2E_NO_CHROMIUM="$bin is missing and this is not root: run 'sudo apt-get update && sudo apt-get install -y chromium' (or set CHROMIUM_PATH)"
	else
		export LECTERN_E2E_NO_CHROMIUM="$bin is missing and apt-get is not available: install Chromium (or set CHROMIUM_PATH)"
	fi
	echo
	echo "!! chromium: NOT AVAILABLE — the browser tests will be skipped."
	echo "!! why: $LECTERN_E2E_NO_CHROMIUM"
	echo
}

# ensure_node_modules DIR: `npm ci` in DIR when its node_modules is missing or
# its package.json/lockfile changed since the last install.
ensure_node_modules() {
	local dir=$1
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		echo "node and npm are needed for the e2e suites (Node >= 20): install Node.js" >&2
		return 1
	fi
	echo "node $(node --version), npm $(npm --version)"
	local stamp=$dir/node_modules/.lectern-lock.sha256
	local want
	want=$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1) || return 1
	if [[ -d $dir/node_modules && -f $stamp && $(cat "$stamp") == "$want" ]]; then
		echo "$dir/node_modules: up to date with package-lock.json"
		return
	fi
	echo "$dir/node_modules: missing or out of date, running npm ci"
	# (explicit "|| return": set -e does not apply inside a function run by step)
	(cd "$dir" && npm ci --no-audit --no-fund) || return 1
	echo "$want" >"$stamp"
}

step "e2e: npm deps" ensure_node_modules e2e
step "types: npm deps" ensure_node_modules e2e/types
step "e2e: chromium" ensure_chromium

# --- e2e suites ----------------------------------------------------------------

export LECTERN_BIN="$root/lectern"
if [[ -x ${CHROMIUM_PATH:-/usr/bin/chromium} ]]; then export CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}; fi
# the SDK suite records its exchanges here (a fresh capture each run)
traffic=$root/e2e/artifacts/traffic
rm -rf "$traffic"
step "e2e: npm test" env LECTERN_TRAFFIC_DIR="$traffic" bash -c 'cd e2e && npm test --silent'
# the spec tells the truth: each exchange against its server's /api/openapi.json
step "api: traffic vs spec" env LECTERN_TRAFFIC_DIR="$traffic" \
	go test ./internal/apidocs -run '^TestTrafficMatchesSpec$' -count=1 -v
# the generated TypeScript types must accept correct SDK usage and reject wrong lines
step "types: tsc check" bash -c 'cd e2e/types && node check.mjs "$LECTERN_BIN"'
# the README's js and sh blocks, run against a freshly seeded server (e2e/readme);
# bounded: a minute per JS block, three per shell block, 20 in all
step "readme: examples" bash -c 'cd e2e && node --test --test-concurrency=1 --test-timeout=1200000 readme/'

# --- benchmark smoke -------------------------------------------------------------
# Not for its numbers: keeps `go run ./bench` working (small data, one round).
if [[ $what == all ]]; then
	step "bench: smoke" env LECTERN_BENCH_SMOKE=1 go test ./bench -run '^TestSmoke$' -count=1 -timeout 20m
fi

# --- operations -------------------------------------------------------------------
# Each bounded: kubeconform and the schemas (~10 s), the image build and a
# start/stop (~1 min; podman and runc from apt when missing), the drill (one
# kill -9 and restore from S3, ~30 s; Litestream's first build ~2.5 min), and
# the write latency under Litestream side by side (3 × 20 s of writes, ~2 min).
dr_drill() {
	local ls
	ls=$(scripts/install-litestream.sh) || return 1
	LECTERN_DR_DRILL=1 LITESTREAM_BIN=$ls go test ./reliability -run '^(TestDisasterRecoveryDrill|TestLitestreamWriteStalls)$' -count=1 -v -timeout 12m
}
if [[ $what == all ]]; then
	step "ops: k8s manifests" scripts/k8s-validate.sh
	step "ops: container" timeout 900 scripts/container.sh all
	step "ops: dr drill" dr_drill
fi
