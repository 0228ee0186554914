# labgrade: `make demo` and `make test` are the two ways in; both run `make install` first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out

.PHONY: install demo test lint docs pictures bench clean shipped-reference

install: $(STAMP)
	@$(PYTHON) -m harness.syscheck

# Reinstall only when the project's metadata changed: a second `make install` is instant.
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -m harness.syscheck
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "labgrade needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $(STAMP)

demo: install
	@mkdir -p $(OUT)
	$(BIN)/labgrade spec check specs/lab1.yaml | tee $(OUT)/spec.txt
	$(BIN)/labgrade reference build | tee $(OUT)/reference.txt
	$(BIN)/labgrade grade $(filter-out submissions/hostile,$(wildcard submissions/*)) --out $(OUT)
	@echo "results: $(OUT)/<name>/results.json, gradebook: $(OUT)/gradebook.csv"

# mypy cannot follow the editable install's mapping of harness/ -> labgrade.harness, so it
# reads a tree of links with the installed shape (.typecheck/labgrade/{harness,reference}).
lint: install
	$(BIN)/ruff check harness reference labgrade tests
	@mkdir -p .typecheck/labgrade
	@ln -sfn ../../labgrade/__init__.py .typecheck/labgrade/__init__.py
	@ln -sfn ../../harness .typecheck/labgrade/harness
	@ln -sfn ../../reference .typecheck/labgrade/reference
	$(BIN)/mypy

test: install lint docs
	$(BIN)/python -m pytest -q

# The documentation site, offline and strict: a broken link, a missing page or a spec key
# without its line fails. The spec reference is generated from the loader first.
docs: install
	$(BIN)/python docs/gen_reference.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The README's two pictures, from `make demo`'s output (needs pdftoppm, from poppler-utils).
pictures: demo
	pdftoppm -r 60 -png -singlefile $(OUT)/loops-over-rank/feedback.pdf docs/images/feedback
	pdftoppm -r 60 -png -singlefile $(OUT)/summary.pdf docs/images/summary

# Before a release: rebuild the expected outputs that ship with the package (the lab, CPU,
# synthetic ratings). tests/test_packaging.py fails while they are stale.
shipped-reference: install
	$(BIN)/labgrade reference build --spec lab1 --device cpu --force --cache-dir reference/data

bench: install
	$(BIN)/labgrade bench

clean:
	rm -rf $(OUT) site .typecheck .labgrade-cache .pytest_cache .mypy_cache .ruff_cache
