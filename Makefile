# Every command of the README. Installs into a project-local .venv (torch's CPU wheel first, so no
# dependency pulls a multi-GB CUDA build), and uses a project-local DAGSTER_HOME so the UI opened
# after `make demo` shows the demo's runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export PYTHONPATH := $(CURDIR)
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast ui bench audit realdata corpus validate pools lint clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.local.yaml
	mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster.local.yaml $@

demo: install $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m scripts.demo

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

ui: install $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dagster dev -w workspace.yaml

bench: install
	$(PY) -m bench.run_all

realdata: install
	$(PY) -m scripts.realdata

audit: install
	@test -n "$(ID)" || (echo "usage: make audit ID=<record_id>" >&2; exit 2)
	$(PY) -m scripts.audit "$(ID)"

corpus: install
	$(PY) -m corpus.build --out $${MMFOUNDRY_LANDING:-.data/landing} --size $${MMFOUNDRY_DEMO_SIZE:-small}

pools: install
	$(PY) -m scripts.pools

validate: install
	$(VENV)/bin/dagster definitions validate -w workspace.yaml

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf .data .dagster_home .tmp_dagster_home_*
