# Two commands: `make run` and `make test`. Everything else is set-up they call.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The value lists the Node.js major versions to keep quiet about (jsii reads it as a list).
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run run-aws test setup lint typecheck pytest frontend frontend-test browser bubblewrap bench schema clean mutate synth deploy

run: setup frontend
	@if [ -n "$$ANTHROPIC_API_KEY" ]; then $(BIN)/cody-batch serve; else $(BIN)/cody-batch serve --demo; fi

# The AWS code path (Lambda handlers, DynamoDB + Streams, S3, Batch) on moto server, same port and data dir.
run-aws: setup frontend
	@if [ -n "$$ANTHROPIC_API_KEY" ]; then $(BIN)/cody-batch aws emulate; else $(BIN)/cody-batch aws emulate --demo; fi

test: setup frontend browser bubblewrap lint typecheck synth pytest frontend-test

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,aws-emulator,cdk]'
	touch $@

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/actionlint

typecheck: setup
	$(BIN)/mypy
	# infra/ apart: a cold check parses aws-cdk-lib's large stubs (about 1.5 CPU-minutes).
	$(BIN)/mypy -p infra

# ISOLATION_REQUIRED: a kernel that cannot isolate agent commands fails the suite (docs/TESTING.md).
pytest: setup
	E2E_REQUIRED=1 ISOLATION_REQUIRED=1 $(BIN)/pytest -q

# The SPA: built once (again when its sources change) and served by the local server at /.
frontend:
	@if [ -f frontend/package.json ]; then $(MAKE) --no-print-directory frontend/dist/index.html; fi

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(shell find frontend/src frontend/index.html frontend/vite.config.ts -type f 2>/dev/null)
	cd frontend && npm run build

frontend-test: frontend
	@if [ -f frontend/package.json ]; then cd frontend && npm run lint && npm test; fi

# Debian's chromium for the browser tests; never a downloaded browser.
browser:
	@if [ -f frontend/package.json ] && ! command -v chromium >/dev/null; then \
		SUDO=$$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

# Debian's bubblewrap: agent and check commands see the workspace, not the machine's private places.
bubblewrap:
	@if ! command -v bwrap >/dev/null; then \
		SUDO=$$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq bubblewrap >/dev/null; \
	fi

schema: setup
	$(BIN)/cody-batch export-schema > schema/schema.graphql

bench: setup
	$(BIN)/python bench/api_bench.py

# Mutation testing of the modules listed under [tool.mutmut] in pyproject.toml; too long for `make test`.
mutate: setup
	rm -rf mutants
	nice -n 15 $(BIN)/mutmut run --max-children 2
	$(BIN)/python -m tests.mutation.scores
	nice -n 15 $(BIN)/python -m tests.mutation.named

# The AWS deployment (README: Deploy to AWS). ENV picks the CDK environment: dev or prod;
# CDK_ARGS adds context, e.g. CDK_ARGS="-c allowedRepos=github.com/acme/*".
# synth needs no AWS account and no Docker: Lambda code bundles with pip, the image builds at deploy.
ENV ?= dev
CDK := infra/node_modules/.bin/cdk

infra/node_modules/.installed: infra/package.json infra/package-lock.json
	cd infra && npm ci --no-audit --no-fund
	touch $@

# CDK's built-in template validation is off: cfn-lint checks the same templates, 20 s faster.
synth: setup frontend infra/node_modules/.installed
	CDK_VALIDATION=false $(CDK) synth --quiet -c env=$(ENV)
	$(BIN)/cfn-lint -- infra/cdk.out/*.template.json

deploy: setup frontend infra/node_modules/.installed
	$(CDK) deploy -c env=$(ENV) $(CDK_ARGS) --require-approval never --outputs-file infra/outputs-$(ENV).json

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist .cody-batch mutants infra/node_modules infra/cdk.out
