# Two commands a newcomer needs: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install lint test test-python demo clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(INSTALLED)

lint: install
	$(BIN)/ruff format --check jupyter_workspaces tests bench
	$(BIN)/ruff check jupyter_workspaces tests bench
	$(BIN)/mypy

test-python: install
	$(BIN)/python -m pytest

test: lint test-python

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
