# Two commands: `make demo` runs the bridge locally and shows what it does; `make test` runs
# every check. Both install what they need into .venv (cargo-lambda, SAM CLI, moto).
# The inner loop is `make check`: fmt, clippy, the structure rules and every test that needs
# no AWS stand-in and no SAM (tests that need moto_server sit in `moto` modules, skipped).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := $(CURDIR)/.venv
STAMP := $(VENV)/.installed
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
REGION ?= eu-west-1

# The pinned toolchain (rust-toolchain.toml) before any cargo call.
PINNED := $(shell ./scripts/pin-toolchain.sh)

# The venv's bin first: `cargo lambda`, zig (for sam build), sam, moto_server.
export PATH := $(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0
export MOTO_SERVER := $(VENV)/bin/moto_server

.PHONY: help tools browser admin deploy deploy-permissions release demo bench bench-backfill check test fmt lint structure unit code-checks stack-checks local-invoke sam-validate security-scan sam-build fuzz flood chaos soak clean

help:
	@echo "make demo   run the three functions locally on every sample event (no AWS, no internet)"
	@echo "make deploy build for arm64 and deploy the stack to your AWS account (sam deploy --guided), install bridge-admin"
	@echo "make deploy-permissions  the IAM actions a first deploy needs, and the AWS CLI call that checks yours"
	@echo "make release  everything a release holds, in target/bridge-release/: function zips, template, console, sums (checked)"
	@echo "make admin  install the operator's console, bridge-admin, into .venv/bin"
	@echo "make check  the inner loop (~30 s warm): fmt, clippy, structure, every test that needs no moto, SAM or browser"
	@echo "make test   the full gate: make check's, plus the moto tests, demo smoke, local invoke, sam validate --lint, checkov, sam build"
	@echo "make fuzz   cargo fuzz on every parser, FUZZ_SECONDS each (default 60); executions and crashes per target"
	@echo "make chaos  the real worker and webhook binaries under crashes, throttled and conflicting state writes, cut connections, a deploy halfway and a failing Connectif"
	@echo "make flood  the webhook handler under a 60 s mixed flood, in-memory queue then moto_server (loopback)"
	@echo "make soak   an hour at 50 posts/s through the release webhook and workers: warm p99, queue age, memory per minute"
	@echo "make bench  performance goals, PASS/FAIL: cold start, warm CPU, memory, sizes, worker throughput (minutes)"

$(STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

$(CHECKOV_STAMP): requirements-scan.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-scan.txt
	touch $@

tools: $(STAMP)

# Debian's Chromium and ChromeDriver, for the release page's browser test (the `browser`
# module of the bridge tests): installed once, by apt, as the machine's own packages.
CHROMEDRIVER := /usr/bin/chromedriver
browser:
	@test -x $(CHROMEDRIVER) || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -qq chromium chromium-driver > /dev/null 2>&1 || \
	  { $$SUDO apt-get update -qq > /dev/null && $$SUDO apt-get install -y -qq chromium chromium-driver > /dev/null; }; }
	@$(CHROMEDRIVER) --version

# The operator's console (`bridge-admin`), installed into .venv/bin.
admin: tools
	cargo install --quiet --locked --path admin --root $(VENV)

# Deploy to the AWS account of the shell's credentials: the arm64 build, then `sam deploy`
# guided (its answers saved in samconfig.toml; `make deploy GUIDED=` deploys them again
# without questions), and bridge-admin into .venv/bin for `bridge-admin setup`.
GUIDED ?= --guided
deploy: sam-build admin
	sam deploy $(GUIDED)
	@echo 'Next: export PATH="$(VENV)/bin:$$PATH"; bridge-admin setup <channel>   (docs/first-deployment.md)'

# The IAM actions a deploy needs (deploy-role.yaml's) and how to check yours before building.
deploy-permissions: tools
	$(VENV)/bin/python scripts/deploy-permissions.py

# PREBUILT=1 (make test): the debug binaries its `cargo build --all-targets` made, not a build of
# their own (the same code; a second debug build, with the features of a plain build, was
# two minutes of the gate's longest lane).
demo: tools
	$(VENV)/bin/python scripts/demo.py $(if $(PREBUILT),--prebuilt)

# `sam local invoke --env-vars events/env.json` without Docker: the env file matches the
# template, and the same environment and every sample event answer OK through cargo lambda,
# touching no AWS endpoint.
local-invoke: tools
	$(VENV)/bin/python scripts/local-invoke.py $(if $(PREBUILT),--prebuilt)

fmt:
	cargo fmt --all -- --check

# All but the usual-way webhook of `make bench` (the AWS SDK with its default features: aws-lc's
# C build and a second HTTP stack, minutes of every CI run for code nothing ships).
lint:
	cargo clippy --workspace --exclude bench-usual-webhook --all-targets -- -D warnings

# House rules of the code (file and function sizes, imports one way): see the script. The
# docs/operations.md's dashboard picture must be the one the template's dashboard gives.
structure:
	$(PYTHON) scripts/check-structure.py
	$(PYTHON) scripts/check-structure.py --self-test
	$(PYTHON) scripts/render-dashboard.py --check
	$(PYTHON) scripts/check-sizes.py --self-test
	$(PYTHON) scripts/set-repository.py --self-test

# Every test of the default members (the benches are built by `make bench`; clippy checks
# them here). The moto tests of the two binaries that have them (check-structure.py allows
# them nowhere else) run beside the rest and beside each other: they mostly wait on
# moto_server and on timers.
unit: tools
	mkdir -p target
	cargo test --no-run
	cargo test --test bridge -- moto:: > target/test-bridge-moto.txt 2>&1 & bridge=$$!; \
	cargo test --test console -- moto:: > target/test-console-moto.txt 2>&1 & console=$$!; \
	status=0; cargo test -- --skip moto:: 2>&1 | tee target/test-output.txt || status=1; \
	wait $$bridge || status=1; wait $$console || status=1; \
	cat target/test-bridge-moto.txt target/test-console-moto.txt | tee -a target/test-output.txt; \
	exit $$status

# The inner loop: no virtualenv, no moto, no SAM, no browser.
check: fmt lint structure
	mkdir -p target
	cargo test -- --skip moto:: --skip browser:: 2>&1 | tee target/check-output.txt
	@awk '/^test result:/ { p += $$4; f += $$6; s += $$12 } END { printf "make check: %d passed, %d failed (%d moto and browser tests left to make test)\n", p, f, s }' target/check-output.txt

# The two lanes of `make test` after the tests are built. The stack's lane waits a few
# seconds so that the tests take cargo's build lock first (each `cargo test` holds it only
# while it checks that its binaries are fresh; a build beside them would hold it minutes).
code-checks: tools $(CHECKOV_STAMP)
	$(MAKE) -j1 unit sam-validate security-scan

stack-checks: tools
	sleep 5
	# The release is built and checked here, not published: the placeholder repository is
	# allowed (a real `make release` refuses it).
	# Only the aarch64 console (it shares the functions' compiled crates): the x86_64 one is a
	# second full compile (another target and profile) that the release workflow makes; its
	# code is compiled for x86_64 by the tests already.
	# The release first: its one build makes the functions `sam build` then only packages.
	nice -n 10 $(MAKE) -j1 demo local-invoke release sam-build ALLOW_PLACEHOLDER=1 CONSOLES=aarch64 PREBUILT=1

sam-validate: tools
	sam validate --lint --region $(REGION)
	cfn-lint deploy-role.yaml
	$(VENV)/bin/python scripts/deploy-permissions.py --self-test

# checkov on the template: every finding fixed, or skipped in the resource's Metadata with a
# one-line reason. --skip-download: no call to the vendor's API (offline, same result).
security-scan: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov -f template.yaml -f deploy-role.yaml --framework cloudformation --compact --quiet --skip-download
	$(CHECKOV_VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

# The seven functions, as `sam build` builds them (`cargo lambda build --release --arm64 --bin
# <function>` from the workspace root), but in one cargo-lambda run first: cargo links them two
# at a time (each link is LTO with one codegen unit, one core), and `sam build` then finds
# every binary fresh and only packages it. `--no-cached`: SAM's cache would checksum the whole
# code folder (target/ included, gigabytes) for each function, about 75 s a build, for
# nothing cargo does not already do.
FUNCTIONS := shipment-webhook return-webhook order-webhook delivery-worker reconciler backfill-worker release-page
sam-build: tools
	# Lambda runs arm64: the Rust standard library for that target (no-op when present).
	rustup target add aarch64-unknown-linux-gnu
	cargo lambda build --release --arm64 $(addprefix --bin ,$(FUNCTIONS))
	sam build --no-cached
	$(PYTHON) scripts/check-sizes.py

# The full gate. The virtualenvs are installed while clippy compiles (pip mostly waits on the
# network and the disk). Then the tests are built, and run (they mostly wait on moto_server
# and on timers) beside the stack's checks, which compile the functions as `cargo lambda`
# builds them (features without the tests', so most crates compile again) and for arm64, at
# a lower CPU priority so the tests keep theirs. (Building the tests beside the arm64 build
# was measured slower on 2 cores: both compile.)
test:
	$(MAKE) fmt structure
	$(MAKE) -j3 --output-sync=line lint tools browser $(CHECKOV_STAMP)
	# The tests and, with the same features, every function binary (the demo runs those).
	cargo build --all-targets
	$(MAKE) -j2 --output-sync=target code-checks stack-checks
	@echo "make test: all checks passed"
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "tests: %d passed, %d failed\n", p, f }' target/test-output.txt

clean:
	cargo clean
	rm -rf .aws-sam target/demo

# The hot path's criterion benches; cold start, first invoke, warm CPU, memory and size of
# the real release binaries, side by side with a bare Rust Lambda (Runtime API on loopback,
# Secrets Manager and SQS on moto_server and on an instant fake); the arm64 sizes of
# `sam build`; the delivery worker's throughput. Prints each goal with PASS/FAIL. Not part of
# `make test` (release builds, several minutes).
COLD ?= 30
WARM ?= 1000
EVENTS ?= 20000
# A release, built and checked here: the seven functions as arm64 Lambda zips (cargo lambda),
# the template pointing at them (for `sam package` and `sam publish`), README and licenses,
# the console for Linux aarch64 (release profile: it shares the functions' compiled crates)
# and x86_64 (cargo-dist's profile: thin LTO builds it in half the time) with cargo lambda's
# zig (glibc 2.26+; `CONSOLES=aarch64` builds only the first: make test's check), SHA-256 sums;
# then scripts/check-release.py (artifacts, sums, sizes, sam validate --lint, checkov, and
# `sam package` against S3 on moto_server). The release workflow publishes what this builds.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
RELEASE_DIR := target/bridge-release/v$(VERSION)
CONSOLES ?= aarch64,x86_64
release: tools $(CHECKOV_STAMP)
	# One cargo run for the functions and the aarch64 console: cargo compiles the console's own
	# crates while the functions' single-threaded LTO links run (2026-12-04, 2 cores, cold:
	# 402 s, against 319 s + 193 s one after the other). The second run only copies the console.
	cargo lambda build --release --arm64 --output-format zip $(addprefix --bin ,$(FUNCTIONS) bridge-admin)
	cargo lambda build --release --arm64 --bin bridge-admin
	$(if $(findstring x86_64,$(CONSOLES)),cargo lambda build --profile dist --x86-64 --bin bridge-admin --lambda-dir target/lambda-x86_64)
	$(PYTHON) scripts/release.py $(RELEASE_DIR) $(VERSION) --consoles $(CONSOLES)
	$(VENV)/bin/python scripts/check-release.py $(RELEASE_DIR) $(if $(ALLOW_PLACEHOLDER),--allow-placeholder) --consoles $(CONSOLES)

bench: sam-build
	# Separately: built together, bridge-bench's dependencies would add features to the
	# webhook's (cargo unifies them), and the binary measured would not be the one deployed.
	# First the builds that trust the TLS stand-ins' certificate (feature bench-ca), kept
	# aside; then the deployed builds, which refuse it (the bench shows it); then the
	# usual-way webhook (the SDK's default features), on its own for the same reason.
	cargo build --release $(addprefix -p ,$(FUNCTIONS)) --features bridge-core/bench-ca
	for f in $(FUNCTIONS); do cp target/release/$$f target/release/$$f-bench-ca; done
	cargo build --release $(addprefix -p ,$(FUNCTIONS))
	cargo build --release -p bench-usual-webhook
	cargo build --release -p bridge-bench
	cargo bench -p bridge-bench --bench hot_path
	# The harness's own unit tests (the memory sizes' CPU quotas).
	cargo test --release -p bridge-bench --lib
	status=0; \
	target/release/coldstart $(COLD) $(WARM) || status=1; \
	target/release/throughput $(EVENTS) || status=1; \
	exit $$status

# How long a year of backfill takes (200 shipments a day) at Qapla's rate limit, and what
# our code costs per call (moto included; a debug build, so an upper bound). A few minutes;
# not part of `make test`.
bench-backfill: tools
	cargo test -p bridge-admin --test console bench_ -- --ignored --nocapture

# cargo fuzz on every parser of outside bytes (webhook bodies, SQS envelopes, channel secrets,
# Qapla' API answers), FUZZ_SECONDS per target, two at a time; prints executions and crashes
# per target. Not part of `make test` (libFuzzer needs nightly flags; see scripts/fuzz.py).
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(PYTHON) scripts/fuzz.py

# The delivery path under a year's faults (`bench/src/bin/chaos.rs`): the real release
# binaries of the shipment webhook and the delivery worker, the worker killed mid-batch,
# throttled state writes, Connectif 5xx/429/slow/422; PASS/FAIL per guarantee (nothing
# lost, nothing backwards, no repeat, dead letters exactly the refusals, documented
# duplicates only). Not part of `make test`. CHAOS_SHIPMENTS (default 3000), posted in
# waves of CHAOS_WAVE (300); halfway, "the next version" (the same code built with another
# version string, in target/chaos-next/) is deployed: its webhook takes the posts, and old
# and new workers drain the queue side by side for a wave.
chaos: tools
	BRIDGE_BUILD_VERSION=$(VERSION)+next cargo build --release -p shipment-webhook -p delivery-worker
	mkdir -p target/chaos-next
	cp target/release/shipment-webhook target/release/delivery-worker target/chaos-next/
	cargo build --release -p shipment-webhook -p delivery-worker
	cargo build --release -p bridge-bench --bin chaos
	target/release/chaos

# An hour's soak (`bench/src/bin/soak.rs`): the release webhook and SOAK_WORKERS (16) worker
# processes under the Runtime API on loopback, SOAK_RATE (50) posts a second for
# SOAK_SECONDS (3600), Connectif answering in 50-300 ms; prints each minute's figures and
# PASS/FAIL for no error and flat memory. Not part of `make test`.
soak:
	cargo build --release -p shipment-webhook -p delivery-worker
	cargo build --release -p bridge-bench --bin soak
	target/release/soak

# The webhook handler under a mixed flood (well-formed posts, wrong keys, made-up channels)
# for FLOOD_SECONDS per phase, against the in-memory queue and then moto_server on loopback:
# requests/s, p99, memory, Secrets Manager calls for made-up channels, exactly-once on the
# queue; PASS/FAIL against the goals. A few minutes; not part of `make test`.
FLOOD_SECONDS ?= 60
flood: tools
	cargo build --release -p bridge-bench --bin flood
	FLOOD_SECONDS=$(FLOOD_SECONDS) target/release/flood
