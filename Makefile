# Two entry points, each creating/updating the virtual environment on its own:
#   make run   - open the app on the bundled sample video (no display: annotate it into runs/sample)
#   make test  - lint (ruff), type-check (mypy) and run the test suite
PYTHON ?= python3
VENV ?= .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: run test

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/fervision gui assets/sample_pexels.mp4 --output runs/sample

test: $(STAMP)
	$(VENV)/bin/ruff check fervision tests
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest -q
