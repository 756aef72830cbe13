# The two commands of the README: `make demo` and `make test`. Needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
# Semgrep, check-jsonschema and zizmor each live in an environment of their own
# (Semgrep's pins clash with test environments); their commands are linked into .tools/bin.
SEMGREP_VERSION := 1.180.0
export PATH := $(CURDIR)/$(TOOLS)/bin:$(CURDIR)/$(BIN):$(PATH)
# The suite starts many pytest processes (pytester, xdist workers): with bytecode caching
# off (PYTHONDONTWRITEBYTECODE, set on some machines) each one compiles pytest and its
# plugins again, seconds per process on a busy machine.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: test test-under-load demo lint install tools clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

tools: $(TOOLS)/bin/semgrep $(TOOLS)/bin/check-jsonschema $(TOOLS)/bin/zizmor

$(TOOLS)/bin/semgrep:
	$(PYTHON) -m venv $(TOOLS)/semgrep
	$(TOOLS)/semgrep/bin/python -m pip install -q --disable-pip-version-check 'semgrep==$(SEMGREP_VERSION)'
	mkdir -p $(TOOLS)/bin && ln -sf ../semgrep/bin/semgrep $@

$(TOOLS)/bin/check-jsonschema:
	$(PYTHON) -m venv $(TOOLS)/check-jsonschema
	$(TOOLS)/check-jsonschema/bin/python -m pip install -q --disable-pip-version-check 'check-jsonschema==0.39.0'
	mkdir -p $(TOOLS)/bin && ln -sf ../check-jsonschema/bin/check-jsonschema $@

$(TOOLS)/bin/zizmor:
	$(PYTHON) -m venv $(TOOLS)/zizmor
	$(TOOLS)/zizmor/bin/python -m pip install -q --disable-pip-version-check 'zizmor==1.32.0'
	mkdir -p $(TOOLS)/bin && ln -sf ../zizmor/bin/zizmor $@

# One pytest run of the whole suite, in parallel under this repository's own policy.yaml.
test: install tools
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The suite beside as many CPU-bound processes as CPUs (a shared CI machine); run before
# merging a change that could make timing verdicts depend on load.
test-under-load: install tools
	scripts/test-under-load.sh

demo: install tools
	$(BIN)/python scripts/demo.py

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
