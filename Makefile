# tao-arena: `make run` (the main job) and `make test` (the whole suite) set everything up.
# The interpreter: PYTHON=... if given, else the first Python >= 3.12 found on PATH,
# else a pyenv-installed one.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed

define find_python
for c in $(PYTHON) python3.14 python3.13 python3.12 python3 python; do \
  if command -v "$$c" >/dev/null 2>&1 && "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
    command -v "$$c"; exit 0; fi; \
done; \
if command -v pyenv >/dev/null 2>&1; then \
  for v in $$(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])(\.|$$)' | sort -rV); do \
    p="$$(pyenv root)/versions/$$v/bin/python"; \
    if [ -x "$$p" ] && "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo "$$p"; exit 0; fi; \
  done; \
fi; \
exit 1
endef

.PHONY: run test setup lint bench clean

$(STAMP): pyproject.toml
	@py="$$( $(find_python) )" || { echo "tao-arena needs Python 3.12 or newer: install python3.12 (or newer) or pass PYTHON=/path/to/python3.12" >&2; exit 1; }; \
	echo "using $$py"; \
	[ -x $(PY) ] || "$$py" -m venv $(VENV); \
	$(PY) -m pip install --quiet --upgrade pip && \
	$(PY) -m pip install --quiet -e '.[dev]' && touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/tao-arena main

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) bench/bench_yuma.py

clean:
	rm -rf $(VENV) build *.egg-info
