# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check selfheal tests benchmarks
	$(BIN)/ruff format --check selfheal tests benchmarks
	$(BIN)/mypy selfheal benchmarks

test: lint
	$(BIN)/pytest -q

demo: install
	$(BIN)/selfheal demo

clean:
	-$(BIN)/selfheal down
	rm -rf $(VENV) .selfheal
