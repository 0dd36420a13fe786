# The two commands of the README: `make demo` and `make test`.
# Each builds the virtual environment itself on a fresh machine.

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
SUDO    := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
CHROMIUM := /usr/bin/chromium
IPROUTE  := /usr/sbin/ip

.PHONY: demo test lint venv browser bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	python3 -c 'import sys; assert sys.version_info >= (3, 12), "demandsim needs Python >= 3.12 (see .python-version)"'
	@echo "[1/3] creating the virtual environment in $(VENV)/"
	python3 -m venv $(VENV)
	@echo "[2/3] installing demandsim and its dependencies (about 2-4 minutes on a fresh clone)"
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install --progress-bar on -e '.[dev]'  # one line per package it collects
	@echo "[3/3] compiling the model's kernels into numba's cache (about 1-2 minutes, once)"
	$(PY) -m sim.precompile  # prints each kernel family as it compiles, with an estimate
	touch $(STAMP)

# Debian's Chromium drives the dashboard and classroom tests (Playwright cannot download
# browsers here); iproute2 makes the classroom test's room network (network namespaces)
# and openssl its TLS certificate.
browser: $(CHROMIUM) $(IPROUTE) /usr/bin/openssl

$(CHROMIUM) $(IPROUTE) /usr/bin/openssl:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium iproute2 openssl >/dev/null

lint: $(STAMP)
	$(VENV)/bin/ruff check sim analysis demandsim tests benchmarks
	$(VENV)/bin/ruff format --check sim analysis demandsim tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: $(STAMP) browser lint
	$(VENV)/bin/pytest -q

demo: $(STAMP)
	@echo "demo: comparing baseline with insensitive-platform (20 paired runs of 260 weeks)"
	$(VENV)/bin/demandsim compare baseline insensitive-platform --reps 20 --steps 260 --out out/demo
	$(VENV)/bin/demandsim report out/demo
	@echo "Open it in a browser: $(PY) -m webbrowser out/demo/report.html"

bench: $(STAMP)
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
