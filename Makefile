# bosun — every entry point CI and developers use. CI runs `.ci/run`, which is `make test`.
SHELL := /bin/bash
CARGO ?= cargo
MUSL := x86_64-unknown-linux-musl
STATIC := target/$(MUSL)/release/bosun

# Debian packages the tests use (installed by tests/deps.sh, which never starts daemons).
TEST_DEPS := python3 procps util-linux bsdutils busybox-static file litmus cadaver davfs2 curl
BENCH_DEPS := $(TEST_DEPS) tini dumb-init catatonit hyperfine

.PHONY: all build static demo test lint fmt bench deps test-deps bench-deps clean

all: build

build:
	$(CARGO) build --release

# A fully static x86_64 binary (musl): runs in Debian, Alpine, busybox and FROM scratch images.
static:
	rustup target list --installed | grep -qx $(MUSL) || rustup target add $(MUSL)
	$(CARGO) build --release --target $(MUSL)
	@file $(STATIC) | grep -q 'static' && echo "$(STATIC): static, $$(stat -c %s $(STATIC)) bytes"

test-deps:
	@tests/deps.sh $(TEST_DEPS)

bench-deps:
	@tests/deps.sh $(BENCH_DEPS)

fmt:
	$(CARGO) fmt

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --quiet

# The whole suite: lint, unit tests, and the integration tests that run bosun as a real PID 1
# in its own namespaces; then the static binary as PID 1.
test: test-deps lint static
	BOSUN_STATIC_BIN=$(CURDIR)/$(STATIC) $(CARGO) test --all-targets

# Run bosun as PID 1 of fresh namespaces with a demo main command. Ctrl-C ends it.
demo: static
	@tests/demo.sh $(STATIC)

# Benchmarks against the anchors, measured in one run; writes BENCHMARKS.md.
bench: bench-deps static
	@mkdir -p target/bench
	tests/bench/pid1.py $(STATIC) > target/bench/pid1.md
	tests/bench/assemble.sh target/bench > BENCHMARKS.md
	@cat BENCHMARKS.md

clean:
	$(CARGO) clean
