#!/usr/bin/env bash
# Offline govulncheck. The machines that build Lectern reach the Go module proxy
# but not vuln.go.dev, so the vulnerability database is built from a pinned
# golang.org/x/vulndb module (its data/osv reports) and govulncheck reads it as
# a file:// database. Exits non-zero only when our code reaches a vulnerable symbol.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}

VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018 # bump to refresh the database
GOVULNCHECK_VERSION=v1.9.0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

src=$(go mod download -json "golang.org/x/vulndb@${VULNDB_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
GOFLAGS=-mod=mod go run "golang.org/x/vulndb/cmd/indexdb@${VULNDB_VERSION}" -vulns "$src/data/osv" -out "$work/db"
go run "golang.org/x/vuln/cmd/govulncheck@${GOVULNCHECK_VERSION}" -db "file://$work/db" ./...
