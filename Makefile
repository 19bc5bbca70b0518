# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv first, with
# the product (.) and the lab (./lab: stand-ins, local stack, demo) installed editable.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml lab/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e ./lab
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check selfheal lab tests benchmarks
	$(BIN)/ruff format --check selfheal lab tests benchmarks
	$(BIN)/mypy selfheal lab/selfheal_lab benchmarks

test: lint
	$(BIN)/pytest -q

demo: install
	$(BIN)/selfheal demo

clean:
	-$(BIN)/selfheal down
	rm -rf $(VENV) .selfheal
