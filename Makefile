# chibo: two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

.PHONY: run serve test lint bench lock template clean browser office

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/chibo run --sample

# The Board's portal on http://127.0.0.1:8000/ with the sample accounts (docs/portal.md); after `make run`.
serve: $(STAMP)
	$(BIN)/chibo serve --sample

# Headless Chromium (Debian's package) for the tests that look at the alert e-mail and Data Docs as a person would.
browser:
	(command -v chromium && command -v chromedriver) >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver)

# LibreOffice (Debian's packages) for the tests that fill and render the official form as an office would:
# soffice converts and recalculates, pdftoppm/pdfinfo (poppler-utils) look at the printed page.
office:
	(command -v soffice && command -v pdftoppm && command -v pdfinfo) >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq --no-install-recommends libreoffice-calc libreoffice-core poppler-utils fonts-dejavu-core)

test: $(STAMP) browser office
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/sqlfluff lint dbt_project
	$(BIN)/python -m pytest

# `make bench`: each layer of a night on 40 reports, then the quick profile of the national benchmark;
# `make bench PROFILE=national`: the whole country's history through the real DAG, with the floors (docs/benchmarks.md).
PROFILE ?= quick
bench: $(STAMP)
	test "$(PROFILE)" != quick || $(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.national --profile $(PROFILE)

template: $(STAMP)
	$(BIN)/chibo template mau_bao_cao.xlsx

lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) var
