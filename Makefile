# The two quick-start commands are "make demo" and "make test" (README.md).
# Both install what is missing first (scripts/setup.sh) and fall back to the
# pure-Go build when OpenBLAS cannot be linked (scripts/cgo-env.sh).

GO ?= go
CGO = $(shell scripts/cgo-env.sh)

.PHONY: demo test build setup setup-test vet bench clean

demo: build
	bin/dlnmf demo

build: setup
	$(CGO) $(GO) build -buildvcs=auto -o bin/dlnmf ./cmd/dlnmf

test: setup-test
	$(CGO) $(GO) vet ./...
	$(CGO) $(GO) tool staticcheck ./...
	CGO_ENABLED=0 $(GO) tool staticcheck ./...
	$(CGO) $(GO) test -count=1 ./...
	CGO_ENABLED=0 $(GO) test -count=1 ./...
	scripts/slurm-test.sh

setup:
	@scripts/setup.sh build

setup-test:
	@scripts/setup.sh test

clean:
	rm -rf bin
