# Backhaul: `make run` to try it, `make test` to check it. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.PHONY: install run test lint lint-js bench clean

install: $(VENV)/.installed-python node_modules/.installed-npm app/static/vendor/.installed

$(VENV)/.installed-python: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

node_modules/.installed-npm: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Front-end libraries come from npm (pinned in package-lock.json) and are copied
# next to our own static files, so the app never loads anything from a CDN.
app/static/vendor/.installed: node_modules/.installed-npm scripts/vendor_assets.py
	$(BIN)/python scripts/vendor_assets.py
	touch $@

# The customer links that demo-data prints must point at the port we serve on.
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
run: install
	$(FLASK) db upgrade
	$(FLASK) demo-data --if-empty
	@echo ""
	@echo "Backhaul is starting on http://127.0.0.1:$(PORT)/"
	@echo "  Dispatcher console: http://127.0.0.1:$(PORT)/dispatch/"
	@echo "  Driver app (PWA):   http://127.0.0.1:$(PORT)/driver/  (open it in a phone-sized window)"
	@echo "  API document:       http://127.0.0.1:$(PORT)/api/v1/openapi.json"
	@echo ""
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install
	$(BIN)/pytest

# ruff (pyflakes, import order, bugbear, pyupgrade) and mypy on app/; CI runs it before the tests.
lint: install lint-js
	$(BIN)/ruff check app tests bench scripts wsgi.py
	$(BIN)/mypy

# The driver app's JS: TypeScript's checker (pinned in package-lock.json) over every
# module, once as a window sees it and once as the service worker does (no DOM).
# Every module must opt in with // @ts-check.
lint-js: node_modules/.installed-npm
	@missing=$$(grep -L '^// @ts-check' app/static/driver/*.js app/static/driver/screens/*.js); \
	  if [ -n "$$missing" ]; then echo "missing // @ts-check: $$missing"; exit 1; fi
	node_modules/.bin/tsc -p jsconfig.json
	node_modules/.bin/tsc -p tsconfig.sw.json

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules app/static/vendor .pytest_cache
