# The README's two commands: `make run` and `make test`. Each creates or refreshes .venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
KG     := $(VENV)/bin/kg
STAMP  := $(VENV)/.installed

.PHONY: setup system run build test bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# System packages the tests and the reasoner use (Java for HermiT, Debian's chromium for the
# browser tests). Installed only when missing and when we may (root); otherwise skipped.
system:
	@bash scripts/system-deps.sh

build: setup
	$(KG) build
	$(KG) viz

# Ends with the server up (Ctrl-C stops it): http://127.0.0.1:8000/
run: setup system build
	$(KG) serve

test: setup system
	$(PY) -m pytest -n 2 --dist loadfile

bench: setup
	$(PY) -m bench.run_all

clean:
	rm -rf build
