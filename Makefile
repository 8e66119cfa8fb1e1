# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv first if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench serve clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/.installed  ## the bot against a local WhatConverts stand-in; ARGS="list 1001" to script it
	$(BIN)/python -m bot.demo $(ARGS)

test: $(BIN)/.installed  ## every test; HYPOTHESIS_PROFILE=thorough for 10,000 cases a property
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(BIN)/.installed  ## the burst and export benchmarks (figures printed, nothing asserted)
	$(BIN)/python bench/burst.py
	$(BIN)/python bench/export.py

serve: $(BIN)/.installed  ## the production server, as the Procfile runs it: release, then web
	$(BIN)/python -m bot.storage.migrate
	$(BIN)/gunicorn --config python:bot.gunicorn_conf 'bot.app:create_wsgi_app()'

clean:
	rm -rf $(VENV)
