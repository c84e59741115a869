# The two commands of the README: `make up` (the dev stack on local Docker) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: up test bench bench-quick render lint venv clean

up:
	@scripts/up.sh

test: venv
	$(PY) -m pyright
	$(PY) -m pytest

# Load benchmarks (not part of `make test`): writes bench/results/. Needs nginx, redis-server, wrk, hey and cc.
bench: venv
	$(PY) -m bench.run

# The main targets in under a minute: writes bench/results/quick.json only.
bench-quick: venv
	$(PY) -m bench.run --quick

lint: venv
	$(PY) -m pyright

render: venv
	$(PY) -m tools.render --stack $(STACK) --out build/$(STACK)

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt backend/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

clean:
	rm -rf build .pytest_cache .hypothesis
