# Lectern's developer commands. `make test` is the command CI runs.
export GOTOOLCHAIN ?= go1.27.3

.PHONY: build serve test test-go test-e2e vet

# `lectern --version` names the build: the tag (or "dev") and the commit,
# "-dirty" when the tree had local changes. A plain `go build` in a git
# checkout gets the commit from Go's own VCS stamp instead.
VERSION ?= $(shell git describe --tags --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
LDFLAGS := -X lectern/internal/ops.version=$(VERSION) -X lectern/internal/ops.commit=$(COMMIT)

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o lectern .

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
