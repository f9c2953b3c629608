# The two commands a newcomer needs (README): `make demo` and `make test`. Both set up everything first,
# from the lock file (uv.lock): a fresh machine gets exactly the versions the tests passed with.
PYTHON     ?= python3.11
UV_VERSION := 0.13.8
TOOLS      := .tools
UV         := $(TOOLS)/bin/uv
VENV       := .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed
# uv never downloads an interpreter: it uses the machine's Python 3.11.
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test test-fast install browser services lock-upgrade

install: $(STAMP)

$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev --python $(PYTHON) --quiet
	touch $(STAMP)

# One line to move every dependency to the newest release its range in pyproject.toml allows; then run `make test`.
lock-upgrade: | $(UV)
	$(UV) lock --upgrade --python $(PYTHON)

# Debian's Chromium for the browser test of the emergency page (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

# Debian's PostgreSQL for the deployment tests (tests/runs/services.py starts a throwaway cluster on a free loopback
# port; the system's own cluster is not used or started).
services:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi; }

demo: $(STAMP)
	$(VENV)/bin/toshav demo

# pytest exits 5 when it collects no test: said plainly, and not a failure of the suite.
test: $(STAMP) browser services
	@$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

# The developer's loop: everything but the end-to-end and browser tests.
test-fast: $(STAMP)
	@$(PY) -m pytest -m "not e2e and not browser" -p no:cacheprovider; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc
