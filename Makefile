# One entry point for a fresh machine: `make demo` and `make test` install what is missing first.
# Installing again is a no-op unless pyproject.toml changed (the stamp file below).

VENV   ?= .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint bench-predict

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	@dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq dataset-fashion-mnist >/dev/null; } || echo "note: 'apt-get install dataset-fashion-mnist' enables the fashion data and its tests"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/alod demo --workdir demo

test: $(STAMP)
	$(PYTHON) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check al_object_detection tests bench
	$(VENV)/bin/mypy

bench-predict: $(STAMP)
	$(PYTHON) bench/predict_overhead.py
