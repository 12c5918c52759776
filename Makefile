# The newest Python >= 3.11 on PATH (3.11, 3.12 and 3.13 are tested), or PYTHON=/path/to/python.
# Each candidate is run, not just found: a pyenv shim exists for versions it will not run.
PYTHON ?= $(shell for v in 3.14 3.13 3.12 3.11; do \
	python$$v -c '' >/dev/null 2>&1 && { echo python$$v; exit 0; }; done; \
	python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo python3)
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
# Two stamps: `make run` needs only the runtime, `make test` adds the dev tools.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
# `make dist VERSION=1.2.0`: the release artifact the stack's instances install.
VERSION ?= $(shell git describe --tags --always)

.PHONY: run test lint chromium token password bench bench-quality bench-upload bench-workers \
	loadtest dist clean

# A key kept in a git-ignored file, so that local sessions survive restarts.
.secret_key: | $(PY)
	$(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

$(PY):
	@test -n "$(PYTHON)" || { echo "No Python 3.11 or newer found. Install one (Debian:" \
	  "apt-get install python3 python3-venv) or name it: make PYTHON=/path/to/python3.12" >&2; \
	  exit 1; }
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

# manage.py reads .secret_key itself when DJANGO_SECRET_KEY is unset (local settings only).
run: $(RUN_STAMP) .secret_key
	$(PY) manage.py runlocal --port $(PORT)

# An API token for the admin account (`make run` creates it): TOKEN=$$(make -s token)
token: $(RUN_STAMP) .secret_key
	@$(PY) manage.py create_api_token admin

# A new password for the admin account, asked for twice.
password: $(RUN_STAMP) .secret_key
	$(PY) manage.py changepassword admin

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .

# cfn-lint and shellcheck of deploy/ run as tests (tests/deploy/test_lint.py).
test: chromium lint
	$(PY) -m pytest

# The browser tests drive Debian's Chromium, which pip cannot install: apt-get it as root,
# else stop before the tests with the one command to run.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "The browser tests need Chromium at /usr/bin/chromium. Run:" \
	      "sudo apt-get install -y chromium" >&2; exit 1; \
	  fi; }

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
