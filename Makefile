# bosun — every entry point CI and developers use. CI runs `.ci/run`, which is `make test`.
SHELL := /bin/bash
CARGO ?= cargo
MUSL := x86_64-unknown-linux-musl
STATIC := target/$(MUSL)/release/bosun

# Debian packages the tests use (installed by tests/deps.sh, which never starts daemons): the
# tools the tests drive, the daemons whose own unit files and tmpfiles.d the tests read, and
# debootstrap for the Debian root in which apt-get installs packages under bosun as PID 1, and
# podman (with runc and netavark; catatonit for the pause image of `podman pod`) for the
# container tests of image/'s examples.
TEST_DEPS := python3 python3-venv procps util-linux bsdutils busybox-static file curl litmus cadaver davfs2 rclone rsync \
	libcap2-bin nginx apache2 redis-server memcached postgresql openssh-server cron debootstrap \
	podman runc netavark aardvark-dns iptables podman-compose catatonit
BENCH_DEPS := $(TEST_DEPS) tini dumb-init catatonit hyperfine rsync time apache2-utils supervisor gcc libc6-dev linux-perf
FUZZ_SECONDS ?= 300

.PHONY: all build static demo demo-reset test lint fmt bench deps test-deps bench-deps fuzz fuzz-build clean images corpus

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

# Issue 19's corpus alone: a Debian root with 41 packaged daemons and the systemd package
# (1.2 GB, about 175 MB downloaded once; apt's archives stay under target/tmp/corpus), booted
# under bosun as PID 1; prints a per-daemon report (also in target/tmp/corpus/report.txt). It
# is part of `make test` too; BOSUN_CORPUS=0 skips it there.
corpus: test-deps
	$(CARGO) test --test it -- corpus:: --nocapture

# The examples of image/ as local images (bosun-example/NAME), with podman, or docker when
# podman is missing: each build context gets the static binary first.
ENGINE ?= $(shell command -v podman >/dev/null 2>&1 && echo podman || echo docker)
images: static
	@for dir in image/*/; do \
	  name=$$(basename $$dir); [ -f $$dir/Dockerfile ] || continue; \
	  cp $(STATIC) $$dir/bosun && \
	  $(ENGINE) build -t localhost/bosun-example/$$name:latest $$dir || exit 1; \
	done

# Run bosun as PID 1 of fresh namespaces on a demo image with a data volume kept in
# target/demo/data: first run, then routine starts; BUILD_ID=N brings a new template (an
# upgrade). Ctrl-C ends it. demo-reset forgets the volume.
demo: static
	@BUILD_ID=$(BUILD_ID) tests/demo.sh $(STATIC)

demo-reset:
	rm -rf target/demo

# Benchmarks against the anchors, measured in one run; writes BENCHMARKS.md.
bench: bench-deps static build
	@rm -rf target/bench && mkdir -p target/bench
	tests/bench/pid1.py $(STATIC) > target/bench/1-pid1.md
	{ printf '## Seeding a data volume (`bosun image seed` against `cp -a` and `rsync -aHAX`)\n\nCommand: `make bench` (runs `tests/bench/copy.sh 3`): three cases (20,000 files and 1 GiB on one filesystem; the same files at a first boot, from an overlayfs lower layer into a volume on the host'"'"'s filesystem; 4 files of 1 GiB, one sparse, at a first boot), tools interleaved, a cold page cache before every run (see the script'"'"'s header). Target (issue 22): bosun at least 1.25 times faster than the faster of `cp -a` and `rsync -aHAX` in each case.\n\n'; \
	  BOSUN=$(CURDIR)/target/release/bosun tests/bench/copy.sh 3; } > target/bench/2-copy.md
	{ printf '## WebDAV (`bosun webdav` against Apache mod_dav, both with Digest auth, loopback)\n\nCommand: `make bench` (runs `tests/bench/webdav.sh`): best of the runs each; Apache with `EnableSendfile On` and `EnableMMAP On`. Targets: GET at least 1.3× Apache on 100 MiB and at least level on 10,000 × 4 KiB files, PUT at least 1.5× Apache, PROPFIND at most half Apache'"'"'s time. Both servers send a file body with sendfile(2) under TCP_CORK: perf shows bosun in no user-space code during a GET, only the kernel'"'"'s splice path, and strace shows Apache making the same calls (cork, writev of the head, sendfile, uncork), so on loopback the 100 MiB GET ratio is noise around 1 (0.62 to 1.48 over five runs on 2026-12-06).\n\n```\n'; \
	  BOSUN=$(CURDIR)/target/release/bosun tests/bench/webdav.sh; printf '```\n'; } > target/bench/3-webdav.md
	tests/bench/services.py $(STATIC) > target/bench/4-services.md
	tests/bench/sandbox.py $(STATIC) > target/bench/4b-sandbox.md
	tests/bench/control.py $(STATIC) > target/bench/5-control.md
	tests/bench/containers.py $(STATIC) > target/bench/6-containers.md
	tests/bench/corpus.py $(STATIC) > target/bench/7-corpus.md
	tests/bench/timeline.py $(STATIC) > target/bench/7b-timeline.md
	tests/bench/journal.py $(STATIC) > target/bench/8-journal.md
	tests/bench/assemble.sh target/bench > BENCHMARKS.md
	@cat BENCHMARKS.md

# Fuzzing (nightly toolchain and cargo-fuzz, installed here if missing).
fuzz-build:
	rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	cd fuzz && cargo +nightly fuzz build unit_parser
	cd fuzz-webdav && cargo +nightly fuzz build

# The unit-file parser for FUZZ_SECONDS (default 300), seeded with every fixture and example.
fuzz: fuzz-build
	mkdir -p fuzz/corpus/unit_parser
	cp tests/fixtures/units/good/* unit-examples/*.service unit-examples/*.target fuzz/corpus/unit_parser/
	cp tests/fixtures/units/bad/*.service tests/fixtures/units/bad/*.socket tests/fixtures/units/bad/*.timer fuzz/corpus/unit_parser/ 2>/dev/null || true
	cd fuzz && cargo +nightly fuzz run unit_parser corpus/unit_parser -- -max_total_time=$(FUZZ_SECONDS)

clean:
	$(CARGO) clean
