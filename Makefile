# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The demo runs on a SQLite file with eager Celery; the tests on PostgreSQL and Redis.
# The demo's e-mails are written as files under demo-mail/ instead of flooding the console;
# its incidents have fixed dates (Oct-Nov 2026), so its filing window is wide open.
# DEMO_PORT moves the demo (`make demo DEMO_PORT=8100`); the links it prints and mails follow.
DEMO_PORT ?= 8000
DEMO_ENV := DATABASE_URL=sqlite:///$(CURDIR)/demo.sqlite3 CELERY_TASK_ALWAYS_EAGER=1 \
	EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend CLAIMS_FILING_WINDOW_DAYS=3650 \
	SITE_URL=http://127.0.0.1:$(DEMO_PORT)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/claims
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=
# Two pytest-xdist workers, each with its own PostgreSQL and Redis database: much of the suite waits
# on Chromium, Celery workers and the monitoring programs, so two processes fit two cores.
PYTEST_WORKERS ?= 2

.PHONY: demo test lint messages bench system-deps services

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

demo: $(VENV)/.installed
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py seed_demo
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:$(DEMO_PORT)

system-deps:
	scripts/system_deps.sh

services:
	scripts/services.sh

test: $(VENV)/.installed-dev system-deps services
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) CELERY_RESULT_BACKEND=$(TEST_BROKER_URL) \
		$(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Rebuild the message catalogues (needs gettext); the compiled .mo files are committed.
messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=bench --ignore=tests --ignore=artifacts --ignore=media --ignore=staticfiles
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

bench: $(VENV)/.installed-dev services
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(PY) bench/run_all.py
