# Kanalvakten — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Locks: requirements.txt (runtime) and requirements-dev.txt (runtime + test/lint tools), every
# transitive version pinned with hashes, compiled by uv (pinned in requirements-dev.in) from the
# *.in files. Edit the .in files, then `make lock` (`make lock UPGRADE=--upgrade` to take newer
# releases of the unpinned transitive packages).
LOCKS := requirements.txt requirements-dev.txt
UPGRADE ?=
COMPILE := $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(UPGRADE)

.PHONY: venv lock lint node-deps run test bench package check eval review links clean

# The Node programs the real-component tests run (the Teams emulator, Azurite, the browser driver),
# each pinned by its package-lock.json. This is the one place that installs them; without npm it
# says so and the tests that need them skip (or fail under CI=true).
NODE_TOOLS := tools/playground tools/azurite tools/browser
NODE_STAMPS := $(NODE_TOOLS:%=%/node_modules/.installed)

venv: $(STAMP)

# Any change to a lock reinstalls; pip refuses a package whose hash is not in the lock.
$(STAMP): $(LOCKS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	touch $(STAMP)

lock: venv
	$(COMPILE) -o requirements.txt requirements.in
	$(COMPILE) -o requirements-dev.txt requirements-dev.in

# ruff (lint + format check) and mypy; configuration in pyproject.toml.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

node-deps: $(NODE_STAMPS)

tools/%/node_modules/.installed: tools/%/package.json tools/%/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		echo "npm ci in tools/$*"; \
		cd tools/$* && npm ci --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules/.installed; \
	else \
		echo "npm not found: the tests that need tools/$* will skip (apt-get install nodejs npm, Node >= 20)" >&2; \
	fi

run: venv
	$(PY) bot.py

# The lint gate (ruff check, ruff format --check, mypy) runs first: an unformatted or mistyped tree
# fails `make test`, and so CI.
test: venv node-deps
	$(MAKE) --no-print-directory lint
	$(PY) -m knowledge check
	$(PY) -m pytest -q

bench: venv
	$(PY) -m benchmarks

package: venv
	$(PY) -m manifest build

check: venv
	$(PY) -m knowledge check

eval: venv
	$(PY) -m knowledge eval ../shared/eval/dev.jsonl

review: venv
	$(PY) -m knowledge review

links: venv
	$(PY) -m knowledge links --check

clean:
	rm -rf $(VENV) dist .pytest_cache tests/artifacts $(NODE_TOOLS:%=%/node_modules)
