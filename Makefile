# graphkd: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
# A CPU build of torch. Where PyPI's default build is a CUDA one, add the CPU index, e.g.
#   make demo TORCH_INDEX="--index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
PIP = $(VENV)/bin/python -m pip
STAMP = $(VENV)/.graphkd-installed

.PHONY: demo test lint clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH_INDEX) "$(TORCH_SPEC)"
	$(PIP) install -q -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/graphkd distill --dataset csbm --seeds 5 --out results/demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check graphkd tests examples
	$(VENV)/bin/ruff format --check graphkd tests examples

clean:
	rm -rf $(VENV) results .pytest_cache
