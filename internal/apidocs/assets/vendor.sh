#!/bin/sh
# Re-vendors swagger-ui-dist from the npm registry: ./vendor.sh 5.35.0
set -eu
version=${1:?usage: ./vendor.sh VERSION}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "swagger-ui-dist@$version" --silent >/dev/null && tar xzf swagger-ui-dist-*.tgz)
for f in swagger-ui.css swagger-ui-bundle.js LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt; do
  cp "$tmp/package/$f" "$here/$f"
done
(cd "$here" && sha256sum swagger-ui.css swagger-ui-bundle.js)
