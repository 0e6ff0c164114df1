# Two entry points that work on a fresh machine with only python3 and make:
#   make load-test   run the Platform API load suite (smoke profile; LOAD_PROFILE=steady ... for others) against the
#                    reference API it starts itself
#   make test        run the project's own tests
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REPORT_DIR ?= load_test_reports
LOAD_PROFILE ?= smoke
PYTEST_ARGS ?=
# The tests start about a hundred Python processes (pytest sessions, engines, workers): let them cache bytecode and
# pytest's rewritten asserts even where the environment says not to (about 0.2 s per session).
unexport PYTHONDONTWRITEBYTECODE
# Three xdist workers on two cores: most session tests wait on a 1-2 s load run or a child process, so a third
# worker fills the cores (971 tests: 141 s with -n 3, 193 s with -n 2, the same tree and machine). worksteal, not
# load: conftest.py puts the slow tests first, and load would hand them all to one worker in its first chunk; an
# idle worker steals half of a busy one's queue.
TEST_WORKERS ?= 3
TEST_DIST ?= worksteal

.PHONY: install system-packages test test-fast load-test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The system programs the tests use (Chromium): installed as root with apt-get, else one line says what to install.
system-packages:
	@sh scripts/system-packages.sh

test: system-packages $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist $(TEST_DIST) $(PYTEST_ARGS)

# The inner loop: everything but the tests marked slow (make test runs those too).
test-fast: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist $(TEST_DIST) -m "not slow" $(PYTEST_ARGS)

load-test: $(STAMP)
	$(PY) -m pytest -m load loadtests --load-profile $(LOAD_PROFILE) --load-report-dir $(REPORT_DIR) --junitxml=$(REPORT_DIR)/junit.xml $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(REPORT_DIR) .pytest_cache build dist *.egg-info
