# The two commands a newcomer runs on a fresh machine: `make plan` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= all
# A local Helm chart repository (a folder with index.yaml) to take the pinned charts from
# where the public chart repositories cannot be reached; by default the one beside the
# checkout, where there is one (CI has it). Empty: fetch from the charts' own repositories.
CHART_REPO ?= $(wildcard $(abspath ../shared/charts))
export TRACTUSX_CHART_REPO := $(if $(CHART_REPO),$(abspath $(CHART_REPO)))

.PHONY: plan test lint typecheck unit system-packages helm amtool benchmark clean mirror-charts chart-login recovery-objectives

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## plan: what STACK (prod, dr or all) would create, with every check; no cloud needed.
plan: $(VENV)/.installed helm
	-tools/install-system-packages
	-tools/install-amtool
	$(PY) -m offline.plan --stack $(STACK) --out build/plan

## test: lint, type check and the test suite.
test: lint typecheck unit

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

unit: $(VENV)/.installed system-packages helm amtool
	$(VENV)/bin/pytest

## mirror-charts: copy the pinned charts into STACK's (prod or dr) own ECR repositories,
## which `pulumi up` creates; what is there already is checked, not pushed (README "Charts").
mirror-charts: $(VENV)/.installed helm
	$(PY) -m chartmirror push --stack $(STACK)

## chart-login: log helm in to STACK's chart copy for `pulumi up` (an ECR token, valid 12 hours).
chart-login: $(VENV)/.installed helm
	$(PY) -m chartmirror login --stack $(STACK)

## system-packages: the Debian packages in system-packages.txt that the tests run for real.
system-packages:
	tools/install-system-packages

## helm: the official helm binary, when none is on PATH (tools/install-helm).
helm: $(VENV)/.installed
	tools/install-helm

## amtool: Alertmanager's amtool at the chart's configuration format (tools/install-amtool).
amtool: $(VENV)/.installed
	tools/install-amtool

## benchmark: the streaming backup and restore against pg_dump and the playbook's tar.gz upload
## on a generated database of >= 1 GB (several minutes; not part of the tests).
benchmark: $(VENV)/.installed system-packages
	$(PY) -m benchmarks.backup_restore

## recovery-objectives: docs/recovery-objectives.md, the RTO and RPO derived from the plan.
recovery-objectives: $(VENV)/.installed
	$(PY) -m offline.recovery_objectives --out docs/recovery-objectives.md

clean:
	rm -rf build
