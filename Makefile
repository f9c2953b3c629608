# The two commands a newcomer needs (README): `make demo` and `make test`. Both set up everything first.
VENV    ?= .venv
PYTHON  ?= python3.11
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed

.PHONY: demo test install browser

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Debian's Chromium for the browser test of the emergency page (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

demo: $(STAMP)
	$(VENV)/bin/toshav demo

# pytest exits 5 when it collects no test: said plainly, and not a failure of the suite.
test: $(STAMP) browser
	@$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc
