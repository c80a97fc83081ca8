# Lectern's developer commands. `make test` is the command CI runs.
export GOTOOLCHAIN ?= go1.27.3

.PHONY: build serve test test-go vet

build:
	CGO_ENABLED=0 go build -trimpath -o lectern .

serve: build
	./lectern serve

vet:
	go vet ./...

test-go:
	go test ./...

test: vet test-go
