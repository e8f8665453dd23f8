# One entry point for a fresh machine: `make demo` and `make test` install what is missing first.
# Installing again is a no-op unless pyproject.toml changed (the stamp files below).

VENV     ?= .venv
PYTHON   := $(VENV)/bin/python
STAMP    := $(VENV)/.installed
LS_VENV  ?= .ls-venv
LS_STAMP := $(LS_VENV)/alod-template/label_studio.sqlite3

.PHONY: install demo test lint label-studio bench-predict bench-selection bench-label-efficiency bench-zero-shot

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(PYTHON) -m pip install --quiet -e '.[dev,ray]'
	@dpkg -s dataset-fashion-mnist >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq dataset-fashion-mnist >/dev/null; } || echo "note: 'apt-get install dataset-fashion-mnist' enables the fashion data and its tests"
	touch $(STAMP)

# A real Label Studio in its own environment, for the annotation round-trip tests.
label-studio: $(LS_STAMP)

$(LS_STAMP): scripts/label_studio.sh
	LS_VENV=$(abspath $(LS_VENV)) scripts/label_studio.sh install
	touch $@

demo: $(STAMP)
	$(VENV)/bin/alod demo --workdir demo

test: $(STAMP) $(LS_STAMP)
	LS_VENV=$(abspath $(LS_VENV)) $(PYTHON) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check al_object_detection tests bench
	$(VENV)/bin/mypy

bench-predict: $(STAMP)
	$(PYTHON) bench/predict_overhead.py

bench-selection: $(STAMP)
	$(PYTHON) bench/selection_scale.py

bench-label-efficiency: $(STAMP)
	$(PYTHON) bench/label_efficiency.py --profile quick

bench-zero-shot: $(STAMP)
	$(PYTHON) bench/zero_shot_throughput.py
