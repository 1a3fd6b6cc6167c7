# Two commands on a fresh machine with Python 3.11 and pip:  make demo  |  make test
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test install bench ui clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

demo: install            ## materialize the bundled sample crawl into ./warehouse and summarise it
	$(BIN)/corpus demo

test: install            ## the test suite (real Dagster, Delta, DuckDB, fastText on the bundled sample)
	$(BIN)/python -m pytest -q

bench: install           ## throughput and memory figures (see benchmarks/README.md)
	$(BIN)/python benchmarks/bench_pipeline.py

ui: install
	$(BIN)/corpus ui

clean:
	rm -rf warehouse .dagster
