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
# uv installs the wheels in parallel from its cache: a first `make run` takes seconds where pip
# takes a minute. uv is itself a wheel from PyPI, put into the venv by the Python's own pip
# (or, for a Python without pip, by the venv's, bootstrapped with ensurepip).
# An uv already on PATH is used as it is (no pip run: 8-10 s of a first start here).
UV := $(or $(shell command -v uv 2>/dev/null),$(BIN)/uv)
INSTALL := $(UV) pip install --quiet --python $(BIN)/python
# Python caches compiled modules (and pytest its assertion-rewritten tests and plugins) in
# __pycache__; an environment that turns that off makes every test process and every `hub`
# subprocess compile the hub, the tests and hypothesis/schemathesis again.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install install-serve run test coverage lint bench clean docs i18n zapier-test conformance-node fuzz

# What serving needs (make run); the dev tools (pytest, ruff, mypy, pip, ...) only for test/lint.
install-serve: $(SERVE_STAMP)
install: $(DEV_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv --without-pip $(VENV)

$(UV): | $(VENV)/bin/python
	@$(PYTHON) -m pip --python $(BIN)/python install --quiet --disable-pip-version-check \
		--no-input --only-binary :all: uv 2>/dev/null \
	|| { $(BIN)/python -m ensurepip --default-pip >/dev/null \
		&& $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-input uv; }

$(SERVE_STAMP): pyproject.toml | $(UV)
	$(INSTALL) -e .
	touch $(SERVE_STAMP)

# pip too: the worktree scripts and docs say `.venv/bin/pip install ...`.
$(DEV_STAMP): pyproject.toml $(SERVE_STAMP)
	$(INSTALL) -e '.[dev]' pip
	touch $(DEV_STAMP)

# A Fernet key is 32 random bytes in URL-safe base64; the standard library writes one.
var/secret-key: | $(VENV)/bin/python
	mkdir -p -m 700 var
	umask 077 && $(BIN)/python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())" > var/secret-key
	chmod 600 var/secret-key

# One process: `hub serve` migrates SQLite at start ([database] migrate_on_start) and, with
# --bootstrap-demo, creates the demo team and var/demo-key on an empty database.
run: install-serve var/secret-key
	@echo "The CLI: $(BIN)/hub --help   (or: source $(BIN)/activate, then hub --help)"
	@exec $(BIN)/hub serve --bootstrap-demo --host $(HOST) --port $(PORT)

PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist worksteal

# Coverage is its own target: measuring it costs about a fifth of the suite's time
# (279 s without, 339 s with, on this 2-core machine), and `make test` is what CI waits for.
test: install
	$(PYTEST) $(PYTEST_ARGS)
	@if command -v npm >/dev/null 2>&1 && [ -f connectors/zapier/app/package.json ]; then \
		$(MAKE) --no-print-directory zapier-test; \
	else echo "zapier app tests: skipped (npm not found)"; fi
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory conformance-node; \
	else echo "conformance (openai-node, Vercel AI SDK): skipped (npm not found)"; fi

coverage: install
	$(PYTEST) --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

zapier-test:
	cd connectors/zapier/app && npm ci --silent --no-audit --no-fund && HUB_PYTHON=$(abspath $(BIN)/python) npm test --silent

# The conformance cases through openai-node and the Vercel AI SDK (tests/conformance/node).
conformance-node:
	cd tests/conformance/node && npm ci --silent --no-audit --no-fund && HUB_PYTHON=$(abspath $(BIN)/python) npm test --silent

# The fuzz tests (tests/fuzz) with many more examples than `make test` runs; still derandomized.
FUZZ_EXAMPLES ?= 300
fuzz: install
	HUB_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz tests/connectors/admin_api/test_schema_fuzz.py

# ruff format over the whole tree too (Python files and the Python blocks of Markdown): a file
# that `ruff check` passes can still be unformatted.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

docs: install
	$(BIN)/python -m hub.config.reference > docs/configuration.md

# The dashboard's strings (babel.cfg): extracted to the template catalogue and merged into each
# language's .po; translate what is new or fuzzy there (tests/connectors/dashboard/test_i18n.py
# fails until every string has its translation). The .po files are read as they are: no .mo.
LOCALES := connectors/dashboard/locale
i18n: install
	$(BIN)/pybabel -q extract -F babel.cfg --sort-by-file --add-location=file --no-wrap \
		--project="UniLLM Hub dashboard" --version=0.1 \
		--copyright-holder="the UniLLM Hub authors" -k Suggestion:2 -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel -q update -i $(LOCALES)/messages.pot -d $(LOCALES) -l de --no-wrap \
		--ignore-pot-creation-date

bench: install
	$(BIN)/python bench/overhead.py

clean:
	rm -rf $(VENV) var/hub.db var/hub.db-wal var/hub.db-shm var/demo-key
