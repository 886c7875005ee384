# The two commands of the README: `make run` serves the example app, `make test` runs every test.
# Both create .venv when needed and install the kernel and every plugin (editable) into it.
# Editable installs are "compat" ones: a .pth line putting each source directory on sys.path. The default
# mode's import hooks (one per distribution, importing pathlib) cost 15-20 ms at every start of `uwkernel`.
# The bytecode is compiled at install, as pip does for users, so that the first start does not pay for it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PLUGINS := $(patsubst %/pyproject.toml,%,$(sort $(wildcard plugins/*/pyproject.toml)))
STAMP := $(VENV)/.installed
# uWSGI itself (PyPI `uwsgi`, pinned in bench/requirements.txt, compiled from its sdist: 1-2 minutes) lives in the
# bench venv, never in .venv, where its own uwsgidecorators.py would shadow ours. `make test` builds only uWSGI there.
BENCH_VENV ?= .bench-venv
UWSGI := $(BENCH_VENV)/bin/uwsgi

.PHONY: install run test docs bench clean

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml) uwkernel/proto/_speedups.c Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --config-settings editable_mode=compat \
		-e '.[test]' $(foreach p,$(PLUGINS),-e './$(p)[test]')
	$(PY) -m compileall -q uwkernel $(PLUGINS) uwsgidecorators.py
	touch $@

install: $(STAMP)

run: install
	@echo "Serving examples/app.py: http://127.0.0.1:8080 (HTTP) and 127.0.0.1:3031 (uwsgi protocol)."
	@echo "To put nginx in front:  location / { include uwsgi_params; uwsgi_pass 127.0.0.1:3031; }"
	$(VENV)/bin/uwkernel --ini examples/app.ini

# The tests that run uWSGI next to uwkernel (spool dirs written by one and run by the other, RPC both ways) take
# its path from UWKERNEL_TEST_UWSGI, and fail instead of skipping when that path is not an executable.
test: install $(UWSGI)
	./tools/install-system-deps.sh
	UWKERNEL_TEST_UWSGI=$(abspath $(UWSGI)) $(PY) -m pytest -q $(PYTEST_ARGS)

docs: install
	$(VENV)/bin/uwkernel options --markdown > docs/options.md

$(UWSGI): bench/requirements.txt
	./tools/install-system-deps.sh
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check "$$(grep -E '^uwsgi==' bench/requirements.txt)"
	touch $@

# `make bench`: uWSGI, gunicorn and granian in the bench venv, wrk and nginx from apt-get when missing,
# then bench/run.py measures them next to uwkernel and writes docs/benchmarks.md (bench/README.md).
BENCH_ARGS ?=

$(BENCH_VENV)/.installed: bench/requirements.txt $(UWSGI)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

bench: install $(BENCH_VENV)/.installed
	$(PY) bench/run.py --bench-venv $(BENCH_VENV) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) build *.egg-info plugins/*/*.egg-info uwkernel/proto/*.so
