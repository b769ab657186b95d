# Sesame — one target per thing a person does. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
CARGO ?= cargo
# Benches run long enough to be stable, short enough for a 2-core machine.
BENCH_ARGS ?= --warm-up-time 1 --measurement-time 3

.PHONY: help demo test lint fmt bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-8s %s\n",$$1,$$2}'

demo: ## Run the end-to-end demo (today: the offline core — references, TOTP, passwords, crypto, tokens)
	$(CARGO) run --quiet -p sesame-core --example offline_tour

test: lint ## Run every check and test suite (what CI runs)
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc

lint: ## Formatting and lints (cargo fmt --check, clippy -D warnings)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format all code
	$(CARGO) fmt --all

bench: ## Benchmarks, reported as ratios against baselines measured in the same run
	$(CARGO) bench -p sesame-core --bench reference --bench totp --bench password -- $(BENCH_ARGS)
	python3 bench/report.py target/criterion
