# graphkd: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
# A CPU build of torch. Where PyPI's default build is a CUDA one, add the CPU index, e.g.
#   make demo TORCH_INDEX="--index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
PIP = $(VENV)/bin/python -m pip
# Prebuilt torch-scatter/torch-sparse wheels (optional: PyG's own NeighborLoader, which the tests
# and benchmarks compare graphkd's sampler with); installed when the folder is there.
WHEELS ?= ../shared/wheels
STAMP = $(VENV)/.graphkd-installed

# Every method's protocol-A results folders (benchmarks/results/<method>/cpf-*_transductive*),
# GLNN first: its teachers head each row.
METHOD_RESULTS = $(foreach m,glnn nosmog krd cpf vqgraph graphkd,$(wildcard benchmarks/results/$(m)/cpf-*_transductive* benchmarks/results/$(m)/cpf-*_inductive*))

.PHONY: demo test lint clean venv methods-table

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH_INDEX) "$(TORCH_SPEC)"
	$(PIP) install -q -e ".[test,deploy,plot,gensim]"
	if [ -d "$(WHEELS)" ]; then $(PIP) install -q --find-links "$(WHEELS)" torch-scatter==2.1.2 torch-sparse==0.6.18; fi
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/graphkd distill --dataset csbm --method nosmog --seeds 5 --out results/demo --export results/demo/students

test: $(STAMP)
	$(VENV)/bin/python -m pytest

# All distillation methods side by side, from their results folders (no training).
methods-table: $(STAMP)
	$(VENV)/bin/graphkd compare $(METHOD_RESULTS) --other-teachers mark --out benchmarks/results/methods_protocol_a.md

lint: $(STAMP)
	$(VENV)/bin/ruff check graphkd tests examples benchmarks
	$(VENV)/bin/ruff format --check graphkd tests examples benchmarks

clean:
	rm -rf $(VENV) results .pytest_cache
