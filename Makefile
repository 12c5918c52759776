PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Two stamps: `make run` needs only the runtime, `make test` adds the dev tools.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
# `make dist VERSION=1.2.0`: the release artifact the stack's instances install.
VERSION ?= $(shell git describe --tags --always)

.PHONY: run test lint bench bench-quality bench-upload bench-workers loadtest dist clean

# A key kept in a git-ignored file, so that local sessions survive restarts.
.secret_key:
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The `cloudsite` client (client/) goes into the same venv: `make run`, then `cloudsite calc 1 2 3`.
$(RUN_STAMP): requirements.txt client/pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet -e ./client
	touch $@

$(DEV_STAMP): $(RUN_STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(RUN_STAMP) .secret_key
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat .secret_key)}" $(PY) manage.py runlocal

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .

# cfn-lint and shellcheck of deploy/ run as tests (tests/deploy/test_lint.py).
test: lint
	$(PY) -m pytest

bench: $(DEV_STAMP)
	$(PY) bench/bench_enhance.py

# CloudPic against Pillow's and scikit-image's simple peers on degraded sample photos.
bench-quality: $(DEV_STAMP)
	$(PY) bench/bench_quality.py

# The committed tree at HEAD (never uncommitted files) and the wheels the instances
# install (a hashed lock; the emulator left out) as dist/cloudsite-VERSION.tar.gz.
dist:
	PIP="$(PYTHON) -m pip" deploy/build-release.sh $(VERSION)

bench-upload: $(DEV_STAMP)
	$(PY) bench/bench_upload_memory.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache dist

# Worker throughput against the emulator behind a delaying proxy (BENCH_QUICK=1: short run).
bench-workers: $(DEV_STAMP)
	$(PY) bench/bench_workers.py

# The whole site under Locust's users (gunicorn, workers, reconciler, moto); LOADTEST_ARGS to tune.
loadtest: $(DEV_STAMP)
	$(PY) bench/loadtest.py $(LOADTEST_ARGS)
