# Kanalvakten — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv run test bench package check eval review links clean

venv: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

run: venv
	$(PY) bot.py

test: venv
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
	rm -rf $(VENV) dist .pytest_cache
