# The two commands a newcomer runs on a fresh machine: `make plan` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= all

.PHONY: plan test lint typecheck unit system-packages benchmark clean

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## plan: what STACK (prod, dr or all) would create, with every check; no cloud needed.
plan: $(VENV)/.installed
	-tools/install-system-packages
	$(PY) -m offline.plan --stack $(STACK) --out build/plan

## test: lint, type check and the test suite.
test: lint typecheck unit

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

unit: $(VENV)/.installed system-packages
	$(VENV)/bin/pytest

## system-packages: the Debian packages in system-packages.txt that the tests run for real.
system-packages:
	tools/install-system-packages

## benchmark: the streaming backup and restore against pg_dump and the playbook's tar.gz upload
## on a generated database of >= 1 GB (several minutes; not part of the tests).
benchmark: $(VENV)/.installed system-packages
	$(PY) -m benchmarks.backup_restore

clean:
	rm -rf build
