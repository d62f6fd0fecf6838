# Kanalvakten — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv node-deps run test bench package check eval clean

# The Node programs the real-component tests run (the Teams emulator, Azurite, the browser driver),
# each pinned by its package-lock.json. This is the one place that installs them; without npm it
# says so and the tests that need them skip (or fail under CI=true).
NODE_TOOLS := tools/playground tools/azurite tools/browser
NODE_STAMPS := $(NODE_TOOLS:%=%/node_modules/.installed)

venv: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

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

test: venv node-deps
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

clean:
	rm -rf $(VENV) dist .pytest_cache tests/artifacts $(NODE_TOOLS:%=%/node_modules)
