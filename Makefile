# labgrade: `make demo` and `make test` are the two ways in; both run `make install` first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: install demo test lint bench clean

install: $(STAMP)
	@$(PYTHON) -m harness.syscheck

# Reinstall only when the project's metadata changed: a second `make install` is instant.
$(STAMP): pyproject.toml
	@$(PYTHON) -m harness.syscheck
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "labgrade needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: install
	@mkdir -p $(OUT)
	$(BIN)/labgrade spec check specs/lab1.yaml | tee $(OUT)/spec.txt
	$(BIN)/labgrade reference build | tee $(OUT)/reference.txt
	$(BIN)/labgrade grade $(filter-out submissions/hostile,$(wildcard submissions/*)) --out $(OUT)
	@echo "results: $(OUT)/<name>/results.json, gradebook: $(OUT)/gradebook.csv"

lint: install
	$(BIN)/ruff check harness reference tests
	$(BIN)/mypy

test: install lint
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/labgrade bench

clean:
	rm -rf $(OUT) .labgrade-cache .pytest_cache .mypy_cache .ruff_cache
