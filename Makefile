# pkgvet developer commands. Every target sets up what it needs in .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PKG    ?= requests==2.32.3
ARGS   ?=

.PHONY: install scan test lint bench fuzz golden sandbox-image clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

## scan PKG=name[==version]|file|folder: scan one package and print the verdict
scan: install
	$(BIN)/pkgvet scan $(PKG) $(ARGS)

## test: the whole test suite (sandbox tests need a running Docker engine; .ci/run starts one)
test: install
	$(BIN)/python -m pytest -n 2 -q $(ARGS)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

## bench: accuracy and speed on the top-300 PyPI packages and the malware corpus
bench: install
	PKGVET_CORPUS_PASSWORD=$${PKGVET_CORPUS_PASSWORD:-infected} $(BIN)/python -m bench.run $(ARGS)

## fuzz: the long fuzz campaign: CASES generated and mutated archives through the oracle
## (no traceback, nothing written outside the work folder, time per case); SEED reproduces
CASES ?= 10000
SEED  ?= 1
fuzz: install
	cd tests && ../$(BIN)/python -m fuzz.campaign --cases $(CASES) --seed $(SEED) $(ARGS)

## sandbox-image: build the sandbox image offline (debootstrap, root), unless it exists
sandbox-image: install
	$(BIN)/pkgvet sandbox build-image --offline --if-missing

## golden: regenerate tests/golden/ reports (review the diff before committing)
golden: install
	PKGVET_REGEN_GOLDEN=1 $(BIN)/python -m pytest -q tests/test_golden.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# --- pkgvet serve / workers (issue 13) ---------------------------------------------------------
.PHONY: bench-serve
## bench-serve: proxy latency vs upstream, first-install wait, Celery throughput (1 and 2 workers)
bench-serve: install
	nice -n 10 $(BIN)/python -m bench.serve $(ARGS)
