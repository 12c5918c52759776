PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-workers loadtest clean

# A key kept in a git-ignored file, so that local sessions survive restarts.
.secret_key:
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(STAMP) .secret_key
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat .secret_key)}" $(PY) manage.py runlocal

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/bench_enhance.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache

# Worker throughput against the emulator behind a delaying proxy (BENCH_QUICK=1: short run).
bench-workers: $(STAMP)
	$(PY) bench/bench_workers.py

# The whole site under Locust's users (gunicorn, workers, reconciler, moto); LOADTEST_ARGS to tune.
loadtest: $(STAMP)
	$(PY) bench/loadtest.py $(LOADTEST_ARGS)
