# tinyunix: `make demo` runs a demo guest, `make test` runs the suite.
# Both set everything up first (venv, package with its C glue, guests).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup guests demo test bench clean conformance

setup: $(STAMP) guests

$(STAMP): pyproject.toml setup.py emu/_uchook.c
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

guests:
	$(MAKE) -C guest

demo: setup
	$(VENV)/bin/tinyunix run --stats guest/build/forktree

test: setup
	$(PY) -m pytest -q

bench: setup
	$(MAKE) -C bench
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) guest/build bench/build build *.egg-info emu/*.so

# The Open POSIX Test Suite natively and under tinyunix (LTP outside the
# repo: LTP=/path/to/ltp); writes bench/CONFORMANCE.md.  Not part of `test`.
conformance: setup
	$(PY) bench/conformance.py $(if $(LTP),--ltp $(LTP))
