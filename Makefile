# Two commands a newcomer needs: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install lint test test-python test-real realcluster-binaries demo clean

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
	$(BIN)/python -m pytest -m "not realcluster"

# The same contract tests and workspace flows against a real control plane (kube-apiserver,
# controller-manager and scheduler 1.20.2 built offline from Debian's source package, driven by
# the simulator's kubelets). The build takes minutes once per machine; its binaries are cached in
# ~/.cache/jupyter-workspaces (see scripts/realcluster/build.sh).
realcluster-binaries:
	bash scripts/realcluster/build.sh

test-real: install realcluster-binaries
	$(BIN)/python -m pytest -m realcluster

test: lint test-python test-real

# The newcomer's first experience: JupyterLab on 127.0.0.1 with the extension on the embedded
# simulator's demo scenario; prints the URL (with a fresh token) to open. DEMO_PORT=N picks a port.
$(VENV)/.demo-installed: $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[test,demo]'
	touch $@

demo: $(VENV)/.demo-installed
	$(BIN)/python -m jupyter_workspaces.demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
