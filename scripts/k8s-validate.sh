#!/usr/bin/env bash
# Validates deploy/k8s/ offline: kubeconform v0.8.0 (installed into .tools/bin
# from the Go module proxy) against JSON schemas generated from the k8s.io/api
# v0.37.2 types by tools/k8sschema (closed objects, required fields from the
# types' json tags). Then proves the check bites: a wrong type, an unknown
# field and a missing selector, each made from the real deployment, must fail.
# Also checks that the Litestream ConfigMap is deploy/litestream.yml verbatim.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}

kc=$root/.tools/bin/kubeconform
if [[ ! -x $kc || ! -f $root/.tools/bin/.kubeconform-v0.8.0 ]]; then
	echo "installing kubeconform v0.8.0 (go install)"
	mkdir -p .tools/bin
	GOBIN=$root/.tools/bin go install github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0
	touch .tools/bin/.kubeconform-v0.8.0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd tools/k8sschema && go run . -out "$work/schemas")
validate() {
	"$kc" -strict -summary -schema-location "$work/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$@"
}

echo "--- deploy/k8s"
validate deploy/k8s/*.yaml

echo "--- broken manifests (each must fail)"
python3 - "$work" <<'PY'
import re, sys
work = sys.argv[1]
src = open("deploy/k8s/deployment.yaml").read()
cases = {
    # a string where an integer belongs
    "wrong-type": src.replace("  replicas: 1\n", '  replicas: "one"\n', 1),
    # a misspelt field (replica for replicas) is unknown
    "unknown-field": src.replace("  replicas: 1\n", "  replica: 1\n", 1),
    # the selector dropped
    "missing-selector": re.sub(r"  selector:\n    matchLabels:\n      app.kubernetes.io/name: lectern\n", "", src, count=1),
    # a probe port that is neither a number nor a name
    "probe-port-object": src.replace("              port: http\n", "              port: {name: http}\n", 1),
}
for name, text in cases.items():
    if text == src:
        sys.exit(f"broken case {name}: the edit did not apply to deployment.yaml")
    open(f"{work}/{name}.yaml", "w").write(text)
PY
fails=0
for f in "$work"/wrong-type.yaml "$work"/unknown-field.yaml "$work"/missing-selector.yaml "$work"/probe-port-object.yaml; do
	if out=$(validate "$f" 2>&1); then
		echo "NOT CAUGHT: $(basename "$f" .yaml) passed validation" >&2
		fails=1
	else
		echo "caught $(basename "$f" .yaml): $(echo "$out" | grep -o " - at '.*" | head -n 1 | cut -c4-200)"
	fi
done

echo "--- the Litestream ConfigMap is deploy/litestream.yml"
if ! sed -n '/^  litestream.yml: |$/,$p' deploy/k8s/configmap-litestream.yaml | tail -n +2 | sed 's/^    //' | diff -u deploy/litestream.yml -; then
	echo "deploy/k8s/configmap-litestream.yaml differs from deploy/litestream.yml" >&2
	fails=1
fi
exit "$fails"
