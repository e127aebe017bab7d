# gssmech — see README.md.  `make demo` and `make test` set up everything they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# A fresh Debian has no Python, compiler or headers: the venv, the plugin (it embeds libpython)
# and python-gssapi (built from source against libkrb5-dev) need them.
APT_PACKAGES := python3 python3-venv python3-dev gcc libc6-dev \
                krb5-kdc krb5-pkinit krb5-admin-server krb5-user libkrb5-dev krb5-gss-samples \
                sasl2-bin libsasl2-modules-gssapi-mit valgrind strace nginx openssl
PYTEST_ARGS ?=

.PHONY: all apt venv test lint demo bench clean

all: venv

# Debian packages for the real peers (MIT KDC with PKINIT, kinit/klist/kvno/ktutil, headers that
# python-gssapi builds against).  Installed only when one is missing; needs root or sudo.
apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  SUDO=""; \
	  if [ "$$(id -u)" != 0 ]; then \
	    command -v sudo >/dev/null || { \
	      echo "make apt: these Debian packages are missing:$$missing" >&2; \
	      echo "make apt: run make as root once (or install and configure sudo)" >&2; exit 1; }; \
	    SUDO=sudo; \
	  fi; \
	  echo "installing:$$missing"; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: setup.py | apt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

venv: apt $(VENV)/.installed

test: venv
	$(PY) -m ruff check --quiet .
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: venv
	$(PY) -m ruff check .

demo: venv
	$(PY) -m gssmech.cli demo

bench: venv
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
