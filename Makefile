# Two commands: `make demo` and `make test`. Both create .venv and install proxyml with every
# extra (pinned in pyproject.toml) the first time, and again when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	$(BIN)/python -c "import proxyml, torch, lightning, sktime"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/proxyml run recipes/quickstart.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m "slow or not slow"

lint: $(STAMP)
	$(BIN)/ruff check proxyml tests benchmarks templates
	$(BIN)/mypy proxyml

benchmark: $(STAMP)
	$(BIN)/python benchmarks/timeseries_label_efficiency.py
	$(BIN)/python benchmarks/tabular_label_efficiency.py

clean:
	rm -rf $(VENV) runs .pytest_cache
