#!/usr/bin/env bash
# Installs mailpit, the SMTP server (with a REST API to read what it caught)
# that the mail tests start on loopback, and prints the binary's path.
# mailpit runs as a separate process, never imported: its go.mod pins other
# SQLite versions than PocketBase's.
#
# Idempotent: when the pinned version is already built it only prints the path.
# The binary goes to $MAILPIT_DIR (default: <go env GOPATH>/bin/mailpit-<version>/).
set -euo pipefail
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}

MAILPIT_VERSION=v1.33.1

dir=${MAILPIT_DIR:-$(go env GOPATH)/bin/mailpit-$MAILPIT_VERSION}
bin=$dir/mailpit
if [[ ! -x $bin ]]; then
	mkdir -p "$dir"
	# a lock so that test packages starting in parallel build it once
	exec 9>"$dir/.lock"
	flock 9
	if [[ ! -x $bin ]]; then
		echo "mailpit: installing github.com/axllent/mailpit@$MAILPIT_VERSION (about a minute)" >&2
		GOBIN=$dir CGO_ENABLED=0 go install "github.com/axllent/mailpit@$MAILPIT_VERSION"
	fi
fi
echo "$bin"
