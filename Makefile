# Two commands on a fresh machine (see README): `make demo` and `make test`.
# Each sets up what it needs: a virtual environment in .venv with pidlab and its extras,
# the example third-party plugin, and (for the browser test) Debian's Chromium.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.pidlab-installed

.PHONY: demo test test-slow venv browser bench docs clean

$(STAMP): pyproject.toml plugins/pidlab-mmi/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m pip install --quiet ./plugins/pidlab-mmi
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	touch $(STAMP)

venv: $(STAMP)

# Debian's Chromium for the JupyterLab browser test (Playwright cannot download its own browser here).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "installing chromium (apt)"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-dejavu-core; \
	fi

demo: $(STAMP)
	$(PY) -m pidlab._demo

# The test suite (a few minutes on 2 cores), including a real JupyterLab in headless Chromium.
test: $(STAMP) browser
	$(PY) -m pytest -q -m "not slow"

# The long random sweeps (marked slow); CI runs them after `make test`.
test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# The documentation site (executes the notebooks; warnings are errors): docs/_build/html/index.html
docs: $(STAMP)
	$(PY) -m sphinx -W -T --keep-going -b html docs docs/_build/html

bench: $(STAMP)
	$(PY) benchmarks/bench_broja.py --quick

clean:
	rm -rf $(VENV) build *.egg-info shots
