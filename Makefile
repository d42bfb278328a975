# Warren — the commands a developer, an operator and CI run. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

NAME ?=
URL ?= http://127.0.0.1:8000

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/\$$\$$/$$/g' | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

.PHONY: run
run: ## Serve on http://127.0.0.1:8000 (SQLite file in ./data, migrations applied)
	@test -x target/debug/warren || echo "note: the first build compiles ~300 crates and takes a few minutes"
	cargo run --locked -- serve

.PHONY: try
try: ## Walk an account through signup..delete against a running server (URL=http://127.0.0.1:8000)
	scripts/try.sh "$(URL)"

.PHONY: install
install: ## Install the warren binary into ~/.cargo/bin (on PATH with a standard Rust setup)
	cargo install --locked --path .

.PHONY: test
test: ## Run every test on SQLite, and on Postgres when reachable (required with CI=true)
	scripts/test.sh

.PHONY: check
check: lint test ## The quick local gate: rustfmt check, clippy, then every test

.PHONY: ci
ci: ## The whole CI gate (.ci/run calls it): lint, test, deny, fuzz-api, chaos, e2e, interop, migrations; step times at the end
	scripts/ci.sh

.PHONY: lint
lint: ## rustfmt check and clippy with warnings as errors
	cargo fmt --all -- --check
	cargo clippy --locked --workspace --all-targets -- -D warnings

.PHONY: fmt
fmt: ## Format the code
	cargo fmt --all

.PHONY: deny
deny: ## cargo-deny: licenses, bans, sources, advisories (offline database when GitHub is unreachable)
	scripts/deny.sh

.PHONY: migrate
migrate: ## Apply pending migrations with sqlx-cli to the database warren uses ($$DATABASE_URL, .env, warren.toml)
	scripts/migrate.sh run

.PHONY: migrate-revert
migrate-revert: ## Revert the newest migration of the database warren uses, with sqlx-cli
	scripts/migrate.sh revert

.PHONY: migrate-add
migrate-add: ## Add a reversible migration NAME=… (for both databases)
	@test -n "$(NAME)" || { echo "usage: make migrate-add NAME=add_something"; exit 2; }
	scripts/migrate.sh add "$(NAME)"

.PHONY: openapi
openapi: ## Regenerate src/api/v1/openapi.json from the code (a test fails when it is stale)
	cargo run --locked --quiet -- openapi --out src/api/v1/openapi.json

.PHONY: fuzz-api
fuzz-api: ## Contract-fuzz a release build with schemathesis on SQLite and Postgres (FUZZ_SECONDS=90)
	scripts/fuzz-api.sh

.PHONY: chaos
chaos: ## Faults and scale-out against a release build: kill -9, full disk, Postgres cut, SMTP down, 3 instances
	scripts/chaos.sh

.PHONY: spa
spa: ## Serve the example SPA (examples/spa) on http://localhost:5173; run Warren with the .env.example settings
	python3 examples/spa/serve.py --port 5173

.PHONY: e2e
e2e: ## Browser tests: the example SPA against a release build in headless Chromium (screenshots in target/e2e/)
	scripts/e2e.sh

.PHONY: interop
interop: ## Stock Node JWT libraries verify a release build's EdDSA and ES256 tokens from its issuer URL alone
	scripts/interop.sh

.PHONY: bench
bench: ## Load-test a release build with wrk on SQLite and Postgres; writes benches/results.md
	scripts/bench.sh

.PHONY: check-config
check-config: ## Try what serve would (config, keys, database, migrations); summary and verdict
	cargo run --locked --quiet -- check-config

.PHONY: chat
chat: ## Start Warren (:8000) and the chat example service (:8001) together; Ctrl-C stops both
	scripts/chat.sh

.PHONY: build
build: ## Release build (target/release/warren)
	cargo build --locked --release
