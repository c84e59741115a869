# The commands of the README: `make up` / `make down` (the dev stack on local Docker) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CHECKOV_VENV ?= .venv-checkov
STACK ?= dev
RENDER_OUT ?= build/$(STACK)

.PHONY: up preview down test bench bench-quick render lint venv checkov-venv clean dashboard-png

up:
	@scripts/up.sh

# What `make up` would change (pulumi preview --diff), on the daemon `make up` uses.
preview:
	@scripts/preview.sh

# Removes the dev stack's containers and network, keeps the data volumes (README "Teardown").
down:
	@scripts/down.sh

# pyright runs beside the tests: the live tests spend much of their time waiting (drains, fail_timeouts), and
# pyright's 20 s then fit into cores they leave idle. Either failing fails the target.
test: venv checkov-venv
	@$(PY) -m pyright > .pyright.log 2>&1 & pyright=$$!; \
	$(PY) -m pytest -n 2 --dist loadfile; tests=$$?; \
	wait $$pyright; types=$$?; cat .pyright.log; rm -f .pyright.log; \
	exit $$(( tests || types ))

# Load benchmarks (not part of `make test`): writes bench/results/. Needs nginx, redis-server, wrk, hey and cc.
bench: venv
	$(PY) -m bench.run

# docs/dashboard.png from a live run (real Prometheus, nginx, exporter, backends); needs the live suite's tools.
dashboard-png: venv
	BRAIN_DASHBOARD_PNG=docs/dashboard.png $(PY) -m pytest tests/live/test_monitoring_live.py -q
# The main targets in under a minute: writes bench/results/quick.json only.
bench-quick: venv
	$(PY) -m bench.run --quick

lint: venv
	$(PY) -m pyright

render: venv
	$(PY) -m tools.render --stack $(STACK) --out $(RENDER_OUT)

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt backend/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

# checkov (tests/scans/test_checkov.py) in a venv of its own: its pins conflict with the Pulumi SDKs'.
checkov-venv: $(CHECKOV_VENV)/.installed

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

clean:
	rm -rf build .pytest_cache .hypothesis
