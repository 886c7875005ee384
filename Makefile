# The two commands of the README: `make run` serves the example app, `make test` runs every test.
# Both create .venv when needed and install the kernel and every plugin (editable) into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PLUGINS := $(patsubst %/pyproject.toml,%,$(sort $(wildcard plugins/*/pyproject.toml)))
STAMP := $(VENV)/.installed

.PHONY: install run test docs bench clean

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml) Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]' $(foreach p,$(PLUGINS),-e './$(p)[test]')
	touch $@

install: $(STAMP)

run: install
	@echo "Serving examples/app.py: http://127.0.0.1:8080 (HTTP) and 127.0.0.1:3031 (uwsgi protocol)."
	@echo "To put nginx in front:  location / { include uwsgi_params; uwsgi_pass 127.0.0.1:3031; }"
	$(VENV)/bin/uwkernel --ini examples/app.ini

test: install
	./tools/install-system-deps.sh
	$(PY) -m pytest -q $(PYTEST_ARGS)

docs: install
	$(VENV)/bin/uwkernel options --markdown > docs/options.md

# `make bench`: uWSGI, gunicorn and granian in their own venv, wrk and nginx from apt-get when missing,
# then bench/run.py measures them next to uwkernel and writes docs/benchmarks.md (bench/README.md).
BENCH_VENV ?= .bench-venv
BENCH_ARGS ?=

$(BENCH_VENV)/.installed: bench/requirements.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

bench: install $(BENCH_VENV)/.installed
	$(PY) bench/run.py --bench-venv $(BENCH_VENV) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) build *.egg-info plugins/*/*.egg-info
