# Two commands do everything on a fresh machine:
#   make demo   set up .venv and train the built-in default recipe (digits)
#   make test   set up .venv with dev tools and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# Real MNIST / Fashion-MNIST for the tests that train on it (see README, "Data").
GANNET_DATA ?= $(abspath ../shared/data)
export GANNET_DATA

.PHONY: demo test bench table1 install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/gannet train digits --out runs/digits-demo --overwrite

test: install-dev
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/parzen_speed.py
	$(BIN)/python benchmarks/dcgan_step.py

# Table 1 of the paper, end to end (hours on 2 cores; rerun to continue; see docs/reproduction.md)
table1: install
	$(BIN)/python benchmarks/reproduce_table1.py --out runs/table1

clean:
	rm -rf $(VENV) runs build src/*.egg-info .pytest_cache
