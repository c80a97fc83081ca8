#!/usr/bin/env bash
# Installs stripe-mock, Stripe's own fake of its API (it validates every
# request against Stripe's OpenAPI spec and answers with fixtures), pinned,
# into .tools/ and prints the binary's path. The payment tests
# (internal/checkout, reliability, e2e) run it on loopback; the Go tests call
# this script themselves when the binary is missing, and scripts/test.sh
# calls it first so a fresh machine builds it once (~1 minute).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
version=v0.203.0
dir=${STRIPE_MOCK_DIR:-$PWD/.tools/stripe-mock-$version}
bin=$dir/stripe-mock
if [[ ! -x $bin ]]; then
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir/.install-XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "stripe-mock: installing github.com/stripe/stripe-mock@$version" >&2
	GOBIN=$tmp go install "github.com/stripe/stripe-mock@$version" >&2
	# a rename is atomic: test packages installing at once never see half a file
	mv -f "$tmp/stripe-mock" "$bin"
fi
echo "$bin"
