# Backhaul: `make run` to try it, `make test` to check it. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
MAIL_PORT ?= 1025
FLASK := $(BIN)/flask --app wsgi

.PHONY: install run mail test lint lint-js bench lighthouse load lock lock-upgrade clean

install: $(VENV)/.installed-python node_modules/.installed-npm app/static/vendor/.installed

# Python packages come from requirements-test.lock: every version pinned, every file's hash checked,
# so each install (a developer's, CI's, a server's) gets the same bytes. pyproject.toml keeps the
# ranges; `make lock` writes the lock from them. The package itself is installed without its
# dependencies (the lock has them all), and `pip check` stops a lock that no longer fits pyproject.toml.
$(VENV)/.installed-python: pyproject.toml requirements-test.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-test.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@$(BIN)/pip check --disable-pip-version-check || { echo "requirements-test.lock does not fit pyproject.toml: run make lock"; exit 1; }
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
# With no SMTP_HOST of your own, customer emails go to the local mail server of `make mail`,
# which `make run` starts beside the web server and the outbox worker.
run: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)
run: export SMTP_HOST ?= 127.0.0.1
run: export SMTP_PORT ?= $(MAIL_PORT)
run: export SMTP_SECURITY ?= none
run: export OUTBOX_POLL_SECONDS ?= 1
run: install
	$(FLASK) db upgrade
	$(FLASK) demo-data --if-empty
	@echo ""
	@echo "Backhaul is starting on http://127.0.0.1:$(PORT)/"
	@echo "  Dispatcher console: http://127.0.0.1:$(PORT)/dispatch/"
	@echo "  Driver app (PWA):   http://127.0.0.1:$(PORT)/driver/  (open it in a phone-sized window)"
	@echo "  API document:       http://127.0.0.1:$(PORT)/api/v1/openapi.json"
	@echo "  Outbox:             http://127.0.0.1:$(PORT)/dispatch/outbox  (emails print below as [mail], kept in instance/mail/)"
	@echo ""
	@# One process group: Ctrl-C stops the web server, the outbox worker and the local mail server together.
	@trap 'kill 0' INT TERM EXIT; \
	if [ "$$SMTP_HOST" = 127.0.0.1 ] && [ "$$SMTP_PORT" = "$(MAIL_PORT)" ]; then $(BIN)/python scripts/mail_server.py --port $(MAIL_PORT) & fi; \
	$(FLASK) outbox work & \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# A local SMTP server that prints every email and keeps it in instance/mail/ (nothing is relayed).
mail: install
	$(BIN)/python scripts/mail_server.py --port $(MAIL_PORT)

test: install
	$(BIN)/pytest

# ruff (pyflakes, import order, bugbear, pyupgrade) and mypy on app/; CI runs it before the tests.
lint: install lint-js
	$(BIN)/ruff check app tests bench scripts wsgi.py
	$(BIN)/mypy

# The driver app's JS and the hub's camera scanner (which imports it): TypeScript's checker
# (pinned in package-lock.json) over every module, once as a window sees it and once as the
# service worker does (no DOM).
# Every module must opt in with // @ts-check.
lint-js: node_modules/.installed-npm
	@missing=$$(grep -L '^// @ts-check' app/static/driver/*.js app/static/driver/screens/*.js app/static/js/hub/*.js); \
	  if [ -n "$$missing" ]; then echo "missing // @ts-check: $$missing"; exit 1; fi
	node_modules/.bin/tsc -p jsconfig.json
	node_modules/.bin/tsc -p tsconfig.sw.json

bench: install
	$(BIN)/python -m bench

# Lighthouse (npm, pinned) on the driver's route page of a 200-stop day, logged in and synced, with
# Debian's chromium on loopback: performance, accessibility, best-practices. About a minute, so apart.
lighthouse: install
	$(BIN)/python -m bench.lighthouse

# The end-of-shift wave against gunicorn on PostgreSQL (LOAD_DATABASE_URL or TEST_DATABASE_URL, else the
# local "test" database; a private schema, dropped after), loopback only, bounded by LOAD_SECONDS.
# LOAD_DRIVERS (20), LOAD_PICKUPS (40 a day); LOAD_BASELINE=<checkout> measures it first, for ratios.
load: install
	$(BIN)/python bench/load.py

# Rewrite the lock files after a change of pyproject.toml, keeping locked versions that still fit;
# lock-upgrade takes the newest versions the ranges allow. Commit both files with pyproject.toml.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python scripts/lock.py

lock-upgrade:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python scripts/lock.py --upgrade

clean:
	rm -rf $(VENV) node_modules app/static/vendor .pytest_cache
