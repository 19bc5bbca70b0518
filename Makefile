# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv first, with
# the product (.) and the lab (./lab: stand-ins, local stack, demo) installed editable.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install monitoring-tools clean

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

# Real Prometheus and Alertmanager for the tests: Debian's packages, installed when missing and
# possible (root with apt-get). Elsewhere the tests that need them fail naming this command.
MONITORING_INSTALL := apt-get install -y --no-install-recommends prometheus prometheus-alertmanager

monitoring-tools:
	@if command -v prometheus >/dev/null && \
	  { command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null; }; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(MONITORING_INSTALL) || { apt-get update && $(MONITORING_INSTALL); }; \
	else \
	  echo "prometheus or alertmanager missing; the tests that need them will fail." \
	    "Install them with: sudo $(MONITORING_INSTALL)"; \
	fi

test: lint monitoring-tools
	$(BIN)/pytest -q

demo: install
	$(BIN)/selfheal demo

clean:
	-$(BIN)/selfheal down
	rm -rf $(VENV) .selfheal
