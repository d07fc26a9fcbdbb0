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

# Test runs write bytecode even where PYTHONDONTWRITEBYTECODE is set: without its cache, every pytest process
# re-parses and assertion-rewrites the pytest plugins (hypothesis, schemathesis, ...), about 5 s each.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest

# `make test`: every test, serially; tests/contracts/test_build.py (slow) recompiles the contracts once and checks
# the committed artifacts byte for byte, as `python -m contracts.build --check` does.
test: setup lint
	$(PYTEST) -q

# `make test-fast`: the tests not marked slow (no anvil, no subprocess, no process pool: tests/conftest.py fails one
# that starts a process), one pytest-xdist worker per core; idle workers steal queued tests (a module's fixtures may
# then be built on both workers, which costs less than one worker waiting on the other). About 86 s on 2 cores.
test-fast: $(BIN)/.installed
	$(PYTEST) -q -m "not slow" -n auto --dist worksteal

bench: setup
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.attest

artifacts: $(BIN)/.installed
	$(BIN)/python -m contracts.build

lint: $(BIN)/.installed
	$(BIN)/ruff check node contracts did_method wallet tests benchmarks
	$(BIN)/mypy
