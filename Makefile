# One place for set-up. `make demo` runs the main job on the embedded chain; `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
ANVIL_VERSION := 1.7.1

.PHONY: setup demo walkthrough test test-fast bench artifacts lint

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

.tools/.anvil-$(ANVIL_VERSION):
	npm install --prefix .tools --no-audit --no-fund --loglevel=error @foundry-rs/anvil@$(ANVIL_VERSION)
	touch $@

setup: $(BIN)/.installed .tools/.anvil-$(ANVIL_VERSION)

demo: $(BIN)/.installed
	$(BIN)/eidln demo

walkthrough: $(BIN)/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" ./scripts/walkthrough.sh

test: setup lint
	$(BIN)/python -m contracts.build --check
	$(BIN)/python -m pytest -q

test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -q -m "not slow"

bench: setup
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.attest

artifacts: $(BIN)/.installed
	$(BIN)/python -m contracts.build

lint: $(BIN)/.installed
	$(BIN)/ruff check node contracts did_method wallet tests benchmarks
	$(BIN)/mypy
