#!/usr/bin/env bash
# Installs Litestream v0.5.18 from the Go module proxy into .tools/bin (a
# separate binary: it pins its own SQLite, so Lectern never imports it) and
# prints its path. The first build takes ~2.5 minutes; later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
version=v0.5.18
bin=$PWD/.tools/bin/litestream
stamp=$PWD/.tools/bin/.litestream-$version
if [[ ! -x $bin || ! -f $stamp ]]; then
	echo "installing litestream $version (go install)" >&2
	mkdir -p .tools/bin
	GOBIN=$PWD/.tools/bin go install "github.com/benbjohnson/litestream/cmd/litestream@$version" >&2
	touch "$stamp"
fi
echo "$bin"
