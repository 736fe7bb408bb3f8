# The two quick-start commands are "make demo" and "make test" (README.md).
# Both install what is missing first (scripts/setup.sh) and fall back to the
# pure-Go build when OpenBLAS cannot be linked (scripts/cgo-env.sh).

GO ?= go
CGO = $(shell scripts/cgo-env.sh)

.PHONY: demo test build python setup setup-test vet bench clean

demo: build
	bin/dlnmf demo

build: setup
	$(CGO) $(GO) build -buildvcs=auto -o bin/dlnmf ./cmd/dlnmf
	@if command -v gcc >/dev/null; then GO=$(GO) scripts/build-python-lib.sh; \
	else echo "build: no C compiler (gcc), so no shared library for the Python package" >&2; fi

# The shared library of the Python package (python/dlnmf/libdlnmf.so).
python: setup
	GO=$(GO) scripts/build-python-lib.sh

test: setup-test
	$(CGO) $(GO) vet ./...
	$(CGO) $(GO) tool staticcheck ./...
	CGO_ENABLED=0 $(GO) tool staticcheck ./...
	$(CGO) $(GO) test -count=1 ./...
	CGO_ENABLED=0 $(GO) test -count=1 ./...
	scripts/slurm-test.sh
	GO=$(GO) scripts/build-python-lib.sh
	scripts/python-test.sh

setup:
	@scripts/setup.sh build

setup-test:
	@scripts/setup.sh test

clean:
	rm -rf bin python/dlnmf/libdlnmf.so python/build python/dlnmf.egg-info
