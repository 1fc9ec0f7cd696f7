# make run: set up and serve on http://127.0.0.1:8000 with the embedded store (no Redis needed).
# make test: set up and run the whole suite on fakeredis (REDIS_URL=redis://... for a real Redis).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint clean bench bench-remote bench-tools soak

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/wallet serve

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache

# make bench: the load benchmark; installs wrk and redis-server from Debian's packages when missing.
bench: install
	@command -v wrk >/dev/null && command -v redis-server >/dev/null || $(MAKE) --no-print-directory bench-tools
	$(BIN)/python bench/run.py

# make bench-remote: the worker-model study with Redis ~1 ms away (bench/REMOTE.md); needs cc.
bench-remote: install
	@command -v wrk >/dev/null && command -v redis-server >/dev/null || $(MAKE) --no-print-directory bench-tools
	$(BIN)/python bench/remote.py

# make soak: sustained play on a capped Redis with a short retention; prints memory over time.
soak: install
	@command -v wrk >/dev/null && command -v redis-server >/dev/null || $(MAKE) --no-print-directory bench-tools
	$(BIN)/python bench/soak.py

bench-tools:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing wrk and redis-server"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk redis-server >/dev/null; \
	else echo "the benchmark needs wrk and redis-server: sudo apt-get install wrk redis-server"; exit 1; fi
