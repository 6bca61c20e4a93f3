# Aushang task runner. CI calls the same targets (.ci/run -> make test).
# Everything runs inside .venv, created on first use from pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# axe-core and the Nu HTML Checker (vnu-jar) for tests/test_accessibility.py, pinned in
# tests/package-lock.json; from the npm registry, never shipped with the site. Java runs vnu.jar.
NODE_TOOLS := tests/node_modules/.installed

.PHONY: demo demo-build test test-tools lint lint-workflows typecheck bench clean help

help:
	@echo "make demo   - build and serve the Musterstadt demo on http://127.0.0.1:8000"
	@echo "make test   - run the whole test suite (lint, types, unit, site, browser)"
	@echo "make bench  - scale benchmark (prints a table; not a test)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/aushang demo

demo-build: $(STAMP)
	$(BIN)/aushang demo --no-serve

lint: $(STAMP)
	$(BIN)/ruff check fetch tests
	$(BIN)/ruff format --check fetch tests

typecheck: $(STAMP)
	$(BIN)/mypy

# The GitHub Actions workflows: zizmor (security; --offline skips its audits that ask GitHub)
# and actionlint (syntax, expressions, runner labels).
lint-workflows: $(STAMP)
	$(BIN)/zizmor --offline --quiet .github/workflows
	$(BIN)/actionlint .github/workflows/*.yml

$(NODE_TOOLS): tests/package.json tests/package-lock.json
	cd tests && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(NODE_TOOLS)

test-tools: $(NODE_TOOLS)

test: $(STAMP) $(NODE_TOOLS) lint lint-workflows typecheck
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m fetch.bench

clean:
	rm -rf build site demo .pytest_cache .mypy_cache .ruff_cache tests/node_modules
