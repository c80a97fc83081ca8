# Lectern's developer commands. `make test` is the command CI runs.
export GOTOOLCHAIN ?= go1.27.3

.PHONY: build serve test test-go test-e2e vet

build:
	CGO_ENABLED=0 go build -trimpath -o lectern .

serve: build
	./lectern serve

vet:
	go vet ./...

test-go:
	go test ./...

# Everything CI runs: go vet, go test, then ./lectern built and the end-to-end
# suites (JS SDK + headless Chromium) against it. scripts/test.sh installs the
# npm packages and Debian's chromium when they are missing.
test:
	bash scripts/test.sh all

# Build ./lectern and run only the e2e suites (e2e/sdk, e2e/browser).
test-e2e:
	bash scripts/test.sh e2e
