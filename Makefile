# Two commands on a fresh machine with Python 3.11 and pip:  make demo  |  make test
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test install bench bench-peer-venv ui clean

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

bench: install           ## the whole pipeline vs the peer per CPU-second (benchmarks/README.md; ~20 min with the peer)
	$(BIN)/python benchmarks/bench_end_to_end.py

PEER_VENV = benchmarks/peer/.venv

$(PEER_VENV)/.installed: benchmarks/peer/requirements.txt
	@echo "creating the peer's venv (datatrove's FineWeb pipeline, pinned) in $(PEER_VENV); takes a few minutes"
	test -x $(PEER_VENV)/bin/python || $(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -m pip install --quiet --no-deps -r benchmarks/peer/requirements.txt
	touch $@

bench-peer-venv: $(PEER_VENV)/.installed   ## the peer's own venv, for `make bench`

ui: install
	$(BIN)/corpus ui

clean:
	rm -rf warehouse .dagster
