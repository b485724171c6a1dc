# Two commands on a fresh machine (both set everything up first, both idempotent):
#   make repro   -> run the whole PoliTune pipeline on the embedded CPU default (dvc repro)
#   make test    -> lint (ruff, mypy, import contract), then the tests (unit + end-to-end dvc repro in a temp copy)
.PHONY: setup repro test test-fast faults lint bench

# the environment setup creates (`make repro VENV=/elsewhere` uses another one, set up there if needed);
# stage commands in dvc.yaml say `python`: it must be this environment's
export VENV ?= $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
# glibc keeps freed memory for reuse: PyTorch on CPU then stops page-faulting on every step (DPO steps 1.5x
# faster here; stages/__init__.py sets the same when a stage runs outside make)
export MALLOC_MMAP_THRESHOLD_ := 4294967296
export MALLOC_TRIM_THRESHOLD_ := 4294967296
export MALLOC_TOP_PAD_ := 1073741824

setup:
	bash scripts/setup.sh

# params are checked before DVC touches any output; the run ends with the summary a person reads
repro: setup
	$(VENV)/bin/politune check-params params.yaml
	$(VENV)/bin/dvc repro
	@awk '/^## Likert/{exit} {print}' reports/summary.md
	@$(VENV)/bin/python scripts/stage_times.py
	@echo "Full report: reports/summary.md; pictures: metrics/compass.png, metrics/measures.png"

test: setup lint
	$(VENV)/bin/python -m pytest

test-fast: setup
	$(VENV)/bin/python -m pytest -m "not e2e"

# the reliability suite alone; writes the fault table with this run's figures (includes one e2e dvc repro)
faults: setup
	POLITUNE_FAULTS_TABLE=docs/faults.md $(VENV)/bin/python -m pytest -m faults

# style, format, types and the import contract (pyproject.toml [tool.importlinter]); make test runs it first
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
