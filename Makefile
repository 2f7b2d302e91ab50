# The two front-door commands. Each creates .venv when missing and installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Type-checked strictly: the pure library, every service and rule module.
STRICT := src/datacoop/algorithms src/datacoop/*/services.py src/datacoop/*/rules.py \
          src/datacoop/projects/tasktypes.py src/datacoop/projects/importing.py

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[demo]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

## make demo: a fresh demo instance with simulated members, served on http://127.0.0.1:8000
demo: $(VENV)/.installed-demo
	$(BIN)/datacoop demo

## make test: system packages (PostgreSQL, Chromium) if missing, lint and types (strict on the core, plain on all of src), then the whole suite on SQLite and PostgreSQL
test: $(VENV)/.installed-dev
	bash scripts/system-deps.sh
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy --strict $(STRICT)
	$(BIN)/mypy src
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy --strict $(STRICT)
	$(BIN)/mypy src

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/import_items.py
	$(BIN)/python benchmarks/api_submit.py
	$(BIN)/python benchmarks/task_page.py

clean:
	rm -rf $(VENV) .demo .pytest_cache artifacts
