# Two commands for a newcomer: `make run` and `make test`.
# Both install whatever is missing: Debian packages, the virtualenv, Python packages.
# `make run` serves two cities (scripts/run-cities): Dongguan on HOST:PORT (var/data) and Zhongshan
# on HOST:ZHONGSHAN_PORT (var/data-zhongshan), partners in cross-region evaluation.
# `make run-dongguan` / `make run-zhongshan` serve one city only.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.txt | cut -c1-16)
DEBIAN_PACKAGES := fonts-wqy-zenhei gettext chromium
HOST ?= 127.0.0.1
PORT ?= 8000
ZHONGSHAN_PORT ?= $(shell echo $$(( $(PORT) + 1 )))

.PHONY: run run-dongguan run-zhongshan test deps debian-deps messages migrate seed chronograph worker clean

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

debian-deps:
	@bash scripts/ensure-debian-packages $(DEBIAN_PACKAGES)

deps: debian-deps $(STAMP)

messages: deps
	$(PY) manage.py compilemessages --ignore=.venv -v 0

# migrate and seed: Dongguan's platform (the default environment); run-cities prepares both cities itself.
migrate: messages
	$(PY) manage.py migrate --noinput -v 0

# The demo world is a sandbox: its tender runs its statutory periods accelerated.
seed run run-dongguan run-zhongshan: export PLATFORM_SANDBOX ?= 1

seed: migrate
	$(PY) manage.py seed_demo

run: messages
	@PY=$(PY) bash scripts/run-cities $(HOST) $(PORT) $(ZHONGSHAN_PORT)

run-dongguan: seed
	@bash scripts/run-platform $(HOST) $(PORT)

run-zhongshan: messages
	@CITIES=zhongshan PY=$(PY) bash scripts/run-cities $(HOST) $(PORT) $(ZHONGSHAN_PORT)

test: deps
	$(PY) manage.py compilemessages --ignore=.venv -v 0
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
