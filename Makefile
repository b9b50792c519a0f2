# The two commands a newcomer needs are `make run` and `make test`; everything else is a step of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVE_STAMP := $(VENV)/.installed-serve
DEV_STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080
# Test processes: most slow tests wait on hub subprocesses, so two per core keep both busy.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$((n * 2)))
HUB_CONFIG ?= config/hub.toml
export HUB_CONFIG
PIP := $(BIN)/pip install --quiet --disable-pip-version-check --no-input

.PHONY: install install-serve run test lint bench clean docs zapier-test conformance-node fuzz

# What serving needs (make run); the dev tools (pytest, ruff, mypy, ...) only for test/lint.
install-serve: $(SERVE_STAMP)
install: $(DEV_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(SERVE_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP) -e .
	touch $(SERVE_STAMP)

$(DEV_STAMP): pyproject.toml $(SERVE_STAMP)
	$(PIP) -e '.[dev]'
	touch $(DEV_STAMP)

var/secret-key: | $(SERVE_STAMP)
	mkdir -p -m 700 var
	umask 077 && $(BIN)/python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" > var/secret-key
	chmod 600 var/secret-key

run: install-serve var/secret-key
	@$(BIN)/hub migrate >/dev/null
	@$(BIN)/hub bootstrap-demo
	@echo "The CLI: $(BIN)/hub --help   (or: source $(BIN)/activate, then hub --help)"
	@exec $(BIN)/hub serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal --cov --cov-report=term:skip-covered $(PYTEST_ARGS)
	@if command -v npm >/dev/null 2>&1 && [ -f connectors/zapier/app/package.json ]; then \
		$(MAKE) --no-print-directory zapier-test; \
	else echo "zapier app tests: skipped (npm not found)"; fi
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory conformance-node; \
	else echo "conformance (openai-node, Vercel AI SDK): skipped (npm not found)"; fi

zapier-test:
	cd connectors/zapier/app && npm ci --silent --no-audit --no-fund && HUB_PYTHON=$(abspath $(BIN)/python) npm test --silent

# The conformance cases through openai-node and the Vercel AI SDK (tests/conformance/node).
conformance-node:
	cd tests/conformance/node && npm ci --silent --no-audit --no-fund && HUB_PYTHON=$(abspath $(BIN)/python) npm test --silent

# The fuzz tests (tests/fuzz) with many more examples than `make test` runs; still derandomized.
FUZZ_EXAMPLES ?= 300
fuzz: install
	HUB_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz tests/connectors/admin_api/test_schema_fuzz.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

docs: install
	$(BIN)/python -m hub.config.reference > docs/configuration.md

bench: install
	$(BIN)/python bench/overhead.py

clean:
	rm -rf $(VENV) var/hub.db var/hub.db-wal var/hub.db-shm var/demo-key
