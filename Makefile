# The two commands a newcomer needs are `make run` and `make test`; everything else is a step of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080
HUB_CONFIG ?= config/hub.toml
export HUB_CONFIG

.PHONY: install run test lint bench clean docs

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

var/secret-key:
	mkdir -p var
	umask 077 && $(BIN)/python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" > var/secret-key
	chmod 600 var/secret-key

run: install var/secret-key
	$(BIN)/hub migrate
	$(BIN)/hub bootstrap-demo
	$(BIN)/hub serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider --cov --cov-report=term:skip-covered $(PYTEST_ARGS)
	@if command -v npm >/dev/null 2>&1 && [ -f connectors/zapier/app/package.json ]; then \
		$(MAKE) --no-print-directory zapier-test; \
	else echo "zapier app tests: skipped (npm not found)"; fi

zapier-test:
	cd connectors/zapier/app && npm ci --silent --no-audit --no-fund && HUB_PYTHON=$(abspath $(BIN)/python) npm test --silent

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

docs: install
	$(BIN)/python -m hub.config.reference > docs/configuration.md

bench: install
	$(BIN)/python bench/overhead.py

clean:
	rm -rf $(VENV) var/hub.db
