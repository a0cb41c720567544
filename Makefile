# Two entry points for a fresh machine: `make demo` (extract the samples) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-deps demo test test-fast samples train-check clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	bash scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,service,e5,bench]'
	touch $(STAMP)

system-deps:
	bash scripts/system-deps.sh

# Runs the whole pipeline on samples/ (embedded: no servers), then scores it against the samples' truth.
demo: setup
	$(BIN)/nianbao extract samples --out out/samples
	$(BIN)/nianbao eval --truth samples --pred out/samples

test: setup
	$(BIN)/lint-imports
	$(BIN)/pytest

# The tests that load no model.
test-fast: setup
	$(BIN)/pytest -m "not ml"

# Regenerates samples/ from the synthetic generator and the seed values (deterministic).
samples: setup
	$(BIN)/nianbao make-samples --out samples

# Re-runs the shipped classifier's training from its manifest (~30 min on 2 cores) and compares metrics.
train-check: setup
	$(BIN)/nianbao train-check --out .cache/train-check --data .cache/train-check-data

clean:
	rm -rf $(VENV) out .pytest_cache
