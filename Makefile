# Every command of the README. Installs into a project-local .venv (torch's CPU wheel first, so no
# dependency pulls a multi-GB CUDA build), and uses a project-local DAGSTER_HOME so the UI opened
# after `make demo` shows the demo's runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
# the environment wins: DAGSTER_HOME=/srv/dagster PORT=8080 make ui opens that instance on that port
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DAGSTER_HOME
PORT ?= 3000
export PYTHONPATH := $(CURDIR)
STAMP := $(VENV)/.installed

.PHONY: install system-packages demo test test-fast ui bench audit realdata corpus validate pools lint clean

install: $(STAMP)

# System packages Docmatix needs on a fresh machine: Tesseract with English, Korean and Japanese
# models (OCR of scanned and garbled pages) and CJK fonts (rendering non-embedded CJK text; NanumGothic
# draws the Korean sample pages). Skipped when already installed; without root or apt it says what to run.
APT_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-kor tesseract-ocr-jpn fonts-noto-cjk fonts-nanum

system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "system packages: already installed"; \
	elif [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "system packages: MISSING $$missing; OCR and Korean sample pages need them." >&2; \
	  echo "  run as root: apt-get update && apt-get install -y $$missing" >&2; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

$(STAMP): pyproject.toml requirements.lock | system-packages
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

# the suite on TEST_WORKERS processes, whole modules at a time (their fixtures are built once), in
# collection order so the long end-to-end tests start first and the short ones fill in around them
TEST_WORKERS ?= 2

test: install
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

test-fast: install
	$(PY) -m pytest -q -m "not slow"

# the per-pool limits first (dagster.yaml holds only a default): one GPU step and one DuckDB writer at a time
ui: install $(DAGSTER_HOME)/dagster.yaml
	$(PY) -m scripts.pools
	PYTHONPATH=$(CURDIR) $(VENV)/bin/dagster dev -w workspace.yaml -p $(PORT)

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
